"""Several hosts share files through an S3-compatible server (issue 15): a worker on one
host stores, the web on another reads; a settlement import runs from an upload kept in the
bucket; documents download through the view. Runs against the server .ci/run starts
(moto_server on 127.0.0.1:9112) or whatever YIDI_S3_TEST_ENDPOINT_URL names; skips
without one, except under CI=true (core/tests/s3.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clearing import importers
from clearing.models import ImportBatch, Settlement
from clearing.tests.factories import Row, csv_text
from config.storage import s3_options
from core.models import Document, Job
from core.storage import filesystem_path
from core.tests import s3

pytestmark = [pytest.mark.s3, pytest.mark.django_db]


@pytest.fixture
def bucket():
    env = s3.new_bucket(s3.require_endpoint())
    yield env
    s3.drop_bucket(env)


def be_host(settings, tmp_path: Path, env: dict, name: str) -> Path:
    """This process now plays host `name`: an empty local media folder of its own and a
    storage configured afresh from that host's YIDI_S3_* variables."""
    media = tmp_path / name
    settings.MEDIA_ROOT = media
    settings.STORAGES = {**settings.STORAGES, "default": s3.storage_setting(env)}
    return media


def local_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def test_a_document_a_worker_stores_is_read_by_the_web_on_another_host(
    bucket, settings, tmp_path, client, administrator, django_capture_on_commit_callbacks
):
    worker_media = be_host(settings, tmp_path, bucket, "worker")
    client.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("selftest"))
    job = Job.objects.get()
    assert response.status_code == 302 and job.status == Job.Status.DONE, job.error
    document = Document.objects.get(job=job)
    assert document.file.name in s3.keys(bucket)
    assert local_files(worker_media) == []  # nothing on the worker's own disk

    # The web host: its own process settings, its own client, nothing shared but the bucket.
    from storages.backends.s3 import S3Storage

    web = S3Storage(**s3_options(dict(bucket)))
    assert filesystem_path(web, document.file.name) is None
    with web.open(document.file.name, "rb") as handle:
        content = handle.read()
    assert hashlib.sha256(content).hexdigest() == document.sha256 and content.startswith(b"%PDF")


def test_regenerating_a_key_keeps_every_version_in_the_bucket(bucket, settings, tmp_path):
    from core.documents import store_document

    be_host(settings, tmp_path, bucket, "worker")
    first = store_document(kind="selftest", key="s3:versions", title="v", filename="同名.pdf", content=b"%PDF one")
    second = store_document(kind="selftest", key="s3:versions", title="v", filename="同名.pdf", content=b"%PDF two")
    assert first.file.name != second.file.name and {first.file.name, second.file.name} <= set(s3.keys(bucket))
    first.refresh_from_db()
    assert first.file.read() == b"%PDF one" and second.file.read() == b"%PDF two"


def test_a_settlement_file_uploaded_on_the_web_is_imported_by_a_worker_from_the_bucket(
    bucket, settings, tmp_path, client, clearing_officer, django_capture_on_commit_callbacks, monkeypatch
):
    web_media = be_host(settings, tmp_path, bucket, "web")
    client.force_login(clearing_officer)
    upload = SimpleUploadedFile(
        "settlements.csv", csv_text([Row("S3A"), Row("S3B", "320100", "110000")]).encode("gb18030"), content_type="text/csv"
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("clearing:import_list"), {"file": upload})
    batch = ImportBatch.objects.get()
    assert batch.file.name in s3.keys(bucket) and local_files(web_media) == []
    assert batch.status == ImportBatch.Status.CHECKED, batch.file_error

    # The worker host downloads a temporary copy (the importer needs a real path) and drops it after.
    worker_media = be_host(settings, tmp_path, bucket, "worker")
    read_from = []
    real_import = importers.import_file

    def recording(path, **kwargs):
        read_from.append(Path(path))
        assert Path(path).is_file()
        return real_import(path, **kwargs)

    monkeypatch.setattr(importers, "import_file", recording)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("clearing:import_detail", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED, batch.file_error
    assert set(Settlement.objects.values_list("settlement_id", flat=True)) == {"S3A", "S3B"}
    assert read_from and not read_from[-1].exists()  # the temporary copy is gone
    assert not read_from[-1].is_relative_to(worker_media) and local_files(worker_media) == []


def test_a_document_downloads_through_the_view_on_another_host(bucket, settings, tmp_path, client, administrator):
    from core.documents import store_document

    be_host(settings, tmp_path, bucket, "worker")
    document = store_document(
        kind="selftest", key="s3:download", title="样表", filename="样表.pdf", content=b"%PDF stored on S3", by=administrator
    )
    web_media = be_host(settings, tmp_path, bucket, "web")
    client.force_login(administrator)
    response = client.get(reverse("document_download", args=[document.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF stored on S3"
    assert "attachment" in response["Content-Disposition"]
    assert local_files(web_media) == []

