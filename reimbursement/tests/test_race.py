"""Two people acting on the same claim at the same moment, with two real database connections."""

import threading
import time
from datetime import date

import pytest
from django.db import connection

from core.errors import DomainError
from core.models import AuditLog, Role
from reimbursement import services
from reimbursement.models import Claim, PaymentBatch
from reimbursement.services import deadlines, decisions, intake, payments, returns
from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    # Asking for transactional_db by name lets the root conftest reload the reference data after each flush.
    if connection.vendor != "postgresql":
        pytest.skip("races need PostgreSQL row locks (set DATABASE_URL to a PostgreSQL database)")


@pytest.fixture
def submitted(policy, person, hospital, long_term_filing, clerk):
    claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital),
                                  ticked=ALL_INPATIENT_TICKS, today=date(2026, 3, 16))
    services.claim_calculate(claim=claim, by=clerk)
    return services.claim_submit(claim=claim, by=clerk)


def run_together(*calls, slow_first_writer, monkeypatch):
    """Start the calls at the same instant, each in its own thread (its own connection).

    The audit write inside the locked transaction is slowed down so both callers are
    inside their transaction at the same time: without the row lock both would win.
    """
    original = decisions.log_action

    def slow_log_action(**kwargs):
        time.sleep(0.4)
        return original(**kwargs)

    original_many = payments.log_actions

    def slow_log_actions(entries):
        time.sleep(0.4)
        return original_many(entries)

    if slow_first_writer:
        # Patched where the services look it up: each module of the package imports its own name.
        for module in (intake, deadlines, decisions, payments, returns):
            monkeypatch.setattr(module, "log_action", slow_log_action)
        # A payment batch writes its audit records at once (core.audit.log_actions).
        monkeypatch.setattr(payments, "log_actions", slow_log_actions)
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


def test_two_supervisors_deciding_at_once_one_wins_the_other_is_told(submitted, supervisor, make_staff, monkeypatch):
    other = make_staff("supervisor_nj_2", Role.SUPERVISOR)
    pk = submitted.pk
    outcomes = run_together(
        ("approve", lambda: services.claim_approve(claim=Claim.objects.get(pk=pk), by=supervisor)),
        ("reject", lambda: services.claim_reject(claim=Claim.objects.get(pk=pk), by=other, reason="材料存疑")),
        slow_first_writer=True,
        monkeypatch=monkeypatch,
    )
    assert sorted(outcomes) == ["approve", "reject"]
    winners = [name for name, outcome in outcomes.items() if outcome == "ok"]
    assert len(winners) == 1, outcomes
    loser = "reject" if winners == ["approve"] else "approve"
    claim = Claim.objects.get(pk=pk)
    winner_user = supervisor if winners == ["approve"] else other
    assert claim.status == (Claim.Status.APPROVED if winners == ["approve"] else Claim.Status.REJECTED)
    assert claim.decided_by == winner_user
    assert f"已由{winner_user.get_full_name()}于" in outcomes[loser] and "您的操作未执行" in outcomes[loser]
    decisions = AuditLog.objects.filter(object_id=str(pk), from_state=Claim.Status.SUBMITTED)
    assert decisions.count() == 1


def test_two_supervisors_approving_at_once_approve_once(submitted, supervisor, make_staff, monkeypatch):
    other = make_staff("supervisor_nj_3", Role.SUPERVISOR)
    pk = submitted.pk
    outcomes = run_together(
        ("first", lambda: services.claim_approve(claim=Claim.objects.get(pk=pk), by=supervisor)),
        ("second", lambda: services.claim_approve(claim=Claim.objects.get(pk=pk), by=other)),
        slow_first_writer=True,
        monkeypatch=monkeypatch,
    )
    assert list(outcomes.values()).count("ok") == 1, outcomes
    assert AuditLog.objects.filter(object_id=str(pk), to_state=Claim.Status.APPROVED).count() == 1


def test_two_finance_staff_cannot_put_one_claim_on_two_payment_notices(submitted, supervisor, finance, make_staff, monkeypatch):
    services.claim_approve(claim=submitted, by=supervisor)
    other = make_staff("finance_nj_2", Role.FINANCE)
    pk = submitted.pk
    outcomes = run_together(
        ("a", lambda: services.payment_batch_create(claims=[Claim.objects.get(pk=pk)], by=finance)),
        ("b", lambda: services.payment_batch_create(claims=[Claim.objects.get(pk=pk)], by=other)),
        slow_first_writer=True,
        monkeypatch=monkeypatch,
    )
    assert list(outcomes.values()).count("ok") == 1, outcomes
    assert PaymentBatch.objects.count() == 1
    assert any("不是“已审批（待付款）”状态" in outcome for outcome in outcomes.values())


def test_two_supervisors_batch_approving_the_same_claims_approve_each_once(submitted, supervisor, make_staff, monkeypatch):
    from reimbursement.approvals import claims_approve

    other = make_staff("supervisor_nj_4", Role.SUPERVISOR)
    pk = submitted.pk

    def batch(by):
        def call():
            outcome = claims_approve(choices=[(Claim.objects.get(pk=pk), None)], by=by)
            if outcome.refused:
                raise DomainError(outcome.refused[0][1])
        return call

    outcomes = run_together(("a", batch(supervisor)), ("b", batch(other)), slow_first_writer=True, monkeypatch=monkeypatch)
    assert list(outcomes.values()).count("ok") == 1, outcomes
    assert AuditLog.objects.filter(object_id=str(pk), to_state=Claim.Status.APPROVED).count() == 1
