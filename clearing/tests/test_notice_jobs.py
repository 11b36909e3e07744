"""A month's notices as one task per document: every worker process renders, the
last document finishes the job, a redelivered or repeated task stores nothing twice."""

from __future__ import annotations

from datetime import date

import pytest

from clearing import jobs as clearing_jobs
from clearing import notices, services
from clearing.models import ClearingPeriod
from clearing.tests.factories import Row, import_rows
from core import document_batches
from core.jobs import run_job_now
from core.models import Document, Job
from core.tests.test_celery_worker import celery_workers  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _fake_pdf(template, context):
    city = context.get("city")
    return f"%PDF {template} {city.code if city else ''}".encode()


@pytest.fixture
def issued(tmp_path, clearing_officer, monkeypatch, settings):
    monkeypatch.setattr(notices, "render_pdf", _fake_pdf)
    import_rows(tmp_path, [Row("A1", "320100", "320200", fund_amount="100.00"), Row("A3", "320100", "330100")])
    period = services.clearing_compute(period=ClearingPeriod.objects.get(), by=clearing_officer)
    settings.YIDI_JOB_RUNNER = "sync"
    services.clearing_issue_notices(period=period, by=clearing_officer, stamp_date=date(2026, 3, 26))
    return ClearingPeriod.objects.get(pk=period.pk)


@pytest.fixture
def celery_eager(settings, monkeypatch):
    """The Celery runner with tasks run in place: every task still goes through apply_async."""
    from config.celery import app

    settings.YIDI_JOB_RUNNER = "celery"
    calls: list[str] = []
    real = document_batches.render_batch_document

    def counted(job_id, key):
        calls.append(key)
        return real(job_id, key)

    monkeypatch.setattr(document_batches, "render_batch_document", counted)
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield calls
    finally:
        app.conf.task_always_eager = before


def test_each_notice_is_a_task_of_its_own_and_the_last_one_finishes_the_job(issued, clearing_officer, celery_eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.clearing_regenerate_notices(period=issued, by=clearing_officer)
    job.refresh_from_db()
    files = notices.period_notice_files(issued)
    assert sorted(celery_eager) == sorted(file.key for file in files) and len(files) == 28
    assert job.status == Job.Status.DONE, job.error
    assert (job.progress_done, job.progress_total, job.percent) == (28, 28, 100)
    stored = dict(Document.objects.filter(job=job).values_list("key", "pk"))
    assert job.result["documents"] == [stored[file.key] for file in files]
    assert job.result["summary"] == "已生成并归档 28 份2026年02月清算表和通知书"
    assert Document.objects.filter(period="2026-02", is_latest=True, job=job).count() == 28


def _running_batch_job(period, officer):
    return Job.objects.create(
        kind="clearing.render_period_notices", title="重新生成", created_by=officer, params={"period_id": period.pk},
        status=Job.Status.RUNNING, attempts=1,
    )


def test_a_document_task_delivered_twice_stores_its_document_once(issued, clearing_officer):
    job = _running_batch_job(issued, clearing_officer)
    key = notices.period_notice_files(issued)[3].key
    document_batches.render_batch_document(job.pk, key)
    document_batches.render_batch_document(job.pk, key)
    job.refresh_from_db()
    assert Document.objects.filter(job=job).count() == 1
    assert job.status == Job.Status.RUNNING and (job.progress_done, job.progress_total) == (1, 28)
    assert job.heartbeat_at is not None


def test_a_failing_document_fails_the_job_and_the_others_then_do_nothing(issued, clearing_officer, monkeypatch):
    job = _running_batch_job(issued, clearing_officer)
    files = notices.period_notice_files(issued)

    def broken(template, context):
        if context.get("city") and context["city"].code == "320500":
            raise ValueError("font missing")
        return _fake_pdf(template, context)

    monkeypatch.setattr(notices, "render_pdf", broken)
    suzhou = next(file for file in files if file.region.code == "320500")
    document_batches.render_batch_document(job.pk, suzhou.key)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error.startswith("内部错误（ValueError）")
    document_batches.render_batch_document(job.pk, files[0].key)
    assert not Document.objects.filter(job=job).exists()


def test_a_batch_job_run_again_after_a_lost_worker_queues_only_what_is_missing(issued, clearing_officer, celery_eager):
    job = _running_batch_job(issued, clearing_officer)
    files = notices.period_notice_files(issued)
    for file in files[:5]:
        document_batches.render_batch_document(job.pk, file.key)
    celery_eager.clear()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)  # what the sweep does
    run_job_now(job.pk)
    job.refresh_from_db()
    assert sorted(celery_eager) == sorted(file.key for file in files[5:])
    assert job.status == Job.Status.DONE and job.attempts == 2
    assert Document.objects.filter(job=job).count() == 28


def test_the_thread_and_sync_runners_render_the_batch_in_the_job(issued, clearing_officer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.clearing_regenerate_notices(period=issued, by=clearing_officer)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and len(job.result["documents"]) == 28
    assert clearing_jobs.period_notices(job).what == "2026年02月清算表和通知书"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_share_a_months_notices(celery_workers, tmp_path, clearing_officer, settings, monkeypatch):  # noqa: F811
    import time

    import_rows(tmp_path, [Row("A1", "320100", "320200", fund_amount="100.00"), Row("A3", "320100", "330100")])
    period = services.clearing_compute(period=ClearingPeriod.objects.get(), by=clearing_officer)
    settings.YIDI_JOB_RUNNER = "sync"
    with monkeypatch.context() as patch:
        patch.setattr(notices, "render_pdf", _fake_pdf)  # the first versions, here and quickly
        services.clearing_issue_notices(period=period, by=clearing_officer, stamp_date=date(2026, 3, 26))
    settings.YIDI_JOB_RUNNER = "celery"
    celery_workers("one")
    celery_workers("two")
    job = services.clearing_regenerate_notices(period=ClearingPeriod.objects.get(pk=period.pk), by=clearing_officer)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.5)
    assert job.status == Job.Status.DONE, f"{job.status} {job.error}\n" + celery_workers.logs()
    assert Document.objects.filter(job=job).count() == 28
    logs = {path.stem: path.read_text() for path in tmp_path.glob("*.log")}
    assert all("core.render_document" in logs[name] for name in ("one", "two")), celery_workers.logs()
