"""Batch approval: a supervisor approves several checked claims in one step.

Each claim still goes through `services.claim_approve` on its own (four eyes, the row lock
that lets only one of two racing supervisors win, the recalculation check against the figure
the page showed), in its own transaction: one refusal leaves the others approved and is
reported with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from core.errors import DomainError
from reimbursement import services
from reimbursement.models import Claim


@dataclass
class BatchOutcome:
    approved: list[Claim] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (claim number, why)


def own_case_reason(claim: Claim, user) -> str:
    """Why this supervisor may not decide the claim (shown before they try), or ""."""
    if claim.intake_by_id == user.pk:
        return "本人受理的申请，须由其他审核人员审批"
    if claim.submitted_by_id == user.pk:
        return "本人提交复核的申请，须由其他审核人员审批"
    return ""


def claims_approve(*, choices: list[tuple[Claim, Decimal | None]], by) -> BatchOutcome:
    """Approve each (claim, fund payment the page showed) in turn."""
    if not choices:
        raise DomainError("请至少选择一笔待复核的申请。", code="empty")
    outcome = BatchOutcome()
    for claim, expected in choices:
        try:
            outcome.approved.append(services.claim_approve(claim=claim, by=by, expected_fund_payment=expected))
        except DomainError as exc:
            outcome.refused.append((claim.number, exc.message))
    return outcome
