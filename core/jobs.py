"""Background jobs: one Job row per run, dispatched after commit.

A job kind is a handler function registered with `@job_handler("app.kind")`
in an app's `jobs.py`. `start_job()` creates the row and, once the
surrounding transaction commits, hands its id to the runner:

* "celery" (REDIS_URL set): the `core.tasks.run_job` Celery task;
* "thread" (the embedded default): a background thread of this process;
* "sync": right away, in the caller (tests).

Handlers receive the job and a `Progress` reporter, must be idempotent (a
job whose worker was lost runs again) and return a small JSON result. They
raise DomainError for a refusal the user should read.

Liveness. The process that runs a job (or, under the thread runner, holds it
in its queue) writes the row's `heartbeat_at` with each progress report and
every YIDI_JOB_HEARTBEAT_SECONDS from a keeper thread. `recover_stale_jobs()`
— Celery beat every YIDI_JOB_SWEEP_SECONDS, and under the thread runner the
keeper thread of the web process itself — finds jobs whose heartbeat stopped
for YIDI_JOB_STALE_SECONDS (a killed worker, a restarted `make run`) and runs
each once more, or after YIDI_JOB_MAX_ATTEMPTS runs fails it with the reason.
Whatever way a job fails, its kind's `on_failure(job, reason)` hook (given to
`job_handler`) then releases the domain object the job was working on, e.g. an
import batch left "校验中".
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.errors import DomainError
from core.idcard import redact_id_numbers
from core.models import Job

logger = logging.getLogger(__name__)

Handler = Callable[[Job, "Progress"], dict[str, Any] | None]
FailureHook = Callable[[Job, str], None]


@dataclass(frozen=True)
class JobKind:
    handler: Handler
    on_failure: FailureHook | None = None
    queue: str = "default"  # or "imports": settings.YIDI_CELERY_IMPORT_QUEUE


_kinds: dict[str, JobKind] = {}
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()

BROKER_DOWN = "任务队列暂时不可用，任务未能提交，请稍后重试或联系系统管理员。"
WORKER_LOST = "执行任务的工作进程意外终止{retried}，任务已停止。请重新提交；如反复出现请联系系统管理员并告知任务编号 {pk}。"
TIMED_OUT = "任务超时，已停止。请缩小范围后重试。"
NEVER_STARTED = "任务排队超过{hours}小时仍未开始执行（后台工作进程可能未运行），已停止。请联系系统管理员。"
RETRYING = "工作进程意外终止，正在自动重试（第{attempt}次执行）"


class _Detached:
    def __repr__(self) -> str:
        return "DETACHED"


#: A handler returns this when it has handed its work to other tasks that finish
#: the job themselves (core.document_batches): the job stays running.
DETACHED: Any = _Detached()


def worker_lost_reason(job_id: int, attempts: int) -> str:
    retried = f"，已自动重试{attempts - 1}次仍未完成" if attempts > 1 else ""
    return WORKER_LOST.format(retried=retried, pk=job_id)


def job_handler(kind: str, *, on_failure: FailureHook | None = None, queue: str = "default") -> Callable[[Handler], Handler]:
    """Register a job kind. `on_failure(job, reason)` runs once when a job of
    this kind ends failed for any reason (refusal, crash, timeout, lost worker,
    broker down): it puts back what the job owned, in its own words.
    `queue="imports"` sends its jobs to the Celery queue of the big imports."""
    if queue not in ("default", "imports"):
        raise ValueError(f"unknown job queue {queue!r}")

    def register(func: Handler) -> Handler:
        _kinds[kind] = JobKind(handler=func, on_failure=on_failure, queue=queue)
        return func

    return register


def _kind(kind: str) -> JobKind:
    try:
        return _kinds[kind]
    except KeyError:
        raise LookupError(f"no job handler registered for {kind!r}") from None


def handler_for(kind: str) -> Handler:
    return _kind(kind).handler


class Progress:
    """Writes progress (and with it the heartbeat) to the Job row, at most every `interval` seconds."""

    def __init__(self, job: Job, interval: float = 0.5) -> None:
        self.job = job
        self.interval = interval
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None, message: str | None = None, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval and (total is None or done < total):
            return
        self._last = now
        fields: dict[str, Any] = {"progress_done": done}
        if total is not None:
            fields["progress_total"] = total
        if message is not None:
            fields["progress_message"] = message[:200]
        Job.objects.filter(pk=self.job.pk).update(heartbeat_at=timezone.now(), **fields)
        for name, value in fields.items():
            setattr(self.job, name, value)


def start_job(*, kind: str, title: str, by=None, params: dict[str, Any] | None = None, region=None) -> Job:
    """Create a queued job and dispatch it when the current transaction commits."""
    _kind(kind)  # fail now, in the caller, for an unknown kind
    job = Job.objects.create(kind=kind, title=redact_id_numbers(title[:200]), params=redact_id_numbers(params or {}),
                             created_by=by, region=region)
    transaction.on_commit(lambda: dispatch(job.pk))
    return job


def dispatch(job_id: int) -> None:
    """Hand a committed job to the runner; a job that cannot be queued is failed, never left waiting."""
    try:
        _dispatch(job_id)
    except Exception:
        logger.exception("could not dispatch job %s", job_id)
        fail_job(job_id, BROKER_DOWN, statuses=(Job.Status.QUEUED,))


def _dispatch(job_id: int) -> None:
    runner = settings.YIDI_JOB_RUNNER
    if runner == "celery":
        from core.tasks import run_job

        # The queue is read at call time so tests and deployments can route it.
        kind = _kinds.get(Job.objects.values_list("kind", flat=True).get(pk=job_id))
        queue = settings.YIDI_CELERY_IMPORT_QUEUE if kind and kind.queue == "imports" else settings.CELERY_TASK_DEFAULT_QUEUE
        run_job.apply_async(args=[job_id], queue=queue)
    elif runner == "thread":
        # This process now vouches for the job until a thread has run it.
        keeper.hold(job_id)
        Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(heartbeat_at=timezone.now())
        try:
            _thread_executor().submit(_run_in_thread, job_id)
        except BaseException:
            keeper.release(job_id)
            raise
    elif runner == "sync":
        run_job_now(job_id)
    else:  # pragma: no cover - configuration error
        raise ValueError(f"unknown YIDI_JOB_RUNNER {runner!r}")


def _thread_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="yidi-job")
        keeper.ensure_running()
        return _executor


def _run_in_thread(job_id: int) -> None:
    close_old_connections()
    try:
        run_job_now(job_id)
    finally:
        keeper.release(job_id)
        connections.close_all()  # this thread's: an idle pool thread keeps no connection open


def _stale_before(now):
    return now - timedelta(seconds=settings.YIDI_JOB_STALE_SECONDS)


def _silent_since(moment) -> Q:
    """Running jobs whose process has said nothing since `moment`."""
    return Q(heartbeat_at__lt=moment) | Q(heartbeat_at__isnull=True, started_at__lt=moment)


def run_job_now(job_id: int) -> Job | None:
    """Run a job in this process.

    Safe to deliver twice: a finished job, or one another live process is
    running (its heartbeat is fresh), is left alone. A running job whose
    process went silent is taken over, within YIDI_JOB_MAX_ATTEMPTS runs.
    """
    now = timezone.now()
    max_attempts = settings.YIDI_JOB_MAX_ATTEMPTS
    if keeper.is_running(job_id):
        return None  # a second delivery to the very process that runs it
    abandoned = Q(status=Job.Status.RUNNING) & _silent_since(_stale_before(now))
    exhausted = Job.objects.filter(abandoned, pk=job_id, attempts__gte=max_attempts).values_list("attempts", flat=True).first()
    if exhausted is not None:
        fail_job(job_id, worker_lost_reason(job_id, exhausted), statuses=(Job.Status.RUNNING,))
        return None
    claimed = (
        Job.objects.filter(Q(status=Job.Status.QUEUED) | abandoned, pk=job_id, attempts__lt=max_attempts)
        .update(status=Job.Status.RUNNING, started_at=now, heartbeat_at=now, error="", attempts=F("attempts") + 1)
    )
    if not claimed:
        logger.debug("job %s finished, running elsewhere or missing; nothing to do", job_id)
        return None
    job = Job.objects.get(pk=job_id)
    attempt = job.attempts
    progress = Progress(job)
    from celery.exceptions import SoftTimeLimitExceeded  # here: a process that runs no job need not load Celery

    with keeper.running(job_id):
        try:
            result = handler_for(job.kind)(job, progress) or {}
        except DomainError as exc:
            fail_job(job.pk, exc.message, attempt=attempt)
        except SoftTimeLimitExceeded:
            fail_job(job.pk, TIMED_OUT, attempt=attempt)
        except Exception as exc:
            # Details go to the log only: the job page is shown to the whole region.
            logger.exception("job %s (%s) failed", job.pk, job.kind)
            fail_job(job.pk, f"内部错误（{type(exc).__name__}），请联系系统管理员并告知任务编号 {job.pk}。", attempt=attempt)
        else:
            if result is DETACHED:
                Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())
            else:
                Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, attempts=attempt).update(
                    status=Job.Status.DONE, finished_at=timezone.now(), result=redact_id_numbers(result), error="",
                    progress_message="已完成",
                )
    job.refresh_from_db()
    return job


def fail_job(job_id: int, reason: str, *, statuses=(Job.Status.QUEUED, Job.Status.RUNNING), attempt: int | None = None) -> bool:
    """End a job as failed with `reason`, then let its kind release what it
    owned. False (and no hook) when the job had already ended or moved on."""
    rows = Job.objects.filter(pk=job_id, status__in=statuses)
    if attempt is not None:
        rows = rows.filter(attempts=attempt)
    if not rows.update(status=Job.Status.FAILED, finished_at=timezone.now(), error=redact_id_numbers(reason)):
        return False
    job = Job.objects.filter(pk=job_id).first()
    kind = _kinds.get(job.kind) if job is not None else None
    if kind is not None and kind.on_failure is not None:
        try:
            kind.on_failure(job, reason)
        except Exception:
            logger.exception("on_failure hook of job %s (%s) failed", job_id, job.kind)
    return True


def recover_stale_jobs(*, now=None) -> dict[str, int]:
    """Find jobs that can no longer finish and run them again or fail them.

    * running, heartbeat silent for YIDI_JOB_STALE_SECONDS: its process died.
      Queued again while it has runs left (handlers are idempotent), else
      failed; failed at once when it had already run past the task time limit.
    * queued by a thread runner whose process went silent: queued again here.
    * queued for the broker and never started within YIDI_JOB_QUEUE_TIMEOUT:
      failed (no worker is consuming the queue).

    Safe to run in several processes at once: every change is conditional on
    the state that was read.
    """
    now = now or timezone.now()
    stale_before = _stale_before(now)
    time_limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    counts = {"requeued": 0, "failed": 0}
    mine = keeper.held()
    dead = (
        Job.objects.filter((Q(status=Job.Status.RUNNING) & _silent_since(stale_before)) | Q(status=Job.Status.QUEUED, heartbeat_at__lt=stale_before))
        .exclude(pk__in=mine)
        .values("pk", "status", "attempts", "started_at", "heartbeat_at")
        .order_by("pk")
    )
    for row in list(dead):
        seen = Q(pk=row["pk"], status=row["status"], attempts=row["attempts"]) & (
            Q(heartbeat_at=row["heartbeat_at"]) if row["heartbeat_at"] else Q(heartbeat_at__isnull=True)
        )
        if row["status"] == Job.Status.RUNNING and row["started_at"] and row["started_at"] < now - time_limit:
            reason = TIMED_OUT
        elif row["attempts"] >= settings.YIDI_JOB_MAX_ATTEMPTS:
            reason = worker_lost_reason(row["pk"], row["attempts"])
        else:
            message = RETRYING.format(attempt=row["attempts"] + 1) if row["attempts"] else "排队中（原进程已终止，重新排队）"
            if Job.objects.filter(seen).update(status=Job.Status.QUEUED, heartbeat_at=None, progress_message=message):
                logger.warning("job %s: its process went silent; queued again (run %s)", row["pk"], row["attempts"] + 1)
                counts["requeued"] += 1
                transaction.on_commit(lambda pk=row["pk"]: dispatch(pk))
            continue
        # Claim the row first so that only one sweeper fails it and calls the hook.
        if Job.objects.filter(seen).update(heartbeat_at=now) and fail_job(row["pk"], reason):
            logger.warning("job %s failed: %s", row["pk"], reason)
            counts["failed"] += 1
    never_started = Job.objects.filter(
        status=Job.Status.QUEUED,
        heartbeat_at__isnull=True,
        created_at__lt=now - timedelta(seconds=settings.YIDI_JOB_QUEUE_TIMEOUT),
    ).values_list("pk", flat=True)
    reason = NEVER_STARTED.format(hours=round(settings.YIDI_JOB_QUEUE_TIMEOUT / 3600, 1)).replace(".0小时", "小时")
    for pk in list(never_started):
        if fail_job(pk, reason, statuses=(Job.Status.QUEUED,)):
            counts["failed"] += 1
    return counts


class Keeper:
    """One daemon thread per process: touches the heartbeat of the jobs this
    process holds and, under the thread runner (no beat there), runs
    `recover_stale_jobs()` every YIDI_JOB_SWEEP_SECONDS.

    Started lazily by the first job this process runs or queues, and under the
    thread runner by the first request (core.apps), so a restarted `make run`
    cleans up after its predecessor without waiting for a new job. Restarted
    after a fork (a Celery prefork child does not inherit threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}
        self._running: set[int] = set()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stop = threading.Event()
        self._last_sweep = 0.0

    def hold(self, job_id: int) -> None:
        with self._lock:
            self._held[job_id] = self._held.get(job_id, 0) + 1

    def release(self, job_id: int) -> None:
        with self._lock:
            left = self._held.get(job_id, 0) - 1
            if left > 0:
                self._held[job_id] = left
            else:
                self._held.pop(job_id, None)

    def held(self) -> list[int]:
        with self._lock:
            return list(self._held)

    def is_running(self, job_id: int) -> bool:
        with self._lock:
            return job_id in self._running

    @contextmanager
    def running(self, job_id: int):
        self.hold(job_id)
        with self._lock:
            self._running.add(job_id)
        if settings.YIDI_JOB_RUNNER != "sync":
            self.ensure_running()
        try:
            yield
        finally:
            with self._lock:
                self._running.discard(job_id)
            self.release(job_id)

    def ensure_running(self) -> None:
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            if self._pid != os.getpid():  # forked: the parent's jobs are not ours
                self._held.clear()
                self._running.clear()
            self._pid = os.getpid()
            self._stop = threading.Event()
            self._last_sweep = 0.0
            self._thread = threading.Thread(target=self._loop, args=(self._stop,), name="yidi-job-keeper", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """For tests: end the thread (and its database connection)."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None:
            thread.join(timeout=10)

    def _loop(self, stop: threading.Event) -> None:
        tick = max(0.2, min(settings.YIDI_JOB_HEARTBEAT_SECONDS, settings.YIDI_JOB_SWEEP_SECONDS))
        while True:
            try:
                self.beat()
            except Exception:
                logger.exception("job keeper: heartbeat or sweep failed")
            finally:
                connections.close_all()  # this thread's own connections: none is kept between ticks
            if stop.wait(tick):
                return

    def beat(self) -> None:
        held = self.held()
        if held:
            Job.objects.filter(pk__in=held, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
                heartbeat_at=timezone.now()
            )
        if settings.YIDI_JOB_RUNNER == "thread" and time.monotonic() - self._last_sweep >= settings.YIDI_JOB_SWEEP_SECONDS:
            self._last_sweep = time.monotonic()
            recover_stale_jobs()


keeper = Keeper()


def start_keeper_for_thread_runner(**kwargs) -> None:
    """request_started receiver: the web process of the thread runner sweeps stale jobs itself."""
    if settings.YIDI_JOB_RUNNER == "thread":
        keeper.ensure_running()
