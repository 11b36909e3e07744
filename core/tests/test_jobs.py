import pytest
from django.urls import reverse

from core.documents import latest_document, store_document
from core.errors import DomainError
from core.jobs import job_handler, run_job_now, start_job
from core.models import AuditLog, Document, Job, Role
from core.selftest import KIND as SELFTEST
from core.tests.pdfutil import has_embedded_cjk_font

pytestmark = pytest.mark.django_db

calls: list[int] = []


@job_handler("test.refuses")
def _refuses(job, progress):
    raise DomainError("所属期 2026-13 不存在。")


@job_handler("test.crashes")
def _crashes(job, progress):
    raise ZeroDivisionError("division by zero")


@job_handler("test.counts")
def _counts(job, progress):
    calls.append(job.pk)
    for done in range(1, 4):
        progress(done, 3, f"第{done}步")
    return {"summary": "完成3步"}


def test_job_runs_after_commit_and_reports_progress(clerk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = start_job(kind="test.counts", title="计数", by=clerk)
        assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED  # nothing runs before commit
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert job.percent == 100
    assert job.result == {"summary": "完成3步"}
    assert job.started_at and job.finished_at and job.attempts == 1


def test_a_finished_job_is_not_run_again(clerk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = start_job(kind="test.counts", title="计数", by=clerk)
    before = len(calls)
    assert run_job_now(job.pk) is None
    assert len(calls) == before


def test_refusal_message_is_kept_for_the_user(clerk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = start_job(kind="test.refuses", title="生成", by=clerk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == "所属期 2026-13 不存在。"


def test_crash_is_reported_without_losing_the_job_or_leaking_details(clerk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = start_job(kind="test.crashes", title="生成", by=clerk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "内部错误（ZeroDivisionError）" in job.error and str(job.pk) in job.error
    assert "division by zero" not in job.error


def test_a_job_that_cannot_be_queued_fails_instead_of_waiting_forever(clerk, settings, monkeypatch, django_capture_on_commit_callbacks):
    from core import jobs

    def broker_down(job_id):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(jobs, "_dispatch", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        job = start_job(kind="test.counts", title="计数", by=clerk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == jobs.BROKER_DOWN


def test_a_job_redelivered_too_often_is_stopped(clerk):
    from core.jobs import MAX_ATTEMPTS

    job = Job.objects.create(kind="test.counts", title="计数", created_by=clerk, status=Job.Status.RUNNING, attempts=MAX_ATTEMPTS)
    before = len(calls)
    assert run_job_now(job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "已尝试3次" in job.error
    assert len(calls) == before


def test_stale_jobs_are_marked_failed(clerk):
    from datetime import timedelta

    from django.utils import timezone

    from core.jobs import INTERRUPTED, fail_stale_jobs

    long_ago = timezone.now() - timedelta(days=1)
    stuck = Job.objects.create(kind="test.counts", title="卡住", created_by=clerk, status=Job.Status.RUNNING, started_at=long_ago)
    fresh = Job.objects.create(kind="test.counts", title="刚开始", created_by=clerk, status=Job.Status.RUNNING, started_at=timezone.now())
    assert fail_stale_jobs() == 1
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == Job.Status.FAILED and stuck.error == INTERRUPTED
    assert fresh.status == Job.Status.RUNNING


def test_unknown_kind_is_refused_before_anything_is_written(clerk):
    with pytest.raises(LookupError):
        start_job(kind="no.such", title="x", by=clerk)
    assert not Job.objects.exists()


def test_selftest_job_stores_one_pdf_even_when_retried(administrator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = start_job(kind=SELFTEST, title="打印自检", by=administrator)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    document = Document.objects.get(job=job)
    assert document.size == document.file.size
    assert has_embedded_cjk_font(document.file.read())
    # A redelivered task (worker lost after storing) must not duplicate the document.
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    run_job_now(job.pk)
    assert Document.objects.filter(job=job).count() == 1


def test_documents_are_versioned_by_key_and_checksummed(clearing_officer):
    first = store_document(kind="annex10", key="clearing:2026-02:annex10", title="附件10", filename="a.pdf", content=b"%PDF-1 one")
    second = store_document(kind="annex10", key="clearing:2026-02:annex10", title="附件10", filename="a.pdf", content=b"%PDF-1 two")
    first.refresh_from_db()
    assert (first.version, second.version) == (1, 2)
    assert not first.is_latest and second.is_latest
    assert latest_document("clearing:2026-02:annex10") == second
    assert second.sha256 == Document.checksum(b"%PDF-1 two")
    assert first.file.read() == b"%PDF-1 one"  # old versions kept


def test_download_serves_stored_bytes_and_is_audited(client, clearing_officer):
    document = store_document(kind="annex10", key="k", title="附件10", filename="附件10-2026-02.pdf", content=b"%PDF-1 stored")
    client.force_login(clearing_officer)
    response = client.get(reverse("document_download", args=[document.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1 stored"
    assert "attachment" in response["Content-Disposition"]
    entry = AuditLog.objects.get(action=AuditLog.Action.DOWNLOAD)
    assert entry.user == clearing_officer and entry.object_id == str(document.pk)


def test_other_regions_documents_are_404(client, make_staff, region_wuxi_document):
    nanjing_finance = make_staff("fin_nj", Role.FINANCE, "320100")
    client.force_login(nanjing_finance)
    assert client.get(reverse("document_download", args=[region_wuxi_document.pk])).status_code == 404
    assert not AuditLog.objects.filter(action=AuditLog.Action.DOWNLOAD).exists()
    wuxi_finance = make_staff("fin_wx", Role.FINANCE, "320200")
    client.force_login(wuxi_finance)
    assert client.get(reverse("document_download", args=[region_wuxi_document.pk])).status_code == 200


def test_jobs_page_shows_own_jobs_and_progress_polls(client, clerk, clerk_wuxi, django_capture_on_commit_callbacks):
    job = Job.objects.create(kind="test.counts", title="南京的任务", created_by=clerk, progress_done=1, progress_total=4)
    Job.objects.create(kind="test.counts", title="无锡的任务", created_by=clerk_wuxi)
    client.force_login(clerk)
    page = client.get(reverse("job_list")).content.decode()
    assert "南京的任务" in page and "无锡的任务" not in page
    assert 'hx-trigger="every 2s"' in page and "X-Yidi-Poll" in page  # one poll for the whole list
    progress = client.get(reverse("job_progress", args=[job.pk])).content.decode()
    assert "25%" in progress
    client.force_login(clerk_wuxi)
    assert client.get(reverse("job_detail", args=[job.pk])).status_code == 404


@pytest.fixture
def region_wuxi_document():
    from core.tests.factories import region

    return store_document(kind="annex12", key="clearing:2026-02:annex12:320200", title="附件12 无锡", filename="x.pdf", content=b"%PDF x", region=region("320200"))


@pytest.mark.django_db(transaction=True)
def test_the_thread_runner_fails_only_what_an_earlier_process_left(clerk, settings, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from core import jobs

    earlier = timezone.now() - timedelta(minutes=5)
    orphan = Job.objects.create(kind="test.counts", title="上次进程留下的", created_by=clerk)
    Job.objects.filter(pk=orphan.pk).update(created_at=earlier - timedelta(minutes=1))
    monkeypatch.setattr(jobs, "_PROCESS_STARTED", earlier)
    monkeypatch.setattr(jobs, "_executor", None)
    settings.YIDI_JOB_RUNNER = "thread"
    job = start_job(kind="test.counts", title="本进程的", by=clerk)  # autocommit: dispatched at once
    jobs._executor.shutdown(wait=True)
    monkeypatch.setattr(jobs, "_executor", None)
    orphan.refresh_from_db()
    job.refresh_from_db()
    assert orphan.status == Job.Status.FAILED and orphan.error == jobs.INTERRUPTED
    assert job.status == Job.Status.DONE


def test_progress_figures_read_as_counts_or_file_sizes():
    counted = Job(kind="test.counts", title="t", progress_done=3, progress_total=28)
    read = Job(kind="test.file", title="t", progress_done=13 * 1048576, progress_total=40 * 1048576, progress_in_bytes=True)
    assert counted.progress_figures == "3/28"
    assert read.progress_figures.replace("\xa0", " ") == "13.0 MB/40.0 MB"
    assert Job(kind="x", title="t").progress_figures == ""
