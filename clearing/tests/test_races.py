"""Two people at once, on PostgreSQL with real connections."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections

from clearing import services
from clearing.models import ClearingPeriod, PaymentDue, Settlement, Transfer
from clearing.tests.factories import Row, write_csv
from core.errors import DomainError
from core.models import Role

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and concurrent COPY need PostgreSQL"),
]


def run_together(*functions):
    results: list = [None] * len(functions)
    barrier = threading.Barrier(len(functions))

    def run(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_finance_clerks_recording_the_same_payment_at_once(transactional_db, make_staff, tmp_path, monkeypatch):
    from clearing import notices
    from clearing.importers import import_file

    monkeypatch.setattr(notices, "render_pdf", lambda template, context: b"%PDF")

    officer = make_staff("clearing_js", Role.CLEARING_OFFICER, "320000")
    finance = make_staff("finance_nj", Role.FINANCE, "320100")
    import_file(write_csv(tmp_path / "s.csv", [Row("R1", "320100", "320200", fund_amount="100.00")]))
    period = services.clearing_compute(period=ClearingPeriod.objects.get(), by=officer)
    services.clearing_issue_notices(period=period, by=officer, stamp_date=date(2026, 3, 26))
    payment = PaymentDue.objects.get(kind="intra_payable")

    def pay():
        return services.transfer_record(payment=payment, amount=Decimal("100.00"), transferred_on=date(2026, 4, 1), by=finance)

    results = run_together(pay, pay)
    errors = [r for r in results if isinstance(r, DomainError)]
    assert len(errors) == 1 and errors[0].message == "这笔款项已经结清，不能再登记到账。"
    assert Transfer.objects.count() == 1
    assert PaymentDue.objects.get(pk=payment.pk).paid_amount == Decimal("100.00")


def test_the_same_file_imported_twice_at_once_adds_its_rows_once(transactional_db, tmp_path):
    from clearing.importers import import_file

    path = write_csv(tmp_path / "s.csv", [Row(f"S{i}", "320100", "320200") for i in range(50)])
    reports = run_together(lambda: import_file(path), lambda: import_file(path))
    assert all(report.committed for report in reports), [r.text() if hasattr(r, "text") else r for r in reports]
    assert sorted(report.inserted for report in reports) == [0, 50]
    assert Settlement.objects.count() == 50
