"""The daily deadline job: the Celery task, the management command and the service behind both."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core import workdays
from core.models import AuditLog, CalendarDay, CalendarYear
from reimbursement import services
from reimbursement.models import Claim
from reimbursement.tasks import refresh_deadline_flags
from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details

pytestmark = pytest.mark.django_db


@pytest.fixture
def claims(policy, person, hospital, long_term_filing, clerk):
    """Accepted claims completed on different days (10 working days each)."""
    made = {}
    for key, complete_on in {"overdue": date(2026, 3, 2), "due_today": date(2026, 3, 3), "due_soon": date(2026, 3, 5),
                             "on_track": date(2026, 3, 10)}.items():
        details = inpatient_details(hospital, invoice_numbers=key, admission_date=date(2026, 2, 20),
                                    discharge_date=date(2026, 2, 27))
        made[key] = services.claim_create(by=clerk, person=person, details=details,
                                          ticked=ALL_INPATIENT_TICKS, today=complete_on)
    return made


def test_flags_overdue_due_today_due_soon_and_on_track(claims):
    # Today Tue 2026-03-17: due dates are 03-16, 03-17, 03-19, 03-24; "soon" ends Thu 03-19.
    counts = services.refresh_deadline_flags(today=date(2026, 3, 17))
    assert counts["overdue"] == counts["due_today"] == counts["due_soon"] == counts["on_track"] == 1
    for flag, claim in claims.items():
        claim.refresh_from_db()
        assert claim.deadline_flag == flag
        assert claim.flags_refreshed_on == date(2026, 3, 17)


def test_closed_claims_lose_their_flag(claims, clerk):
    services.refresh_deadline_flags(today=date(2026, 3, 17))
    services.claim_cancel(claim=claims["overdue"], by=clerk, reason="撤回", today=date(2026, 3, 17))
    Claim.objects.filter(pk=claims["overdue"].pk).update(deadline_flag="overdue")
    counts = services.refresh_deadline_flags(today=date(2026, 3, 18))
    assert counts["cleared"] == 1
    assert Claim.objects.get(pk=claims["overdue"].pk).deadline_flag == ""


def test_celery_task_calls_the_service(claims):
    result = refresh_deadline_flags.apply().get()
    assert set(result) >= {"overdue", "due_today", "due_soon", "on_track", "recomputed"}
    assert Claim.objects.filter(flags_refreshed_on__isnull=False).count() == 4


def test_management_command(claims):
    out = StringIO()
    call_command("refresh_deadline_flags", "--date", "2026-03-17", stdout=out)
    assert "逾期 1 件，今日到期 1 件，2个工作日内到期 1 件，正常 1 件" in out.getvalue()
    with pytest.raises(CommandError, match="日期“2026-13-01”无效"):
        call_command("refresh_deadline_flags", "--date", "2026-13-01")


def test_deadline_over_an_unconfirmed_year_is_flagged_then_recomputed_once_confirmed(policy, person, hospital, clerk):
    from core.tests.factories import region
    from filings.models import PersonType
    from filings.tests.factories import FilingFactory

    FilingFactory(insured_person=person, person_type=PersonType.LONG_TERM_RESIDENT, destination=region("110000"),
                  start_date=date(2026, 1, 1), applied_on=date(2026, 1, 1))
    CalendarDay.objects.filter(date__year=2027).delete()
    CalendarYear.objects.filter(year=2027).delete()
    workdays.invalidate(2027)
    claim = services.claim_create(by=clerk, person=person,
                                  details=inpatient_details(hospital, admission_date=date(2026, 12, 20),
                                                            discharge_date=date(2026, 12, 28)),
                                  ticked=ALL_INPATIENT_TICKS, today=date(2026, 12, 29))
    assert not claim.deadline_confirmed
    # Weekends and the statutory holidays (元旦 is certain): 30, 31, Jan 4, 5, 6, 7, 8, 11, 12, 13
    assert claim.due_on == date(2027, 1, 13)
    # The 2027 schedule is published: New Year's Day off, and (say) Saturday 01-09 a make-up workday.
    CalendarYear.objects.create(year=2027, confirmed=True, source="manual")
    CalendarDay.objects.create(date=date(2027, 1, 1), is_working_day=False, name="元旦")
    CalendarDay.objects.create(date=date(2027, 1, 9), is_working_day=True, name="元旦调休上班")
    workdays.invalidate(2027)
    counts = services.refresh_deadline_flags(today=date(2026, 12, 30))
    claim.refresh_from_db()
    assert counts["recomputed"] == 1
    assert claim.deadline_confirmed and claim.due_on == date(2027, 1, 12)
    # The applicant's receipt named 01-13: a new one with the confirmed deadline is issued.
    receipts = list(claim.notices.filter(kind="receipt").order_by("pk").values_list("due_on", "deadline_confirmed"))
    assert receipts == [(date(2027, 1, 13), False), (date(2027, 1, 12), True)]
    log = AuditLog.objects.filter(object_id=str(claim.pk), message__contains="已重新出具受理回执（第2版）").get()
    assert log.username == "system" and "2027-01-13 变为 2027-01-12" in log.message
    assert services.refresh_deadline_flags(today=date(2026, 12, 31))["recomputed"] == 0
