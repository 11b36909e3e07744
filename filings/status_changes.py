"""A long-term filing ends when the person's 参保状态 changes (江苏 第十条: 长期异地居住人员
登记备案后，未申请变更备案信息或参保状态未发生变更的，备案长期有效).

The daily job (filings.expire_filings task, expire_filings command) looks for active
long-term filings of persons whose status changed on or after the day the filing was
made and ends them like a cancellation: valid through the day before the change, the
cancellation queued for upload, and the reason in the audit trail and the history.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.audit import log_action
from core.jurisdictions import rules_for
from core.models import AuditLog
from filings.models import Filing, PersonGroup, UploadAction, UploadStatus


def filings_end_on_status_change(*, today: date | None = None, by=None) -> int:
    today = today or timezone.localdate()
    candidates = Filing.objects.filter(
        status=Filing.Status.ACTIVE,
        person_group=PersonGroup.LONG_TERM,
        insured_person__insurance_status_since__isnull=False,
        insured_person__insurance_status_since__gte=F("applied_on"),
        insured_person__insurance_status_since__lte=today,
    ).values_list("pk", flat=True)
    ended = 0
    for pk in list(candidates):
        with transaction.atomic():
            filing = (
                Filing.objects.select_for_update().select_related("insured_person")
                .filter(pk=pk, status=Filing.Status.ACTIVE).first()
            )
            if filing is None:
                continue
            person = filing.insured_person
            since = person.insurance_status_since
            article = rules_for(filing.insured_region_id, on=since).article("status_change")
            reason = (
                f"参保状态于 {since:%Y-%m-%d} 变更为“{person.get_insurance_status_display()}”，"
                f"长期异地居住备案终止{f'（{article}）' if article else ''}"
            )
            filing.status = Filing.Status.CANCELLED
            filing.terminated_on = max(since - timedelta(days=1), filing.start_date - timedelta(days=1))
            filing.cancel_reason = reason[:300]
            if filing.upload_status == UploadStatus.PENDING and filing.upload_action == UploadAction.NEW:
                filing.upload_status = UploadStatus.NOT_REQUIRED
                filing.upload_action = ""
            else:
                filing.upload_status = UploadStatus.PENDING
                filing.upload_action = UploadAction.CANCEL
                filing.upload_pending_since = timezone.now()
            filing._change_reason = reason
            filing.save()
            log_action(
                action=AuditLog.Action.TRANSITION, user=by, username="" if by else "system", obj=filing,
                from_state=Filing.Status.ACTIVE, to_state=filing.status, message=reason,
            )
            ended += 1
    return ended
