from celery import shared_task

from reimbursement.services import refresh_deadline_flags as refresh


@shared_task(name="reimbursement.refresh_deadline_flags")
def refresh_deadline_flags() -> dict:
    """Daily (YIDI_BEAT_SCHEDULE): thin, the service does the work."""
    return refresh()
