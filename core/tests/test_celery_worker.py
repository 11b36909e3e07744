"""A job through a real Celery worker process (not eager mode), as in production.

Needs PostgreSQL (the worker must see the test database) and Redis (the
broker). CI provides both; elsewhere the test skips with the reason, and under
CI=true a missing service fails it.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from core.jobs import start_job
from core.models import Document, Job
from core.selftest import KIND
from core.tests.pdfutil import has_embedded_cjk_font, pdf_text
from core.tests.worker_jobs import SLOW

ROOT = Path(__file__).resolve().parents[2]


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def _database_url() -> str:
    conf = connection.settings_dict
    password = f":{conf['PASSWORD']}" if conf.get("PASSWORD") else ""
    return f"postgres://{conf['USER']}{password}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


@pytest.fixture
def celery_workers(settings, tmp_path):
    """Start real worker processes on a queue of their own: `spawn(name)`; all are
    stopped at the end. The workers beat every second and count as dead after four."""
    redis_url = os.environ.get("REDIS_URL", "")
    _require(bool(redis_url), "REDIS_URL is not set: a real Celery worker needs the Redis broker")
    _require(connection.vendor == "postgresql", "the worker process must share the test database: needs PostgreSQL")
    queue = f"yidi-test-{uuid.uuid4().hex[:8]}"
    # The worker is another "host": with shared storage on (YIDI_S3_*) it writes to the bucket,
    # under this test's own key prefix, and the test reads what it stored from there.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST", "YIDI_")) or key.startswith("YIDI_S3_")}
    location = settings.STORAGES["default"].get("OPTIONS", {}).get("location")
    if location:
        env["YIDI_S3_PREFIX"] = location
    env.update(
        DATABASE_URL=_database_url(),
        REDIS_URL=redis_url,
        YIDI_CELERY_QUEUE=queue,
        YIDI_CELERY_IMPORT_QUEUE=queue,
        YIDI_JOB_RUNNER="celery",
        YIDI_JOB_HEARTBEAT_SECONDS="1",
        YIDI_JOB_STALE_SECONDS="4",
        DJANGO_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        DJANGO_DB_CONN_MAX_AGE="0",
    )
    settings.YIDI_JOB_RUNNER = "celery"
    settings.CELERY_TASK_DEFAULT_QUEUE = settings.YIDI_CELERY_IMPORT_QUEUE = queue
    settings.YIDI_JOB_HEARTBEAT_SECONDS = 1
    settings.YIDI_JOB_STALE_SECONDS = 4
    started: list[tuple[subprocess.Popen, object]] = []

    def spawn(name: str = "worker") -> subprocess.Popen:
        log = (tmp_path / f"{name}.log").open("w")
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "core.tests.worker_app", "worker", "--pool=solo", "--concurrency=1",
                "-Q", queue, "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-n", f"{name}-{queue}@%h",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        started.append((worker, log))
        return worker

    spawn.logs = lambda: "\n".join(f"--- {path.name}\n{path.read_text()}" for path in sorted(tmp_path.glob("*.log")))
    try:
        yield spawn
    finally:
        for worker, log in started:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
            log.close()
        connection.close()  # let the flush after this test see no worker connections


@pytest.fixture
def celery_worker_process(celery_workers):
    return celery_workers()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_job_runs_through_a_real_celery_worker(celery_worker_process, administrator, tmp_path):
    job = start_job(kind=KIND, title="打印自检（Celery）", by=administrator, params={"remark": "由 Celery 工作进程生成"})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        assert celery_worker_process.poll() is None, (tmp_path / "worker.log").read_text()
        time.sleep(0.3)
    assert job.status == Job.Status.DONE, f"{job.status} {job.error}\n" + (tmp_path / "worker.log").read_text()
    assert job.attempts == 1
    document = Document.objects.get(job=job)
    content = document.file.read()
    assert Document.checksum(content) == document.sha256
    assert has_embedded_cjk_font(content)
    assert "由 Celery 工作进程生成" in pdf_text(content)
    assert "core.run_job" in (tmp_path / "worker.log").read_text()


def _wait_for(job, condition, *, seconds: float, workers, sweep: bool = False) -> float:
    """Poll the job row until `condition(job)`; with `sweep`, also do what beat does.
    Returns the seconds it took."""
    from core.jobs import recover_stale_jobs

    began = time.monotonic()
    while time.monotonic() - began < seconds:
        if sweep:
            recover_stale_jobs()
        job.refresh_from_db()
        if condition(job):
            return time.monotonic() - began
        time.sleep(0.25)
    pytest.fail(f"job {job.pk} still {job.status} ({job.progress_message}) {job.error}\n" + workers.logs())


def _kill_mid_job(worker, job, workers, *, run: int) -> None:
    _wait_for(job, lambda j: j.status == Job.Status.RUNNING and j.attempts == run and j.progress_done >= 3, seconds=90, workers=workers)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_job_of_a_killed_worker_is_found_within_seconds_and_run_again(celery_workers, administrator):
    job = start_job(kind=SLOW, title="慢任务", by=administrator, params={"steps": 300, "delay": 0.1, "quick_retry": True})
    _kill_mid_job(celery_workers("first"), job, celery_workers, run=1)
    stuck_at = job.percent
    # Beat's sweep (every YIDI_JOB_SWEEP_SECONDS) finds it once the heartbeat is 4 s old,
    # not after Redis's visibility timeout (an hour), and queues it again.
    found = _wait_for(job, lambda j: j.status != Job.Status.RUNNING, seconds=30, workers=celery_workers, sweep=True)
    assert found < 4 + 5
    assert job.status == Job.Status.QUEUED and job.progress_message == "工作进程意外终止，正在自动重试（第2次执行）"
    celery_workers("second")
    _wait_for(job, lambda j: j.is_finished, seconds=90, workers=celery_workers)
    assert job.status == Job.Status.DONE, job.error
    assert job.attempts == 2 and job.result == {"summary": "第2次执行完成 2 步"}
    assert 0 < stuck_at < 100


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_is_killed_on_each_run_fails_with_the_reason_and_releases_what_it_owned(
    celery_workers, administrator, settings
):
    settings.YIDI_JOB_MAX_ATTEMPTS = 2
    job = start_job(kind=SLOW, title="慢任务", by=administrator, params={"steps": 300, "delay": 0.1})
    _kill_mid_job(celery_workers("first"), job, celery_workers, run=1)
    second = celery_workers("second")
    _wait_for(job, lambda j: j.attempts == 2, seconds=90, workers=celery_workers, sweep=True)
    _kill_mid_job(second, job, celery_workers, run=2)
    found = _wait_for(job, lambda j: j.is_finished, seconds=30, workers=celery_workers, sweep=True)
    assert found < 4 + 5
    assert job.status == Job.Status.FAILED
    assert job.error == f"执行任务的工作进程意外终止，已自动重试1次仍未完成，任务已停止。请重新提交；如反复出现请联系系统管理员并告知任务编号 {job.pk}。"
    assert job.result == {"released": job.error}  # the kind's on_failure hook ran
