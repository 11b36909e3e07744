"""Celery tasks of the filings app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from filings.services import filings_expire, import_previews_sweep
from filings.status_changes import filings_end_on_status_change


@shared_task(name="filings.expire_filings")
def expire_filings() -> int:
    """Daily (YIDI_BEAT_SCHEDULE): temporary filings past their end date become expired,
    and import previews abandoned for more than a day are deleted. Returns the expired count."""
    count = filings_expire()
    filings_end_on_status_change()  # 参保状态变更 ends long-term filings (江苏 第十条)
    import_previews_sweep()
    return count
