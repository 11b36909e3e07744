"""The document archive under concurrent regeneration, on PostgreSQL with real connections."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.db import connection, connections

from core.documents import store_document
from core.models import Document, Job, Role

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
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


@pytest.fixture
def slow_insert(monkeypatch):
    """Holds each insert open a moment, as a big PDF written to shared storage does."""
    real_save = Document.save

    def save(self, *args, **kwargs):
        time.sleep(0.2)
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Document, "save", save)


@pytest.mark.parametrize("existing_versions", [0, 1])
def test_two_jobs_storing_the_same_key_at_once_both_get_a_version(clerk, slow_insert, existing_versions):
    key = "clearing:2026-02:annex10"
    for _ in range(existing_versions):
        store_document(kind="annex10", key=key, title="附件10", filename="a.pdf", content=b"%PDF old")
    first = Job.objects.create(kind="test.counts", title="重新生成一", created_by=clerk, status=Job.Status.RUNNING)
    second = Job.objects.create(kind="test.counts", title="重新生成二", created_by=clerk, status=Job.Status.RUNNING)

    def store(job, content):
        return lambda: store_document(kind="annex10", key=key, title="附件10", filename="a.pdf", content=content, job=job)

    results = run_together(store(first, b"%PDF one"), store(second, b"%PDF two"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert {r.job_id for r in results} == {first.pk, second.pk}
    versions = sorted(Document.objects.filter(key=key).values_list("version", flat=True))
    assert versions == list(range(1, existing_versions + 3))
    latest = Document.objects.get(key=key, is_latest=True)
    assert latest.version == existing_versions + 2


def test_two_regenerate_notices_jobs_at_once_both_finish(make_staff, tmp_path, settings, monkeypatch):
    """Reported: two simultaneous “重新生成通知书” on the in-process runner failed one
    of them with DoesNotExist, three times out of three."""
    from clearing import notices, services
    from clearing.importers import import_file
    from clearing.models import ClearingPeriod
    from clearing.tests.factories import Row, write_csv
    from core import jobs

    monkeypatch.setattr(notices, "render_pdf", lambda template, context: f"%PDF {template} {time.monotonic()}".encode())
    officer = make_staff("clearing_js", Role.CLEARING_OFFICER, "320000")
    import_file(write_csv(tmp_path / "s.csv", [Row("R1", "320100", "320200", fund_amount="100.00"), Row("R2", "320100", "110000")]))
    period = services.clearing_compute(period=ClearingPeriod.objects.get(), by=officer)
    settings.YIDI_JOB_RUNNER = "sync"
    services.clearing_issue_notices(period=period, by=officer, stamp_date=date(2026, 3, 26))
    period.refresh_from_db()
    count = Document.objects.filter(period=period.period).count()
    assert count == 28

    settings.YIDI_JOB_RUNNER = "thread"
    monkeypatch.setattr(jobs, "_executor", None)
    try:
        results = run_together(
            lambda: services.clearing_regenerate_notices(period=period, by=officer),
            lambda: services.clearing_regenerate_notices(period=period, by=officer),
        )
        jobs._executor.shutdown(wait=True)
    finally:
        jobs.keeper.stop()
        if jobs._executor is not None:
            jobs._executor.shutdown(wait=True)
    finished = Job.objects.filter(pk__in=[job.pk for job in results])
    assert [(job.status, job.error) for job in finished] == [(Job.Status.DONE, "")] * 2
    assert Document.objects.filter(period=period.period).count() == 3 * count
    assert Document.objects.filter(period=period.period, is_latest=True).count() == count
    assert set(Document.objects.filter(period=period.period).values_list("version", flat=True)) == {1, 2, 3}
