"""Storage settings from the environment, and reading stored files on local disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from clearing.models import ImportBatch
from config.storage import s3_options, s3_storage_setting
from core.storage import local_path


def test_without_a_bucket_files_stay_on_local_disk():
    assert s3_storage_setting({}) is None
    assert s3_storage_setting({"YIDI_S3_ENDPOINT_URL": "http://minio:9000"}) is None


def test_a_bucket_with_an_endpoint_uses_path_style_private_objects_and_never_overwrites():
    setting = s3_storage_setting({
        "YIDI_S3_BUCKET": "yidi", "YIDI_S3_ENDPOINT_URL": "http://minio.internal:9000",
        "YIDI_S3_ACCESS_KEY": "key", "YIDI_S3_SECRET_KEY": "secret", "YIDI_S3_PREFIX": "/media/",
    })
    options = setting["OPTIONS"]
    assert setting["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["bucket_name"] == "yidi" and options["endpoint_url"] == "http://minio.internal:9000"
    assert options["client_config"].s3 == {"addressing_style": "path"}
    assert options["default_acl"] is None and options["file_overwrite"] is False and options["location"] == "media"


def test_oss_and_cos_can_ask_for_virtual_hosted_addressing_and_a_bad_style_is_refused():
    env = {"YIDI_S3_BUCKET": "yidi", "YIDI_S3_ENDPOINT_URL": "https://oss-cn-hangzhou.aliyuncs.com"}
    assert s3_options({**env, "YIDI_S3_ADDRESSING_STYLE": "virtual"})["client_config"].s3 == {"addressing_style": "virtual"}
    with pytest.raises(ValueError, match="YIDI_S3_ADDRESSING_STYLE"):
        s3_options({**env, "YIDI_S3_ADDRESSING_STYLE": "sideways"})


@pytest.mark.django_db
def test_on_local_disk_the_importer_reads_the_stored_file_itself_not_a_copy(settings):
    """The settlement COPY fast path is not slowed on one machine: no download, no temporary copy."""
    if settings.STORAGES["default"]["BACKEND"] != "django.core.files.storage.FileSystemStorage":
        pytest.skip("this run stores files on S3 (YIDI_S3_BUCKET)")
    name = default_storage.save("clearing/imports/x.csv", ContentFile(b"a,b\n"))
    batch = ImportBatch(filename="x.csv")
    batch.file.name = name
    with local_path(batch.file) as path:
        assert path == Path(settings.MEDIA_ROOT) / name



def test_import_previews_of_django_import_export_wait_in_the_shared_storage_not_a_hosts_tmp():
    """An admin import's preview and its confirmation may reach different web hosts."""
    from types import SimpleNamespace

    from import_export.admin import ImportMixin
    from import_export.tmp_storages import MediaStorage

    assert ImportMixin.get_tmp_storage_class(SimpleNamespace(tmp_storage_class=None)) is MediaStorage
