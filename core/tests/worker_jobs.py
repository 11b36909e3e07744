"""Job kinds for the tests that run a real Celery worker process (imported by
core/tests/worker_app.py in the worker, and by the tests themselves)."""

from __future__ import annotations

import time

from core.jobs import job_handler
from core.models import Job

SLOW = "test.worker_slow"


def _note_failure(job, reason: str) -> None:
    Job.objects.filter(pk=job.pk).update(result={"released": reason})


@job_handler(SLOW, on_failure=_note_failure)
def slow(job, progress) -> dict:
    """Counts `steps` steps of `delay` seconds; with `quick_retry`, a
    second run finishes at once (the first is the one the test kills)."""
    steps = int(job.params.get("steps", 10))
    delay = float(job.params.get("delay", 0.2))
    if job.attempts > 1 and job.params.get("quick_retry"):
        steps, delay = 2, 0
    for done in range(1, steps + 1):
        time.sleep(delay)
        progress(done, steps, f"第{done}步", force=True)
    return {"summary": f"第{job.attempts}次执行完成 {steps} 步"}
