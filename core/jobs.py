"""Background jobs: one Job row per run, dispatched after commit.

A job kind is a handler function registered with `@job_handler("app.kind")`
in an app's `jobs.py`. `start_job()` creates the row and, once the
surrounding transaction commits, hands its id to the runner:

* "celery" (REDIS_URL set): the `core.tasks.run_job` Celery task;
* "thread" (the embedded default): a background thread of this process;
* "sync": right away, in the caller (tests).

Handlers receive the job and a `Progress` reporter, must be idempotent (a
task redelivered after a lost worker runs again) and return a small JSON
result. They raise DomainError for a refusal the user should read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.errors import DomainError
from core.models import Job

logger = logging.getLogger(__name__)

Handler = Callable[[Job, "Progress"], dict[str, Any] | None]
_handlers: dict[str, Handler] = {}
_PROCESS_STARTED = timezone.now()
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        _handlers[kind] = func
        return func

    return register


def handler_for(kind: str) -> Handler:
    try:
        return _handlers[kind]
    except KeyError:
        raise LookupError(f"no job handler registered for {kind!r}") from None


class Progress:
    """Writes progress to the Job row, at most every `interval` seconds."""

    def __init__(self, job: Job, interval: float = 0.5) -> None:
        self.job = job
        self.interval = interval
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None, message: str | None = None, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval and (total is None or done < total):
            return
        self._last = now
        fields = {"progress_done": done}
        if total is not None:
            fields["progress_total"] = total
        if message is not None:
            fields["progress_message"] = message[:200]
        Job.objects.filter(pk=self.job.pk).update(**fields)
        for name, value in fields.items():
            setattr(self.job, name, value)


def start_job(*, kind: str, title: str, by=None, params: dict[str, Any] | None = None, region=None) -> Job:
    """Create a queued job and dispatch it when the current transaction commits."""
    handler_for(kind)  # fail now, in the caller, for an unknown kind
    job = Job.objects.create(kind=kind, title=title[:200], params=params or {}, created_by=by, region=region)
    transaction.on_commit(lambda: dispatch(job.pk))
    return job


MAX_ATTEMPTS = 3
BROKER_DOWN = "任务队列暂时不可用，任务未能提交，请稍后重试或联系系统管理员。"
INTERRUPTED = "任务因服务重启或超时而中断，请重新提交。"


def dispatch(job_id: int) -> None:
    """Hand a committed job to the runner; a job that cannot be queued is failed, never left waiting."""
    try:
        _dispatch(job_id)
    except Exception:
        logger.exception("could not dispatch job %s", job_id)
        Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
            status=Job.Status.FAILED, finished_at=timezone.now(), error=BROKER_DOWN
        )


def _dispatch(job_id: int) -> None:
    runner = settings.YIDI_JOB_RUNNER
    if runner == "celery":
        from core.tasks import run_job

        # The queue is read at call time so tests and deployments can route it.
        run_job.apply_async(args=[job_id], queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    elif runner == "thread":
        _thread_executor().submit(_run_in_thread, job_id)
    elif runner == "sync":
        run_job_now(job_id)
    else:  # pragma: no cover - configuration error
        raise ValueError(f"unknown YIDI_JOB_RUNNER {runner!r}")


def _thread_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            # Whatever an earlier process left queued or running in its threads
            # is gone with it (the thread runner serves one process: make run).
            fail_stale_jobs(before=_PROCESS_STARTED)
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="yidi-job")
        return _executor


def fail_stale_jobs(*, before=None) -> int:
    """Mark jobs that can no longer finish as failed.

    Without `before`: running longer than the task time limit (a killed
    worker) or queued for six hours. With `before`: anything queued or started
    before that moment (an earlier process of the thread runner).
    """
    now = timezone.now()
    if before is None:
        running_since = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 300)
        queued_since = now - timedelta(hours=6)
    else:
        running_since = queued_since = before
    stale = Q(status=Job.Status.RUNNING, started_at__lt=running_since) | Q(
        status=Job.Status.QUEUED, created_at__lt=queued_since
    )
    return Job.objects.filter(stale).update(status=Job.Status.FAILED, finished_at=now, error=INTERRUPTED)


def _run_in_thread(job_id: int) -> None:
    close_old_connections()
    try:
        run_job_now(job_id)
    finally:
        close_old_connections()


def run_job_now(job_id: int) -> Job | None:
    """Run a job in this process. Safe to call twice: a finished job is left alone."""
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING, attempts__gte=MAX_ATTEMPTS).update(
        status=Job.Status.FAILED, finished_at=timezone.now(), error=f"任务已尝试{MAX_ATTEMPTS}次仍未完成，已停止。请联系系统管理员。"
    )
    claimed = Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), error="", attempts=F("attempts") + 1
    )
    if not claimed:
        logger.debug("job %s already finished or missing; nothing to do", job_id)
        return None
    job = Job.objects.get(pk=job_id)
    progress = Progress(job)
    try:
        result = handler_for(job.kind)(job, progress) or {}
    except DomainError as exc:
        _finish(job, Job.Status.FAILED, error=exc.message)
    except SoftTimeLimitExceeded:
        _finish(job, Job.Status.FAILED, error="任务超时，已停止。请缩小范围后重试。")
    except Exception as exc:
        # Details go to the log only: the job page is shown to the whole region.
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(job, Job.Status.FAILED, error=f"内部错误（{type(exc).__name__}），请联系系统管理员并告知任务编号 {job.pk}。")
    else:
        _finish(job, Job.Status.DONE, result=result)
    job.refresh_from_db()
    return job


def _finish(job: Job, status: str, *, result: dict | None = None, error: str = "") -> None:
    fields: dict[str, Any] = {"status": status, "finished_at": timezone.now(), "error": error}
    if result is not None:
        fields["result"] = result
    if status == Job.Status.DONE:
        fields["progress_message"] = "已完成"
    Job.objects.filter(pk=job.pk).update(**fields)
