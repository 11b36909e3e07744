"""The processing limit (办理时限): setting it, special cases (20 working days), 延期告知,
a new 受理回执 when it moves, and the daily flags job."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from core.audit import log_action
from core.errors import DomainError
from core.jurisdictions import rules_for
from core.models import AuditLog
from core.workdays import add_working_days
from reimbursement.deadlines import processing_days, processing_deadline
from reimbursement.models import Claim, ClaimNotice
from reimbursement.services.common import _four_eyes, _locked, _reason, _require_status
from reimbursement.services.notices import _issue_notice


def _set_deadline(claim: Claim) -> None:
    due = processing_deadline(
        claim.complete_on, care_type=claim.care_type, amount=claim.total_amount, special=claim.special
    )
    claim.due_on = due.as_date() if hasattr(due, "as_date") else due
    claim.deadline_confirmed = getattr(due, "confirmed", True)
    claim.processing_days = processing_days(care_type=claim.care_type, amount=claim.total_amount, special=claim.special,
                                            on=claim.complete_on)


def _reissue_receipt_if_moved(
    claim: Claim, *, before_due: date | None, before_days: int | None, by, today: date, why: str, system: bool = False
):
    """The deadline of an accepted claim moved: give the applicant a new 受理回执 and say so in the history.
    `system`: the daily job moved it (the notice names the clerk who took the claim in)."""
    if claim.complete_on is None or (claim.due_on == before_due and claim.processing_days == before_days):
        return None
    notice = _issue_notice(claim, kind=ClaimNotice.Kind.RECEIPT, by=by, today=today)
    version = claim.notices.filter(kind=ClaimNotice.Kind.RECEIPT).count()
    log_action(
        action=AuditLog.Action.CHANGE,
        **({"username": "system"} if system else {"user": by}),
        obj=claim,
        message=(
            f"{why}：办理期限由 {before_due:%Y-%m-%d} 变为 {claim.due_on:%Y-%m-%d}（{claim.processing_days}个工作日，"
            f"收齐材料日期 {claim.complete_on:%Y-%m-%d} 不变），已重新出具受理回执（第{version}版）"
        ),
    )
    return notice


@transaction.atomic
def claim_mark_special(*, claim: Claim, by, reason: str, today: date | None = None) -> Claim:
    """A supervisor marks a special case: the limit becomes 20 working days (第二十八条).

    Only while the limit has not passed: once a claim is overdue, extending its limit
    afterwards would erase the record that it was late.
    """
    today = today or timezone.localdate()
    reason = _reason(reason, "特殊情况的说明")
    claim = _locked(claim)
    _require_status(claim, (Claim.Status.INCOMPLETE, *Claim.CLOCK_STATUSES), "认定为特殊情况")
    if claim.special:
        raise DomainError(f"申请 {claim.number} 已认定为特殊情况（{claim.special_reason}）。", code="already_special")
    _four_eyes(claim, by, "认定为特殊情况", own="将自己受理的申请认定为特殊情况")
    if claim.due_on is not None and today > claim.due_on:
        raise DomainError(
            f"办理期限已过，不能再认定为特殊情况：申请 {claim.number} 的办理期限 {claim.due_on:%Y-%m-%d} 已届满。"
            f"特殊情况应在办理期限内认定{rules_for(claim.region_id, on=claim.due_on).cited('processing_limits')}；"
            "逾期记录予以保留，请登记延期告知并尽快办结。",
            code="deadline_passed",
        )
    old_due, old_days = claim.due_on, claim.processing_days
    claim.special = True
    claim.special_reason = reason
    claim.special_by = by
    if claim.complete_on:
        _set_deadline(claim)
    claim.save()
    due_text = f"，办理期限由 {old_due:%Y-%m-%d} 延至 {claim.due_on:%Y-%m-%d}" if old_due else ""
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=claim, message=f"认定为特殊情况（20个工作日）：{reason}{due_text}")
    if old_due:
        _reissue_receipt_if_moved(
            claim, before_due=old_due, before_days=old_days, by=by, today=today, why="认定为特殊情况"
        )
    return claim


@transaction.atomic
def claim_record_delay_notice(
    *, claim: Claim, by, reason: str, expected_on: date, method: str, today: date | None = None
) -> ClaimNotice:
    """Record that the applicant was told the claim cannot finish in time (第二十八条: 应提前告知)."""
    today = today or timezone.localdate()
    reason = _reason(reason, "不能按期办结的原因")
    claim = _locked(claim)
    _require_status(claim, Claim.CLOCK_STATUSES, "登记延期告知")
    if method not in ClaimNotice.Method.values:
        raise DomainError("请选择告知方式。", code="method")
    if expected_on is None or expected_on <= claim.due_on:
        raise DomainError(
            f"预计办结日期应晚于办理期限 {claim.due_on:%Y-%m-%d}（按期能办结的无需延期告知）。", code="expected_on"
        )
    rules = rules_for(claim.region_id, on=claim.complete_on)
    limit = add_working_days(claim.complete_on, rules.limits.special_days)
    if expected_on > limit:
        raise DomainError(
            f"预计办结日期不能晚于 {limit:%Y-%m-%d}：特殊情况办理时限也不超过{rules.limits.special_days}个工作日"
            f"{rules.cited('processing_limits')}。",
            code="expected_on",
        )
    notice = _issue_notice(
        claim,
        kind=ClaimNotice.Kind.DELAY,
        by=by,
        today=today,
        reason=reason,
        expected_on=expected_on,
        method=method,
        before_deadline=today <= claim.due_on,
    )
    log_action(
        action=AuditLog.Action.CHANGE,
        user=by,
        obj=claim,
        message=f"{notice.get_method_display()}申请人不能按期办结（预计 {expected_on:%Y-%m-%d}）：{reason}"
        + ("" if notice.before_deadline else "（办理期限已过）"),
    )
    return notice


def deadline_flag(due_on: date | None, today: date, soon_limit: date) -> str:
    if due_on is None:
        return ""
    if due_on < today:
        return "overdue"
    if due_on == today:
        return "due_today"
    if due_on <= soon_limit:
        return "due_soon"
    return "on_track"


def refresh_deadline_flags(*, today: date | None = None) -> dict[str, int]:
    """Daily: recompute deadlines computed over a then-unconfirmed calendar, and set the flags
    (overdue / due today / due within 2 working days / on track) of every open claim."""
    today = today or timezone.localdate()
    soon_limit = add_working_days(today, 2)
    counts = {"overdue": 0, "due_today": 0, "due_soon": 0, "on_track": 0, "recomputed": 0, "cleared": 0}
    with transaction.atomic():
        open_claims = list(Claim.objects.filter(status__in=Claim.CLOCK_STATUSES).select_for_update())
        changed = []
        for claim in open_claims:
            if not claim.deadline_confirmed and claim.complete_on:
                before = claim.due_on
                _set_deadline(claim)
                if claim.due_on != before:
                    counts["recomputed"] += 1
                    claim.save()
                    _reissue_receipt_if_moved(claim, before_due=before, before_days=claim.processing_days,
                                              by=claim.intake_by, today=today, why="工作日历确认后重算", system=True)
                elif claim.deadline_confirmed:
                    counts["recomputed"] += 1
                    claim.save()
                    log_action(
                        action=AuditLog.Action.CHANGE,
                        obj=claim,
                        username="system",
                        message=f"工作日历确认后重算办理期限：仍为 {claim.due_on:%Y-%m-%d}（期限已按确认日历计算）",
                    )
            flag = deadline_flag(claim.due_on, today, soon_limit)
            counts[flag] += 1
            claim.deadline_flag = flag
            claim.flags_refreshed_on = today
            changed.append(claim)
        Claim.objects.bulk_update(changed, ["deadline_flag", "flags_refreshed_on"], batch_size=500)
        counts["cleared"] = (
            Claim.objects.exclude(status__in=Claim.CLOCK_STATUSES).exclude(deadline_flag="").update(deadline_flag="")
        )
    return counts
