"""补办 (retroactive) filings: dates that cannot be right are refused; an already-ended
filing is registered as expired and uploaded as a 补录, not as a current 新增."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from core.idcard import build_id_number
from core.tests.factories import InsuredPersonFactory, region
from filings.models import Filing, FilingRegionSettings, UploadAction, UploadStatus
from filings.selectors import FilingStatus, filing_check
from filings.services import filing_register
from filings.tests.conftest import TODAY

pytestmark = pytest.mark.django_db


def retro(make_data, admission, **extra):
    extra.setdefault("settlement_state", "not_settled")
    return make_data(person_type="other_temporary", start=admission, retroactive=True, admission_date=admission,
                     **extra)


def test_admission_before_the_persons_birth_is_refused(make_data, clerk, nothing_written):
    baby = InsuredPersonFactory(birth_date=date(2026, 2, 1), id_number=build_id_number("320106", date(2026, 2, 1), 1))
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_register(person=baby, data=retro(make_data, date(2026, 1, 20)), by=clerk, today=TODAY)
    assert "入院日期 2026-01-20 早于参保人出生日期 2026-02-01" in exc.value.message


def test_retroactive_start_before_birth_is_refused(make_data, clerk, nothing_written):
    baby = InsuredPersonFactory(birth_date=date(2026, 2, 1), id_number=build_id_number("320106", date(2026, 2, 1), 1))
    data = retro(make_data, date(2026, 2, 3))
    data.start_date = date(2026, 1, 15)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_register(person=baby, data=data, by=clerk, today=TODAY)
    assert "开始日期 2026-01-15 早于参保人出生日期 2026-02-01" in exc.value.message


def test_retroactive_filing_reaches_back_at_most_the_regional_limit(person, make_data, clerk, nothing_written):
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_register(person=person, data=retro(make_data, date(2025, 3, 15)), by=clerk, today=TODAY)
    assert exc.value.message == (
        "补办备案最多追溯365天（本统筹区设置）：入院日期 2025-03-15 早于 2025-03-16。"
        "更早发生的就医请按参保地规定申请零星报销。"
    )
    FilingRegionSettings.objects.create(region=region("320100"), retroactive_max_days=30)
    with nothing_written(), pytest.raises(DomainError) as exc:
        filing_register(person=person, data=retro(make_data, date(2026, 2, 10)), by=clerk, today=TODAY)
    assert "补办备案最多追溯30天（本统筹区设置）：入院日期 2026-02-10 早于 2026-02-14。" in exc.value.message
    assert filing_register(person=person, data=retro(make_data, date(2026, 2, 14)), by=clerk, today=TODAY).pk


def test_absurd_years_are_refused_not_crashing(person, make_data, clerk, nothing_written):
    for start in (date(9999, 12, 31), date(1, 1, 1)):
        with nothing_written(), pytest.raises(DomainError) as exc:
            filing_register(person=person, data=make_data(person_type="other_temporary", start=start), by=clerk,
                            today=TODAY)
        assert "请核对年份" in exc.value.message


def test_counter_form_refuses_year_9999(client, clerk, nothing_written):
    client.force_login(clerk)
    from filings.tests.test_views import walk_in_post

    with nothing_written():
        response = client.post(reverse("filings:new"), walk_in_post(person_type="other_temporary",
                                                                    start_date="9999-12-31"))
    assert response.status_code == 200
    assert "开始日期 9999-12-31 超出可办理的范围（1900—2099年），请核对年份。" in response.text
    partial = client.post(reverse("filings:checklist"), {"person_type": "other_temporary", "start_date": "9999-12-31"})
    assert partial.status_code == 200


def test_filing_whose_validity_already_ended_is_registered_expired(person, make_data, clerk):
    admission = date(2025, 6, 2)  # six months on ends 2025-12-01: before today (2026-03-16)
    filing = filing_register(person=person, data=retro(make_data, admission, settlement_state="self_paid",
                                                       discharge_date=date(2025, 6, 20)), by=clerk, today=TODAY)
    filing.refresh_from_db()
    assert filing.end_date == date(2025, 12, 1)
    assert filing.status == Filing.Status.EXPIRED and filing.activated_at is not None
    # The provincial system gets it once, marked as a 补录 of a past filing, not as a current 新增.
    assert filing.upload_status == UploadStatus.PENDING and filing.upload_action == UploadAction.BACKFILL
    result = filing_check(person=person, on_date=date(2025, 6, 20), admission_date=admission,
                          treatment_region=region("110000"))
    assert result.status == FilingStatus.LATE_FILED and result.filing == filing
    # It does not block a current filing for the same place.
    current = filing_register(person=person, data=make_data(person_type="other_temporary"), by=clerk, today=TODAY)
    assert current.status == Filing.Status.ACTIVE


def test_backfill_is_exported_with_its_status(client, clerk, person, make_data):
    admission = timezone.localdate() - timedelta(days=300)
    filing = filing_register(person=person, data=retro(make_data, admission, settlement_state="self_paid",
                                                       discharge_date=admission + timedelta(days=5)),
                             by=clerk, today=timezone.localdate())
    client.force_login(clerk)
    page = client.get(reverse("filings:upload")).text
    assert "补录（已到期）" in page
    client.post(reverse("filings:upload"), {"file_format": "xlsx"})
    from filings.models import UploadBatch
    from filings.tests.test_views import _read_xlsx

    batch = UploadBatch.objects.get()
    assert batch.count_backfill == 1 and batch.count_new == 0 and batch.total == 1
    header, rows = _read_xlsx(batch.document)
    row = dict(zip(header, rows[0], strict=True))
    assert row["上传业务"] == "补录（已到期）" and row["备案编号"] == filing.number
    assert row["备案状态"] == "已到期" and row["补办"] == "是"
