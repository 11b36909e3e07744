"""A job through a real Celery worker process (not eager mode), as in production.

Needs PostgreSQL (the worker must see the test database) and Redis (the
broker). CI provides both; elsewhere the test skips with the reason, and under
CI=true a missing service fails it.
"""

import os
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
def celery_worker_process(settings, tmp_path):
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
        YIDI_JOB_RUNNER="celery",
        DJANGO_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        DJANGO_DB_CONN_MAX_AGE="0",
    )
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
            "-Q", queue, "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    settings.YIDI_JOB_RUNNER = "celery"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
        connection.close()  # let the flush after this test see no worker connections


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
