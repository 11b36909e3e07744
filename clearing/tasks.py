from celery import shared_task

from clearing.services import advances_cover_overdue


@shared_task(name="clearing.cover_overdue_with_advances")
def cover_overdue_with_advances() -> int:
    """Thin: let the advance pay first for every overdue clearing debt (also `manage.py cover_overdue`)."""
    return advances_cover_overdue()
