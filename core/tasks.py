from celery import shared_task

import config.celery  # noqa: F401  (the project's app, configured, before a task of this module is sent)
from core import audit_chain
from core.jobs import recover_stale_jobs, run_job_now


@shared_task(name="core.run_job")
def run_job(job_id: int) -> None:
    """Thin: the job's handler does the work (acks late; a lost worker's job is redelivered)."""
    run_job_now(job_id)


@shared_task(name="core.render_document")
def render_document(job_id: int, key: str) -> None:
    """Thin: one document of a batch job (core.document_batches); the last one finishes the job."""
    from core.document_batches import render_batch_document

    render_batch_document(job_id, key)


@shared_task(name="core.recover_stale_jobs")
def recover_stale_jobs_task() -> dict:
    """Periodic (beat): jobs whose worker died are run again or shown as failed with the reason."""
    return recover_stale_jobs()


@shared_task(name="core.verify_audit_chain")
def verify_audit_chain_task() -> bool:
    """Daily: check the audit hash chain; a break shows on the security administrator's home page."""
    return audit_chain.check_and_record().ok


@shared_task(name="core.purge_audit")
def purge_audit_task() -> int:
    """Weekly: delete audit records past the retention period (the purge is itself audited)."""
    return audit_chain.purge()
