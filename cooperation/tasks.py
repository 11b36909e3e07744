from celery import shared_task

from cooperation.services import daily as run_daily


@shared_task(name="cooperation.daily")
def daily() -> dict:
    """Daily (YIDI_BEAT_SCHEDULE): overdue 协查 roll to the next period, unconfirmed 协同 results
    older than 10 working days count as confirmed. Thin: the services do the work."""
    return run_daily()
