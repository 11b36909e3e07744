"""Notices to the applicant (一次性告知书, 受理回执, 延期告知) and printable forms,
rendered by a background job."""

from __future__ import annotations

from datetime import date

from core.errors import DomainError
from core.jobs import start_job
from reimbursement.models import CareType, Claim, ClaimNotice

DOCUMENT_JOB = "reimbursement.claim_document"


def _issue_notice(claim: Claim, *, kind: str, by, today: date, items=(), **extra) -> ClaimNotice:
    notice = ClaimNotice.objects.create(
        claim=claim,
        kind=kind,
        issued_on=today,
        issued_by=by,
        items=list(items),
        due_on=claim.due_on,
        complete_on=claim.complete_on,
        processing_days=claim.processing_days,
        special=claim.special,
        deadline_confirmed=claim.deadline_confirmed,
        **extra,
    )
    start_job(
        kind=DOCUMENT_JOB,
        title=f"{notice.get_kind_display()} {claim.number}",
        by=by,
        params={"claim_id": claim.pk, "form": kind, "notice_id": notice.pk},
        region=claim.region,
    )
    return notice


#: 附件9 shows the fund payment as settled: only for claims a supervisor approved.
SETTLEMENT_STATUSES = (Claim.Status.APPROVED, Claim.Status.PAYMENT_NOTIFIED, Claim.Status.PAID)


def settlement_printable(claim: Claim) -> bool:
    return (
        claim.care_type in (CareType.INPATIENT, CareType.MATERNITY)
        and claim.status in SETTLEMENT_STATUSES
        and claim.fund_payment is not None
    )


def check_settlement_printable(claim: Claim) -> None:
    """附件9 异地就医住院结算单 only for an inpatient claim approved (and not rejected or cancelled)."""
    if claim.care_type not in (CareType.INPATIENT, CareType.MATERNITY):
        raise DomainError("异地就医住院结算单（附件9）只用于住院费用。", code="not_inpatient")
    if claim.fund_payment is None and claim.status not in SETTLEMENT_STATUSES:
        raise DomainError("尚未计算待遇，不能打印结算单：请先完成待遇计算。", code="not_calculated")
    if claim.status not in SETTLEMENT_STATUSES:
        raise DomainError(
            f"异地就医住院结算单（附件9）只在审批通过后打印：申请 {claim.number} 当前状态为“{claim.get_status_display()}”，"
            "基金支付尚未确定，不能出具结算单。",
            code="not_approved",
        )


def claim_print(*, claim: Claim, by, form: str, notice: ClaimNotice | None = None):
    """Queue (re)generation of a claim's printable form; the PDF is rendered by a background job."""
    titles = {
        ClaimNotice.Kind.MISSING_MATERIALS: "一次性告知书",
        ClaimNotice.Kind.RECEIPT: "受理回执",
        ClaimNotice.Kind.DELAY: "延期办理告知书",
        "settlement": "异地就医住院结算单",
    }
    if form not in titles:
        raise DomainError(f"未知的打印表单：{form}", code="unknown_form")
    if form == "settlement":
        check_settlement_printable(claim)
        params = {"claim_id": claim.pk, "form": form}
    else:
        if notice is None:
            notice = claim.notices.filter(kind=form).order_by("-created_at", "-pk").first()
        if notice is None or notice.claim_id != claim.pk or notice.kind != form:
            raise DomainError(f"本申请没有可打印的{titles[form]}。", code="no_notice")
        params = {"claim_id": claim.pk, "form": form, "notice_id": notice.pk}
    return start_job(kind=DOCUMENT_JOB, title=f"{titles[form]} {claim.number}", by=by, params=params, region=claim.region)
