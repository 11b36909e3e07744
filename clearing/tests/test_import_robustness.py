"""Ordinary files that used to crash the settlement import (full-width digits,
CR-only line endings, NUL bytes, Big5 text…) become row-numbered Chinese errors or import
correctly; any failure of an import job leaves its batch failed with the reason."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from clearing import importers, services
from clearing.importers import import_file
from clearing.models import ImportBatch, Settlement
from clearing.tests.factories import Row, csv_text
from core.models import AuditLog, Job

pytestmark = pytest.mark.django_db

HEADER = ",".join(importers.COLUMNS)
GOOD = "A1,2026-02,320100,320200,310,inpatient,2026-02-14,200.00,100.00,南京鼓楼医院"
BIG5_NAMES = ["臺北榮民總醫院", "國立臺灣大學醫學院附設醫院", "長庚紀念醫院", "高雄醫學大學附設中和紀念醫院"]


def lines(*rows: str, newline: str = "\r\n") -> bytes:
    return (newline.join((HEADER, *rows)) + newline).encode()


def run(tmp_path, content: bytes, name: str = "s.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return import_file(path)


#: Ordinary files a clerk might bring: each is imported or refused, never a crash.
FUZZ = {
    "empty": b"",
    "bom only": b"\xef\xbb\xbf",
    "header only": HEADER.encode(),
    "blank lines": lines("", GOOD, "", ""),
    "trailing separators": (HEADER + ",\r\n" + GOOD + ",\r\n").encode(),
    "extra separator on a row": lines(GOOD + ","),
    "very long institution": lines(GOOD.replace("南京鼓楼医院", "医" * 100_000)),
    "very long id": lines(GOOD.replace("A1", "A" * 100_000)),
    "NUL in a name": lines(GOOD.replace("南京", "南\x00京")),
    "NUL in an amount": lines(GOOD.replace("200.00", "200\x00.00")),
    "NUL in the header": lines(GOOD).replace(b"period", b"per\x00iod", 1),
    "UTF-16": ("\ufeff" + HEADER + "\r\n" + GOOD).encode("utf-16-le"),
    "UTF-32": ("\ufeff" + HEADER + "\r\n" + GOOD).encode("utf-32"),
    "two BOMs": b"\xef\xbb\xbf" + b"\xef\xbb\xbf" + lines(GOOD),
    "GB18030 BOM": b"\x84\x31\x95\x33" + lines(GOOD),
    "BOM before a row": lines("\ufeff" + GOOD),
    "CR only": lines(GOOD, newline="\r"),
    "CR inside a row": lines(GOOD.replace("南京", "南\r京")),
    "mixed line endings": (HEADER + "\r\n" + GOOD + "\r" + GOOD.replace("A1", "A2") + "\n").encode(),
    "unclosed quote": lines(GOOD.replace("南京", 'a"b')),
    "full-width amount": lines(GOOD.replace("200.00", "１２３.４５")),
    "Arabic-Indic digits": lines(GOOD.replace("200.00", "٢٠٠.٠٠")),
    "superscript digit": lines(GOOD.replace("200.00", "²00.00")),
    "NaN and 1e20": lines(GOOD.replace("200.00", "NaN"), GOOD.replace("A1", "A2").replace("200.00", "1e20")),
    "Big5": lines(GOOD.replace("南京鼓楼医院", BIG5_NAMES[0])).decode().encode("big5"),
    "100,000 columns": lines(GOOD + "," * 100_000),
}


@pytest.mark.parametrize("name", list(FUZZ))
def test_ordinary_files_are_imported_or_refused_in_chinese_never_crash(tmp_path, name):
    report = run(tmp_path, FUZZ[name])
    assert report.committed or report.refused
    text = report.text()
    assert not re.search(r"[A-Za-z]{4,} (?:error|Error|character|field)", text), text
    if report.refused:
        assert not Settlement.objects.exists()
        assert report.file_error or all(error.row >= 2 and error.message for error in report.errors)


def test_full_width_digits_are_read_as_the_numbers_they_are(tmp_path):
    row = "Ａ1,２０２６－０２,３２０１００,320200,３１０,inpatient,２０２６-０２-１４,１２３.４５,１００,南京鼓楼医院"
    report = run(tmp_path, lines(row))
    assert report.committed, report.text()
    stored = Settlement.objects.get()
    assert (stored.settlement_id, stored.period, stored.insured_region) == ("Ａ1", "2026-02", "320100")
    assert (stored.total_amount, stored.fund_amount, str(stored.settled_on)) == (Decimal("123.45"), Decimal("100"), "2026-02-14")


def test_other_scripts_digits_are_a_row_error_naming_the_value(tmp_path):
    report = run(tmp_path, lines(GOOD, GOOD.replace("A1", "A2").replace("200.00", "٢٠٠.٠٠")))
    assert report.refused
    assert {error.row: error.message for error in report.errors} == {
        3: "总费用“٢٠٠.٠٠”含有无法识别的数字字符，应为半角数字的金额（元），如 12345.67"
    }
    assert not Settlement.objects.exists()


def test_a_cr_only_file_is_read_with_its_row_numbers(tmp_path):
    bad = GOOD.replace("A1", "A3").replace("320200", "320100")
    report = run(tmp_path, lines(GOOD, GOOD.replace("A1", "A2"), bad, newline="\r"))
    assert report.refused and [error.row for error in report.errors] == [4]
    report = run(tmp_path, lines(GOOD, GOOD.replace("A1", "A2"), newline="\r"))
    assert report.committed and Settlement.objects.count() == 2


def test_a_stray_carriage_return_is_named_by_row_in_chinese(tmp_path):
    report = run(tmp_path, lines(GOOD, GOOD.replace("A1", "A2").replace("南京", "南\r京")))
    assert report.file_error.startswith("第 3 行中间有单独的回车符（CR）")


def test_a_bom_or_zero_width_space_in_an_id_is_a_row_error(tmp_path):
    report = run(tmp_path, lines("\ufeff" + GOOD, GOOD.replace("A1", "A\u200b2")))
    assert [error.row for error in report.errors] == [2, 3]
    assert all("含有空格或不可见字符" in error.message for error in report.errors)


def test_a_line_without_end_is_refused_not_buffered(tmp_path, monkeypatch):
    monkeypatch.setattr(importers.sources, "MAX_RECORD", 4096)
    report = run(tmp_path, lines(GOOD) + b"x" * 10_000)
    assert report.file_error.startswith("第 3 行超过") and "仍没有换行" in report.file_error


@pytest.mark.parametrize("names", [BIG5_NAMES, BIG5_NAMES[:1]])
def test_big5_text_is_refused_not_imported_as_mojibake(tmp_path, names):
    rows = [GOOD.replace("A1", f"B{i}").replace("南京鼓楼医院", name) for i, name in enumerate(names)]
    report = run(tmp_path, lines(*rows).decode().encode("big5"))
    assert report.file_error.startswith("文件看起来是 Big5（繁体中文）编码，不是系统接受的 UTF-8 或 GB18030")
    assert f"按 Big5 应为“{names[0]}”" in report.file_error
    assert not Settlement.objects.exists()


def test_traditional_characters_in_gb18030_are_still_accepted(tmp_path):
    rows = [GOOD.replace("A1", f"T{i}").replace("南京鼓楼医院", name) for i, name in enumerate(BIG5_NAMES)]
    report = run(tmp_path, lines(*rows).decode().encode("gb18030"))
    assert report.committed, report.text()
    assert Settlement.objects.get(pk="T0").institution == "臺北榮民總醫院"


def test_the_public_sample_month_is_not_mistaken_for_big5(sample_files):
    csv_path, _json = sample_files
    report = import_file(csv_path, options=importers.ImportOptions(dry_run=True))
    assert report.ok, report.text()


# --- Import jobs never leave a batch 校验中 --------------------------------------------------


def upload(client, capture, content: bytes = None, name: str = "s.csv"):
    content = content if content is not None else csv_text([Row("U1")]).encode()
    with capture(execute=True):
        return client.post(reverse("clearing:import_list"), {"file": SimpleUploadedFile(name, content)})


def test_a_crash_in_the_import_job_fails_the_batch_with_the_reason(client, clearing_officer, monkeypatch, django_capture_on_commit_callbacks):
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(importers, "import_file", crash)
    client.force_login(clearing_officer)
    response = upload(client, django_capture_on_commit_callbacks)
    batch = ImportBatch.objects.select_related("job").get()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.file_error == f"校验未完成：处理时发生意外错误（RuntimeError），文件中的数据均未写入。请联系系统管理员并告知任务编号 {batch.job.pk}。"
    assert batch.job.status == Job.Status.FAILED
    assert "处理时发生意外错误" in client.get(response.url).text
    assert AuditLog.objects.filter(to_state=ImportBatch.Status.FAILED, username="系统（后台任务）").exists()


def broker_down(job_id):
    raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")


# Real commits (transaction=True): the job is queued when the upload's
# transaction commits, before the page answers, as in production.
@pytest.mark.django_db(transaction=True)
def test_a_check_that_cannot_be_queued_fails_the_batch_and_the_user_is_told(client, clearing_officer, monkeypatch):
    from core import jobs

    monkeypatch.setattr(jobs, "_dispatch", broker_down)
    client.force_login(clearing_officer)
    response = client.post(
        reverse("clearing:import_list"), {"file": SimpleUploadedFile("s.csv", csv_text([Row("U1")]).encode())}, follow=True
    )
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED and batch.file_error == jobs.BROKER_DOWN
    assert "文件已上传，但未能开始校验：" + jobs.BROKER_DOWN in response.text
    assert "导入失败" in response.text and "校验中" not in response.text


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_that_cannot_be_queued_says_so(client, clearing_officer, monkeypatch):
    from core import jobs

    client.force_login(clearing_officer)
    response = client.post(reverse("clearing:import_list"), {"file": SimpleUploadedFile("s.csv", csv_text([Row("U1")]).encode())})
    assert ImportBatch.objects.get().status == ImportBatch.Status.CHECKED
    monkeypatch.setattr(jobs, "_dispatch", broker_down)
    confirm = client.post(response.url, follow=True)
    assert "未能开始导入：" + jobs.BROKER_DOWN in confirm.text
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED
    assert not Settlement.objects.exists()
    assert 'id="confirm-import"' in confirm.text  # once the queue is back, it may be confirmed again
    monkeypatch.undo()
    client.post(response.url)
    assert ImportBatch.objects.get().status == ImportBatch.Status.IMPORTED
    assert Settlement.objects.count() == 1


def test_a_batch_whose_job_died_is_failed_when_the_import_pages_are_opened(client, clearing_officer, django_capture_on_commit_callbacks):
    client.force_login(clearing_officer)
    response = upload(client, django_capture_on_commit_callbacks)
    batch = ImportBatch.objects.get()
    # A worker killed mid-check: the batch says 校验中, the job is found dead later.
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.CHECKING)
    Job.objects.filter(pk=batch.job_id).update(status=Job.Status.FAILED, error="任务因服务重启或超时而中断，请重新提交。")
    listing = client.get(reverse("clearing:import_list")).text
    assert "导入失败" in listing and "校验中" not in listing
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "任务因服务重启或超时而中断" in client.get(response.url).text


def test_failing_a_batch_leaves_a_finished_one_alone(clearing_officer, django_capture_on_commit_callbacks, client):
    client.force_login(clearing_officer)
    upload(client, django_capture_on_commit_callbacks)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.CHECKED
    assert services.import_batch_fail(batch_id=batch.pk, reason="x") is False
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.CHECKED and batch.file_error == ""


def test_the_command_turns_an_unexpected_error_into_one_chinese_line(tmp_path, monkeypatch, capsys):
    from clearing.management.commands import import_settlements as command

    def crash(*args, **kwargs):
        raise KeyError("settled_on")

    monkeypatch.setattr(command, "import_file", crash)
    path = tmp_path / "s.csv"
    path.write_text(csv_text([Row("C1")]))
    with pytest.raises(CommandError, match="1 个文件未导入"):
        call_command("import_settlements", str(path))
    captured = capsys.readouterr()
    assert "s.csv：未导入（本文件的数据均未写入）。处理时发生意外错误（KeyError）" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_the_command_imports_full_width_amounts_and_cr_only_files(tmp_path, capsys):
    path = tmp_path / "mac.csv"
    path.write_bytes(lines(GOOD.replace("200.00", "２００.００"), newline="\r"))
    call_command("import_settlements", str(path))
    assert Settlement.objects.get().total_amount == Decimal("200.00")


# --- The allotment upload ---------------------------------------------------------------------


def test_allotment_upload_reads_full_width_amounts_and_refuses_infinity_by_row(client, clearing_officer):
    from clearing.models import CrossAllotment

    client.force_login(clearing_officer)
    content = "省份,额度（万元）\r北京市,１２\r上海市,Infinity\r".encode("gb18030")
    response = client.post(reverse("clearing:allotments", args=[2026]), {"file": SimpleUploadedFile("a.csv", content)}, follow=True)
    assert "第 3 行：额度“Infinity”不是数字" in response.text
    assert not CrossAllotment.objects.exists()
    content = "省份,额度（万元）\r北京市,１２\r".encode("gb18030")
    client.post(reverse("clearing:allotments", args=[2026]), {"file": SimpleUploadedFile("a.csv", content)})
    assert dict(CrossAllotment.objects.values_list("province_id", "amount")) == {"110000": 12}
