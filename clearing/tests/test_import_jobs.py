"""An import job that cannot finish leaves its batch failed with the reason, never “校验中”."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from clearing import jobs as clearing_jobs
from clearing.models import ImportBatch, Settlement
from clearing.tests.factories import Row, csv_text
from core import jobs
from core.models import AuditLog, Job

pytestmark = pytest.mark.django_db


def _upload(client, capture):
    file = SimpleUploadedFile("s.csv", csv_text([Row("U1")]).encode("gb18030"), content_type="text/csv")
    with capture(execute=True):
        return client.post(reverse("clearing:import_list"), {"file": file})


def test_a_crashing_check_leaves_the_batch_failed_with_the_reason(client, clearing_officer, monkeypatch, django_capture_on_commit_callbacks):
    import clearing.importers

    def crash(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(clearing.importers, "import_file", crash)
    client.force_login(clearing_officer)
    _upload(client, django_capture_on_commit_callbacks)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.file_error.startswith("校验未完成：") and "意外错误（MemoryError）" in batch.file_error
    assert "文件中的数据均未写入" in batch.file_error
    assert AuditLog.objects.filter(object_id=str(batch.pk), from_state="checking", to_state="failed", username="系统（后台任务）").exists()
    page = client.get(reverse("clearing:import_detail", args=[batch.pk])).content.decode()
    assert "导入失败" in page and "意外错误（MemoryError）" in page


def test_a_check_that_cannot_be_queued_leaves_the_batch_failed(client, clearing_officer, monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(job_id):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(jobs, "_dispatch", broker_down)
    client.force_login(clearing_officer)
    _upload(client, django_capture_on_commit_callbacks)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED and jobs.BROKER_DOWN in batch.file_error
    assert batch.job.status == Job.Status.FAILED


def test_an_import_whose_worker_died_twice_leaves_the_batch_failed_and_importable_again(
    client, clearing_officer, settings, django_capture_on_commit_callbacks
):
    client.force_login(clearing_officer)
    _upload(client, django_capture_on_commit_callbacks)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.CHECKED
    # The confirmation's job was taken by a worker that was then killed, on its last run.
    long_ago = timezone.now() - timedelta(minutes=10)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.IMPORTING)
    job = Job.objects.create(
        kind="clearing.import_settlements", title="导入", params={"batch_id": batch.pk, "commit": True},
        status=Job.Status.RUNNING, attempts=settings.YIDI_JOB_MAX_ATTEMPTS, started_at=long_ago, heartbeat_at=long_ago,
    )
    ImportBatch.objects.filter(pk=batch.pk).update(job=job)
    assert jobs.recover_stale_jobs()["failed"] == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.file_error.startswith("导入未完成，文件中的数据均未写入：执行任务的工作进程意外终止")
    assert not Settlement.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("clearing:import_detail", args=[batch.pk]))  # try again
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED and Settlement.objects.count() == 1


def test_a_failure_of_a_batch_no_longer_busy_changes_nothing(clearing_officer):
    batch = ImportBatch.objects.create(filename="s.csv", status=ImportBatch.Status.IMPORTED)
    job = Job.objects.create(kind="clearing.import_settlements", title="导入", params={"batch_id": batch.pk})
    clearing_jobs.release_import_batch(job, "原因")
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED and batch.file_error == ""
