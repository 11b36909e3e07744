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


def _silent(minutes: float = 10):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() - timedelta(minutes=minutes)


def test_a_delivery_of_a_job_whose_worker_died_after_its_last_run_fails_it(clerk, settings):
    job = Job.objects.create(
        kind="test.counts", title="计数", created_by=clerk, status=Job.Status.RUNNING,
        attempts=settings.YIDI_JOB_MAX_ATTEMPTS, started_at=_silent(), heartbeat_at=_silent(),
    )
    before = len(calls)
    assert run_job_now(job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "工作进程意外终止" in job.error and "已自动重试1次仍未完成" in job.error and str(job.pk) in job.error
    assert len(calls) == before


def test_a_delivery_of_a_job_alive_elsewhere_is_dropped(clerk):
    """Redis redelivers after the visibility timeout: a job another worker is still
    running (fresh heartbeat) must not run twice."""
    from django.utils import timezone

    job = Job.objects.create(
        kind="test.counts", title="计数", created_by=clerk, status=Job.Status.RUNNING,
        attempts=1, started_at=_silent(), heartbeat_at=timezone.now(),
    )
    before = len(calls)
    assert run_job_now(job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.attempts == 1
    assert len(calls) == before


def test_a_delivery_of_a_job_whose_worker_went_silent_takes_it_over(clerk):
    job = Job.objects.create(
        kind="test.counts", title="计数", created_by=clerk, status=Job.Status.RUNNING,
        attempts=1, started_at=_silent(), heartbeat_at=_silent(),
    )
    assert run_job_now(job.pk).status == Job.Status.DONE
    job.refresh_from_db()
    assert job.attempts == 2


def test_progress_is_a_heartbeat(clerk):
    from core.jobs import Progress

    job = Job.objects.create(kind="test.counts", title="计数", created_by=clerk, status=Job.Status.RUNNING)
    Progress(job)(1, 4, "第1步")
    job.refresh_from_db()
    assert job.heartbeat_at is not None and job.progress_done == 1


def test_a_running_job_whose_heartbeat_stopped_runs_once_more(clerk, django_capture_on_commit_callbacks):
    from core.jobs import recover_stale_jobs

    dead = Job.objects.create(
        kind="test.counts", title="卡住", created_by=clerk, status=Job.Status.RUNNING,
        attempts=1, started_at=_silent(), heartbeat_at=_silent(), progress_done=1, progress_total=7,
    )
    from django.utils import timezone

    alive = Job.objects.create(
        kind="test.counts", title="运行中", created_by=clerk, status=Job.Status.RUNNING,
        attempts=1, started_at=_silent(), heartbeat_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert recover_stale_jobs() == {"requeued": 1, "failed": 0}
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == Job.Status.DONE and dead.attempts == 2  # the sync runner ran it again at once
    assert alive.status == Job.Status.RUNNING and alive.attempts == 1


def test_a_job_whose_worker_died_on_its_last_run_fails_with_the_reason(clerk, settings):
    from core.jobs import recover_stale_jobs

    settings.YIDI_JOB_MAX_ATTEMPTS = 2
    job = Job.objects.create(
        kind="test.counts", title="卡住", created_by=clerk, status=Job.Status.RUNNING,
        attempts=2, started_at=_silent(), heartbeat_at=_silent(),
    )
    assert recover_stale_jobs() == {"requeued": 0, "failed": 1}
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.finished_at
    assert job.error.startswith("执行任务的工作进程意外终止，已自动重试1次仍未完成，任务已停止。")


def test_a_silent_job_past_the_time_limit_is_failed_as_timed_out_not_retried(clerk, settings):
    from core.jobs import TIMED_OUT, recover_stale_jobs

    settings.CELERY_TASK_TIME_LIMIT = 60
    job = Job.objects.create(
        kind="test.counts", title="超时", created_by=clerk, status=Job.Status.RUNNING,
        attempts=1, started_at=_silent(minutes=5), heartbeat_at=_silent(minutes=3),
    )
    assert recover_stale_jobs()["failed"] == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error == TIMED_OUT


def test_a_job_never_picked_up_by_a_worker_is_failed_after_the_queue_timeout(clerk, settings):
    from datetime import timedelta

    from core.jobs import recover_stale_jobs

    settings.YIDI_JOB_QUEUE_TIMEOUT = 3600
    old = Job.objects.create(kind="test.counts", title="没人处理", created_by=clerk)
    Job.objects.filter(pk=old.pk).update(created_at=_silent(minutes=61))
    waiting = Job.objects.create(kind="test.counts", title="排队中", created_by=clerk)
    Job.objects.filter(pk=waiting.pk).update(created_at=_silent(minutes=59) - timedelta(seconds=0))
    assert recover_stale_jobs() == {"requeued": 0, "failed": 1}
    old.refresh_from_db()
    waiting.refresh_from_db()
    assert old.status == Job.Status.FAILED and old.error == "任务排队超过1小时仍未开始执行（后台工作进程可能未运行），已停止。请联系系统管理员。"
    assert waiting.status == Job.Status.QUEUED


def test_a_job_queued_in_a_thread_runner_that_died_is_run_here(clerk, django_capture_on_commit_callbacks):
    """The thread runner's process vouches for its queue with heartbeats; once it is gone
    another process runs what it left."""
    from core.jobs import recover_stale_jobs

    orphan = Job.objects.create(kind="test.counts", title="上次进程排队的", created_by=clerk, heartbeat_at=_silent())
    with django_capture_on_commit_callbacks(execute=True):
        assert recover_stale_jobs()["requeued"] == 1
    orphan.refresh_from_db()
    assert orphan.status == Job.Status.DONE and orphan.attempts == 1


hook_calls: list[tuple[int, str]] = []


@job_handler("test.owns_something", on_failure=lambda job, reason: hook_calls.append((job.pk, reason)))
def _owns_something(job, progress):
    if job.params.get("refuse"):
        raise DomainError("文件格式不对。")
    return {}


def test_every_way_a_job_fails_calls_its_kinds_failure_hook_once(clerk, monkeypatch, django_capture_on_commit_callbacks):
    from core import jobs
    from core.jobs import recover_stale_jobs

    hook_calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refused = start_job(kind="test.owns_something", title="拒绝", by=clerk, params={"refuse": True})
    dead = Job.objects.create(
        kind="test.owns_something", title="进程终止", created_by=clerk, status=Job.Status.RUNNING,
        attempts=9, started_at=_silent(), heartbeat_at=_silent(),
    )
    recover_stale_jobs()
    recover_stale_jobs()  # a second sweep finds nothing more to fail
    monkeypatch.setattr(jobs, "_dispatch", lambda job_id: (_ for _ in ()).throw(ConnectionError("broker down")))
    with django_capture_on_commit_callbacks(execute=True):
        unqueued = start_job(kind="test.owns_something", title="队列不可用", by=clerk)
    with django_capture_on_commit_callbacks(execute=True):
        done = start_job(kind="test.counts", title="成功", by=clerk)
    assert [pk for pk, _ in hook_calls] == [refused.pk, dead.pk, unqueued.pk]
    assert hook_calls[0][1] == "文件格式不对。"
    assert hook_calls[2][1] == jobs.BROKER_DOWN
    assert Job.objects.get(pk=done.pk).status == Job.Status.FAILED  # broker down for every job


def test_a_failing_hook_does_not_keep_the_job_from_failing(clerk):
    from core.jobs import fail_job

    @job_handler("test.bad_hook", on_failure=lambda job, reason: 1 / 0)
    def _bad_hook(job, progress):
        return {}

    job = Job.objects.create(kind="test.bad_hook", title="x", created_by=clerk)
    assert fail_job(job.pk, "原因")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error == "原因"


def test_stale_jobs_are_swept_by_beat_within_a_minute(settings):
    from datetime import timedelta

    from config.celery import app

    entry = app.conf.beat_schedule["core-recover-stale-jobs"]
    assert entry["task"] == "core.recover_stale_jobs"
    assert entry["schedule"] <= timedelta(seconds=60)
    assert settings.YIDI_JOB_STALE_SECONDS <= 180
    # Redis gives an unacknowledged job back soon after the longest a task may run.
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_TASK_TIME_LIMIT < visibility <= settings.CELERY_TASK_TIME_LIMIT + 300
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] <= 10


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
def test_the_thread_runner_cleans_up_after_a_dead_process_from_its_first_request(client, clerk, settings, monkeypatch):
    """`make run` (no Redis, no beat): the web process's keeper thread, started by
    the first request, finds what an earlier process left running and runs it again;
    its own running jobs are never taken for dead."""
    import time as _time

    from django.utils import timezone

    from core import jobs

    settings.YIDI_JOB_RUNNER = "thread"
    settings.YIDI_JOB_HEARTBEAT_SECONDS = 0.2
    settings.YIDI_JOB_STALE_SECONDS = 1
    settings.YIDI_JOB_SWEEP_SECONDS = 0.2
    monkeypatch.setattr(jobs, "_executor", None)
    orphan = Job.objects.create(
        kind="test.counts", title="上次进程留下的", created_by=clerk, status=Job.Status.RUNNING,
        attempts=1, started_at=timezone.now(), heartbeat_at=timezone.now(),
    )
    try:
        client.force_login(clerk)
        client.get(reverse("job_list"))
        assert jobs.keeper._thread is not None and jobs.keeper._thread.is_alive()
        deadline = _time.monotonic() + 60
        while _time.monotonic() < deadline:
            orphan.refresh_from_db()
            if orphan.is_finished:
                break
            _time.sleep(0.1)
        assert orphan.status == Job.Status.DONE and orphan.attempts == 2, orphan.error
        assert orphan.result == {"summary": "完成3步"}
    finally:
        jobs.keeper.stop()
        if jobs._executor is not None:
            jobs._executor.shutdown(wait=True)


@pytest.mark.django_db(transaction=True)
def test_the_thread_runners_keeper_keeps_a_long_job_alive(clerk, settings, monkeypatch):
    import threading
    import time as _time

    from core import jobs

    release = threading.Event()

    @job_handler("test.waits")
    def _waits(job, progress):
        release.wait(10)  # no progress reports: only the keeper's heartbeat says it lives
        return {"summary": "等到了"}

    settings.YIDI_JOB_RUNNER = "thread"
    settings.YIDI_JOB_HEARTBEAT_SECONDS = 0.2
    settings.YIDI_JOB_STALE_SECONDS = 1
    settings.YIDI_JOB_SWEEP_SECONDS = 0.2
    monkeypatch.setattr(jobs, "_executor", None)
    try:
        job = start_job(kind="test.waits", title="长任务", by=clerk)
        _time.sleep(2.5)  # well past the stale threshold
        job.refresh_from_db()
        assert job.status == Job.Status.RUNNING and job.attempts == 1
        assert (jobs.timezone.now() - job.heartbeat_at).total_seconds() < 1
        release.set()
        jobs._executor.shutdown(wait=True)
        job.refresh_from_db()
        assert job.status == Job.Status.DONE and job.attempts == 1
    finally:
        release.set()
        jobs.keeper.stop()
        if jobs._executor is not None:
            jobs._executor.shutdown(wait=True)


def test_progress_figures_read_as_counts_or_file_sizes():
    counted = Job(kind="test.counts", title="t", progress_done=3, progress_total=28)
    read = Job(kind="test.file", title="t", progress_done=13 * 1048576, progress_total=40 * 1048576, progress_in_bytes=True)
    assert counted.progress_figures == "3/28"
    assert read.progress_figures.replace("\xa0", " ") == "13.0 MB/40.0 MB"
    assert Job(kind="x", title="t").progress_figures == ""


def test_big_imports_go_to_their_own_celery_queue(clerk, settings, monkeypatch, django_capture_on_commit_callbacks):
    import clearing.jobs  # noqa: F401  (registers the import kind)
    from core.tasks import run_job

    sent: list[tuple[list, str]] = []
    monkeypatch.setattr(run_job, "apply_async", lambda args, queue: sent.append((args, queue)))
    settings.YIDI_JOB_RUNNER = "celery"
    settings.CELERY_TASK_DEFAULT_QUEUE, settings.YIDI_CELERY_IMPORT_QUEUE = "yidi", "yidi-imports"
    with django_capture_on_commit_callbacks(execute=True):
        notice = start_job(kind="test.counts", title="计数", by=clerk)
        big = start_job(kind="clearing.import_settlements", title="导入", by=clerk, params={"batch_id": 0})
    assert sent == [([notice.pk], "yidi"), ([big.pk], "yidi-imports")]


def test_a_batch_of_documents_is_archived_in_a_constant_number_of_queries(clerk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.documents import NewDocument, store_documents

    def store(count: int, round_: int) -> int:
        job = Job.objects.create(kind="test.counts", title="批量", created_by=clerk, status=Job.Status.RUNNING)
        files = [NewDocument("annex12", f"k{index}", f"附件12-{index}", f"{index}.pdf", f"%PDF {round_} {index}".encode()) for index in range(count)]
        with CaptureQueriesContext(connection) as queries:
            documents = store_documents(files, by=clerk, job=job)
        assert [document.key for document in documents] == [file.key for file in files]
        assert [document.version for document in documents] == [round_ if index < 3 else 1 for index in range(count)]
        return len(queries)

    assert store(3, 1) == store(28, 2)
    assert Document.objects.filter(is_latest=True).count() == 28
    assert set(Document.objects.filter(key="k1").values_list("version", "is_latest")) == {(1, False), (2, True)}
