from celery import shared_task

from core.jobs import recover_stale_jobs, run_job_now


@shared_task(name="core.run_job")
def run_job(job_id: int) -> None:
    """Thin: the job's handler does the work (acks late; a lost worker's job is redelivered)."""
    run_job_now(job_id)


@shared_task(name="core.recover_stale_jobs")
def recover_stale_jobs_task() -> dict:
    """Periodic (beat): jobs whose worker died are run again or shown as failed with the reason."""
    return recover_stale_jobs()
