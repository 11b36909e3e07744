"""Two people acting on the same case at the same moment, with two real database connections."""

import threading
import time
from datetime import date

import pytest
from django.db import connection

from cooperation import services
from cooperation.models import AssistRequest, Coordination
from core.errors import DomainError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("races need PostgreSQL row locks (set DATABASE_URL to a PostgreSQL database)")


def run_together(*calls, monkeypatch):
    original = services.log_action

    def slow_log_action(**kwargs):  # both callers are inside their transaction at once
        time.sleep(0.4)
        return original(**kwargs)

    monkeypatch.setattr(services, "log_action", slow_log_action)
    barrier = threading.Barrier(len(calls))
    outcomes: dict[str, str] = {}

    def worker(name, call):
        try:
            barrier.wait()
            call()
            outcomes[name] = "ok"
        except DomainError as exc:
            outcomes[name] = exc.message
        finally:
            from django.db import connections

            connections.close_all()

    threads = [threading.Thread(target=worker, args=(name, call)) for name, call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    return outcomes


def test_two_treatment_clerks_answering_at_once_one_wins(raise_assist, clerk_wuxi, supervisor_wuxi, monkeypatch):
    pk = raise_assist().pk
    outcomes = run_together(
        ("no_issue", lambda: services.assist_answer(request=AssistRequest.objects.get(pk=pk), by=clerk_wuxi,
                                                    result="no_issue", today=date(2026, 4, 1))),
        ("has_issue", lambda: services.assist_answer(request=AssistRequest.objects.get(pk=pk), by=supervisor_wuxi,
                                                     result="has_issue", finding="重复收费四项", today=date(2026, 4, 1))),
        monkeypatch=monkeypatch,
    )
    assert sorted(outcomes.values()).count("ok") == 1
    loser = next(message for message in outcomes.values() if message != "ok")
    assert "可能已由他人办理" in loser
    assert AssistRequest.objects.get(pk=pk).history.filter(status="answered").count() == 1


def test_confirm_and_daily_deemed_confirmation_race_leaves_one_outcome(raise_coordination, clerk, clerk_wuxi,
                                                                        monkeypatch):
    coordination = raise_coordination(today=date(2026, 2, 12))
    services.coordination_reply(coordination=coordination, by=clerk_wuxi, reply="已处理完毕", today=date(2026, 2, 13))
    pk = coordination.pk
    outcomes = run_together(
        ("confirm", lambda: services.coordination_confirm(coordination=Coordination.objects.get(pk=pk), by=clerk,
                                                          today=date(2026, 3, 6))),
        ("daily", lambda: services.coordination_deem_confirmed(today=date(2026, 3, 6))),
        monkeypatch=monkeypatch,
    )
    status = Coordination.objects.get(pk=pk).status
    assert status in (Coordination.Status.CONFIRMED, Coordination.Status.DEEMED_CONFIRMED)
    if status == Coordination.Status.DEEMED_CONFIRMED:
        assert "不能确认" in outcomes["confirm"]


def test_two_clearing_officers_deducting_one_result_at_once_book_it_once(raise_assist, clerk, clerk_wuxi,
                                                                         clearing_officer, make_staff, monkeypatch):
    """第五十三条 deduction: the assist row lock makes the second officer wait, then see the first's booking."""
    from decimal import Decimal

    from clearing.models import ClearingAdjustment
    from clearing.services import period_get_or_create
    from core.models import Role

    period_get_or_create("2026-03")
    assist = raise_assist()
    services.assist_answer(request=assist, by=clerk_wuxi, result="has_issue", finding="超标准收取床位费",
                           irregular_amount=Decimal("1200.00"), today=date(2026, 4, 1))
    services.assist_confirm(request=assist, by=clerk, today=date(2026, 4, 2))
    second_officer = make_staff("clearing_js2", Role.CLEARING_OFFICER, "320000")
    pk = assist.pk
    outcomes = run_together(
        *[(name, lambda by=by: services.assist_deduct(request=AssistRequest.objects.get(pk=pk), amount="1200.00",
                                                      insurance_type="310", by=by))
          for name, by in (("first", clearing_officer), ("second", second_officer))],
        monkeypatch=monkeypatch,
    )
    assert sorted(outcomes.values()).count("ok") == 1
    assert "不能重复扣款" in next(message for message in outcomes.values() if message != "ok")
    assert ClearingAdjustment.objects.filter(source_ref=assist.number).count() == 1
