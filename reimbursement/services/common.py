"""What every claim service shares: the zero amount, the status check, the row lock,
the reason a clerk must give, the numbering counters and the maker–checker rule."""

from __future__ import annotations

from decimal import Decimal

from core.errors import DomainError
from core.models import Region
from reimbursement.models import Claim, ClaimCounter

ZERO = Decimal("0.00")


def _require_status(claim: Claim, allowed, action: str) -> None:
    if claim.status not in allowed:
        raise DomainError(
            f"申请 {claim.number} 当前状态为“{claim.get_status_display()}”，不能{action}。", code="wrong_status"
        )


def _locked(claim: Claim) -> Claim:
    """Re-read the claim under a row lock (the second of two racing users waits here)."""
    return Claim.objects.select_for_update().select_related("person", "region").get(pk=claim.pk)


def _reason(text: str, what: str) -> str:
    text = (text or "").strip()
    if len(text) < 2:
        raise DomainError(f"请填写{what}。", code="reason_required")
    return text[:500]


def _next_number(region: Region, year: int, kind: str) -> int:
    counter, _ = ClaimCounter.objects.select_for_update().get_or_create(region=region, year=year, kind=kind)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def _four_eyes(claim: Claim, by, action: str, *, own: str | None = None) -> None:
    """Maker–checker for every supervisor decision: not by whoever took the claim in or
    submitted it, even when the same account holds both the clerk and supervisor roles."""
    if claim.intake_by_id == by.pk:
        own = own or f"{action}自己受理的申请"
        raise DomainError(
            f"您是申请 {claim.number} 的受理人，按“受理与审核分离”的规定不能{own}，请由其他审核人员办理。",
            code="four_eyes",
        )
    if claim.submitted_by_id == by.pk:
        raise DomainError(
            f"申请 {claim.number} 由您提交复核，按“受理与审核分离”的规定不能由您{action}，请由其他审核人员办理。",
            code="four_eyes",
        )
