from celery import shared_task

from core.jobs import run_job_now


@shared_task(name="core.run_job")
def run_job(job_id: int) -> None:
    """Thin: the job's handler does the work (acks late; a lost worker's job is redelivered)."""
    run_job_now(job_id)
