"""Crafted and oversized files on every clearing import (settlement upload and
command, allotment upload): a Chinese refusal, nothing written, nothing stuck."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from clearing.importers import import_file
from clearing.models import CrossAllotment, ImportBatch, Settlement
from clearing.tests.factories import Row, write_xlsx
from core.tests import bombs
from core.tests.test_safe_files import calamine_must_not_run  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

REFUSALS = ("XLSX 工作表用到了第", "压缩比异常")


@pytest.mark.parametrize("name", list(bombs.BOMBS))
def test_settlement_import_refuses_each_bomb_as_a_file_error(tmp_path, name, calamine_must_not_run):  # noqa: F811
    path = tmp_path / "s.xlsx"
    path.write_bytes(bombs.BOMBS[name]())
    report = import_file(path)
    assert report.refused and report.file_error.startswith("XLSX ")
    assert not Settlement.objects.exists()


def test_an_uploaded_bomb_leaves_the_batch_rejected_with_the_reason_not_checking(
    client, clearing_officer, django_capture_on_commit_callbacks, calamine_must_not_run  # noqa: F811
):
    client.force_login(clearing_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("clearing:import_list"), {"file": SimpleUploadedFile("s.xlsx", bombs.far_cell())})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert batch.status == ImportBatch.Status.REJECTED
    assert "XLSX 工作表用到了第 16384 列" in batch.file_error
    assert "XLSX 工作表用到了第 16384 列" in client.get(response.url).text


def test_command_refuses_a_bomb_with_a_chinese_line_and_nonzero_exit(tmp_path, capsys, calamine_must_not_run):  # noqa: F811
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bombs.deflate_bomb())
    with pytest.raises(CommandError):
        call_command("import_settlements", str(path))
    assert "压缩比异常" in capsys.readouterr().out


def test_an_ordinary_settlement_workbook_still_imports(tmp_path):
    report = import_file(write_xlsx(tmp_path / "s.xlsx", [Row("X1"), Row("X2", "320100", "110000")]))
    assert report.committed, report.text()
    assert Settlement.objects.count() == 2


def test_settlement_upload_over_the_configured_size_is_refused(client, clearing_officer, settings):
    settings.YIDI_SETTLEMENT_UPLOAD_MAX_MB = 1
    client.force_login(clearing_officer)
    upload = SimpleUploadedFile("s.csv", b"settlement_id\n" + b"x" * (1024 * 1024))
    response = client.post(reverse("clearing:import_list"), {"file": upload})
    assert "超过本导入允许的 1 MB" in response.text
    assert not ImportBatch.objects.exists()


def test_the_settlement_service_checks_the_size_too(clearing_officer, settings):
    from clearing import services
    from core.errors import DomainError

    settings.YIDI_SETTLEMENT_UPLOAD_MAX_MB = 1
    with pytest.raises(DomainError, match="超过本导入允许的 1 MB"):
        services.import_batch_create(upload=SimpleUploadedFile("s.csv", b"x" * (1024 * 1024 + 1)), by=clearing_officer)
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("name", ["far_cell", "deflate_bomb", "many_members"])
def test_allotment_import_refuses_a_bomb(client, clearing_officer, name, calamine_must_not_run):  # noqa: F811
    client.force_login(clearing_officer)
    upload = SimpleUploadedFile("allotments.xlsx", bombs.BOMBS[name]())
    response = client.post(reverse("clearing:allotments", args=[2026]), {"file": upload}, follow=True)
    assert response.status_code == 200
    assert "XLSX " in response.text and ("已拒绝读取" in response.text or "超过本导入允许" in response.text)
    assert not CrossAllotment.objects.exists()


def test_allotment_upload_over_5_mb_is_refused(client, clearing_officer):
    client.force_login(clearing_officer)
    upload = SimpleUploadedFile("allotments.csv", b"x" * (5 * 1024 * 1024 + 1))
    response = client.post(reverse("clearing:allotments", args=[2026]), {"file": upload}, follow=True)
    assert "超过本导入允许的 5 MB" in response.text
    assert not CrossAllotment.objects.exists()
