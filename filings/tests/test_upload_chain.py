"""The provincial upload refers only to filings the provincial system knows."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from filings.models import Filing, UploadAction, UploadStatus
from filings.services import filing_cancel, filing_change, filing_register, upload_export
from filings.tests.conftest import TODAY

pytestmark = pytest.mark.django_db


def rows_of(batches):
    rows = []
    for batch in batches:
        workbook = openpyxl.load_workbook(io.BytesIO(batch.document.read()))
        header, *data = list(workbook.active.iter_rows(values_only=True))
        rows += [dict(zip(header, row, strict=True)) for row in data]
    return rows


@pytest.fixture
def uploaded(person, make_data, clerk):
    filing = filing_register(person=person, data=make_data(), by=clerk, today=TODAY)
    upload_export(by=clerk)
    filing.refresh_from_db()
    assert filing.upload_status == UploadStatus.EXPORTED
    return filing


def test_change_of_a_never_uploaded_change_refers_to_the_uploaded_ancestor(uploaded, make_data, clerk):
    first = filing_change(filing=uploaded, data=make_data(destination="310000"), by=clerk, reason="去上海", today=TODAY)
    second = filing_change(filing=first, data=make_data(destination="440100"), by=clerk, reason="改去广州",
                           today=TODAY)
    first.refresh_from_db()
    assert first.upload_status == UploadStatus.NOT_REQUIRED  # never reached the province
    assert second.upload_action == UploadAction.CHANGE
    [row] = rows_of(upload_export(by=clerk))
    assert row["上传业务"] == "变更" and row["备案编号"] == second.number
    assert row["原备案编号"] == uploaded.number  # not first.number, which the province never saw


def test_cancel_of_a_never_uploaded_change_cancels_the_uploaded_ancestor(uploaded, make_data, clerk):
    change = filing_change(filing=uploaded, data=make_data(destination="310000"), by=clerk, reason="去上海",
                           today=TODAY)
    cancelled = filing_cancel(filing=change, by=clerk, reason="不去了", today=TODAY)
    assert cancelled.upload_status == UploadStatus.PENDING and cancelled.upload_action == UploadAction.CANCEL
    [row] = rows_of(upload_export(by=clerk))
    assert row["上传业务"] == "取消" and row["备案编号"] == uploaded.number
    assert row["终止日期"] == f"{cancelled.terminated_on:%Y-%m-%d}"
    assert change.number in row["说明"] and uploaded.number in row["说明"]


def test_new_row_never_names_a_predecessor_the_province_does_not_know(person, make_data, clerk):
    filing = filing_register(person=person, data=make_data(), by=clerk, today=TODAY)
    change = filing_change(filing=filing, data=make_data(destination="310000"), by=clerk, reason="去上海",
                           today=TODAY)
    assert change.upload_action == UploadAction.NEW
    [row] = rows_of(upload_export(by=clerk))
    assert row["上传业务"] == "新增" and row["备案编号"] == change.number and not row["原备案编号"]
    assert Filing.objects.get(pk=filing.pk).upload_status == UploadStatus.NOT_REQUIRED


def test_ordinary_change_of_an_uploaded_filing(uploaded, make_data, clerk):
    change = filing_change(filing=uploaded, data=make_data(destination="310000", start=date(2026, 3, 20)),
                           by=clerk, reason="去上海", today=TODAY)
    [row] = rows_of(upload_export(by=clerk))
    assert (row["上传业务"], row["备案编号"], row["原备案编号"]) == ("变更", change.number, uploaded.number)


def test_province_level_export_makes_one_batch_per_city(make_data, make_staff, clerk, clerk_wuxi):
    from core.models import Role
    from core.tests.factories import InsuredPersonFactory, region

    nanjing = filing_register(person=InsuredPersonFactory(), data=make_data(), by=clerk, today=TODAY)
    wuxi = filing_register(person=InsuredPersonFactory(insured_region=region("320200")), data=make_data(),
                           by=clerk_wuxi, today=TODAY)
    superuser = make_staff("root", None, "320000", is_superuser=True, is_staff=True)
    for user in (superuser, make_staff("prov_admin", Role.ADMINISTRATOR, "320000")):
        Filing.objects.update(upload_status=UploadStatus.PENDING)
        batches = upload_export(by=user)
        assert [(b.region_id, b.total) for b in batches] == [("320100", 1), ("320200", 1)]
        assert [row["备案编号"] for row in rows_of(batches[:1])] == [nanjing.number]
        assert [row["备案编号"] for row in rows_of(batches[1:])] == [wuxi.number]
        assert "南京市" in batches[0].document.title and "320100" in batches[0].document.filename


def test_xlsx_keeps_id_numbers_and_codes_as_text(person, make_data, clerk):
    filing_register(person=person, data=make_data(), by=clerk, today=TODAY)
    [batch] = upload_export(by=clerk, file_format="xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(batch.document.read()))
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    for column in ("公民身份号码", "参保地代码", "就医地代码", "联系电话"):
        cell = sheet.cell(row=2, column=header.index(column) + 1)
        assert cell.data_type == "s" and cell.number_format == "@", column
    assert sheet.cell(row=2, column=header.index("公民身份号码") + 1).value == person.id_number
