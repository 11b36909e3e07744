"""受理 at the counter: registering a claim, correcting it before review, materials handed
in later (补收) and withdrawing it (撤销)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from core.audit import log_action
from core.errors import DomainError
from core.models import AuditLog, InsuredPerson, Region
from core.money import format_yuan
from reimbursement import checklists
from reimbursement.models import BenefitUsage, Claim, ClaimNotice, Situation
from reimbursement.services.common import _locked, _next_number, _reason, _require_status
from reimbursement.services.deadlines import _reissue_receipt_if_moved, _set_deadline
from reimbursement.services.details import DETAIL_FIELDS, ClaimDetails, validate_details
from reimbursement.services.eligibility import check_eligibility
from reimbursement.services.materials import _requirements_for, _sync_materials, ticks_of
from reimbursement.services.notices import _issue_notice

FOREIGN_PERSON_MESSAGE = "本统筹区没有该身份证号的参保人员，不能在本机构登记：零星报销应向参保地经办机构申请。"


def _check_region(user, person: InsuredPerson) -> None:
    if user.sees_all_regions:
        return
    if person.insured_region_id != user.region_code:
        # Worded so that another region's person's name and insurance stay hidden.
        raise DomainError(FOREIGN_PERSON_MESSAGE, code="wrong_region",
        )


def claim_number(region: Region, year: int) -> str:
    return f"LX{region.code}{year}{_next_number(region, year, 'claim'):05d}"


def _accept(claim: Claim, *, by, today: date) -> None:
    claim.status = Claim.Status.ACCEPTED
    claim.complete_on = today
    _set_deadline(claim)


@transaction.atomic
def claim_create(*, by, person: InsuredPerson, details: ClaimDetails, ticked: set[str], today: date | None = None) -> Claim:
    """Register a claim at the counter with the materials handed in.

    Complete materials: the claim is accepted, the clock starts and a 受理回执 is
    printed. Anything missing: a 一次性告知书 listing every missing item is printed.
    """
    today = today or timezone.localdate()
    _check_region(by, person)
    validate_details(details, person=person, today=today)
    check, eligibility = check_eligibility(person, details)
    if not eligibility.eligible:
        raise DomainError("不符合零星报销条件：\n" + "\n".join(eligibility.reasons), code="ineligible")

    claim = Claim(
        number=claim_number(person.insured_region, today.year),
        region=person.insured_region,
        person=person,
        insurance_type=person.insurance_type,
        received_on=today,
        intake_by=by,
        bank_account=details.bank_account,
        invoice_numbers=details.invoice_numbers,
    )
    _apply_details(claim, details, check, eligibility)
    claim.phone = details.phone or person.phone
    claim.save()
    requirements = _requirements_for(claim, claim.region_id, today)
    missing = _sync_materials(claim, requirements, set(ticked), by=by, today=today)
    log_action(action=AuditLog.Action.CREATE, user=by, obj=claim, message=f"登记零星报销申请（{claim.get_care_type_display()}费用 {format_yuan(claim.total_amount)} 元）")
    if missing:
        claim.save()
        _issue_notice(claim, kind=ClaimNotice.Kind.MISSING_MATERIALS, by=by, today=today, items=[m.label for m in missing])
        log_action(
            action=AuditLog.Action.TRANSITION,
            user=by,
            obj=claim,
            to_state=claim.status,
            message=f"材料不全，一次性告知缺少{len(missing)}项：" + "；".join(m.label for m in missing),
        )
    else:
        _accept(claim, by=by, today=today)
        claim.save()
        _issue_notice(claim, kind=ClaimNotice.Kind.RECEIPT, by=by, today=today)
        log_action(
            action=AuditLog.Action.TRANSITION,
            user=by,
            obj=claim,
            from_state=Claim.Status.INCOMPLETE,
            to_state=claim.status,
            message=f"材料齐全，当场受理；办理期限 {claim.due_on:%Y-%m-%d}（{claim.processing_days}个工作日）",
        )
    return claim


def _apply_details(claim: Claim, details: ClaimDetails, check, eligibility) -> None:
    for name in DETAIL_FIELDS:
        setattr(claim, name, getattr(details, name))
    claim.institution_name = details.institution_name.strip()
    claim.bank_account = details.bank_account
    claim.invoice_numbers = details.invoice_numbers
    claim.payee_name = details.payee_name.strip()
    claim.bank_name = details.bank_name.strip()
    if details.situation != Situation.FILED_NOT_SETTLED:
        claim.settlement_failure = ""
        claim.settlement_failure_note = ""
    if details.situation != Situation.OTHER_ALLOWED:
        claim.other_case = None
    claim.filing = check.filing
    claim.filing_status = check.status
    claim.filing_message = check.message[:300]
    claim.scope = eligibility.scope
    claim.adjustment_situation = eligibility.adjustment_situation
    claim.eligibility_note = eligibility.note[:300]


def _changed_fields(claim: Claim, details: ClaimDetails) -> list[str]:
    """The labels of the fields an edit changes (for the history)."""
    labels = []
    for name in [*DETAIL_FIELDS, "invoice_numbers", "bank_account"]:
        old, new = getattr(claim, name), getattr(details, name)
        if name == "phone" and not new:
            continue  # left empty: the phone on file is kept
        if isinstance(old, str) and isinstance(new, str):
            old, new = old.strip(), new.strip()
        if old != new:
            labels.append(str(Claim._meta.get_field(name).verbose_name))
    return labels


def _received_documents(claim: Claim) -> dict[str, tuple[date, object]]:
    """The papers handed in so far: name -> (received on, received by)."""
    documents: dict[str, tuple[date, object]] = {}
    for material in claim.materials.select_related("received_by"):
        if not material.received:
            continue
        names = material.received_as.split("、") if material.alternatives else [material.label]
        for name in filter(None, names):
            moment = (material.received_on or claim.received_on, material.received_by)
            if name not in documents or moment[0] < documents[name][0]:
                documents[name] = moment
    return documents


@transaction.atomic
def claim_update(*, claim: Claim, by, details: ClaimDetails, today: date | None = None) -> Claim:
    """Correct a claim's details before review is finished (材料不全 or 已受理).

    A correction does not reset the clock of an accepted claim when the papers already
    handed in still satisfy the corrected checklist (`checklists.SAME_PAPER`); only an item
    genuinely missing reopens it (材料不全, a new 一次性告知书). When the correction moves
    the deadline, a new 受理回执 is issued.
    """
    today = today or timezone.localdate()
    claim = _locked(claim)
    _require_status(claim, Claim.EDITABLE_STATUSES, "修改")
    validate_details(details, person=claim.person, today=today, exclude_claim=claim)
    check, eligibility = check_eligibility(claim.person, details)
    if not eligibility.eligible:
        raise DomainError("修改后不符合零星报销条件：\n" + "\n".join(eligibility.reasons), code="ineligible")
    before = claim.status
    before_complete, before_due, before_days = claim.complete_on, claim.due_on, claim.processing_days
    changed = _changed_fields(claim, details)
    documents = _received_documents(claim)
    ticks = ticks_of(claim)
    _apply_details(claim, details, check, eligibility)
    claim.phone = details.phone or claim.phone
    _clear_calculation(claim)
    requirements = _requirements_for(claim, claim.region_id, claim.received_on)
    carried = checklists.ticks_for_documents(requirements, documents)
    earlier = {}
    for requirement in requirements:
        for value, name in checklists.tick_values(requirement):
            if value in carried:
                earlier[name] = documents[carried[value]]
    missing = _sync_materials(claim, requirements, ticks | set(carried), by=by, today=today, earlier=earlier)
    what = "修改申请信息" + (f"（{'、'.join(changed)}）" if changed else "")
    if missing and claim.status == Claim.Status.ACCEPTED:
        claim.status = Claim.Status.INCOMPLETE
        claim.complete_on = claim.due_on = claim.processing_days = None
        claim.deadline_flag = ""
        claim.save()
        _issue_notice(claim, kind=ClaimNotice.Kind.MISSING_MATERIALS, by=by, today=today, items=[m.label for m in missing])
        message = (
            f"{what}；修改后需补充材料：" + "；".join(m.label for m in missing)
            + f"。申请转为“材料不全”并已出具一次性告知书；原收齐材料日期 {before_complete:%Y-%m-%d}、"
            f"办理期限 {before_due:%Y-%m-%d} 不再适用，补齐材料之日起重新计算办理期限"
        )
    elif not missing and claim.status == Claim.Status.INCOMPLETE:
        _accept(claim, by=by, today=today)
        claim.save()
        _issue_notice(claim, kind=ClaimNotice.Kind.RECEIPT, by=by, today=today)
        message = f"{what}；材料已齐全，正式受理，办理期限 {claim.due_on:%Y-%m-%d}（{claim.processing_days}个工作日）"
    else:
        if claim.complete_on:
            _set_deadline(claim)
        claim.save()
        message = what + ("，仍需补充材料：" + "；".join(m.label for m in missing) if missing else "")
    log_action(
        action=AuditLog.Action.CHANGE if before == claim.status else AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=before,
        to_state=claim.status,
        message=message,
    )
    if claim.status == Claim.Status.ACCEPTED and before == Claim.Status.ACCEPTED:
        _reissue_receipt_if_moved(
            claim, before_due=before_due, before_days=before_days, by=by, today=today, why="修改申请信息后重算办理期限"
        )
    return claim


def _clear_calculation(claim: Claim) -> None:
    claim.fund_payment = claim.personal_payment = claim.deductible_applied = None
    claim.policy = None
    claim.calculation = {}
    claim.calculated_at = None
    claim.calculated_by = None
    BenefitUsage.objects.filter(claim=claim).delete()


@transaction.atomic
def claim_materials_receive(*, claim: Claim, by, ticked: set[str], today: date | None = None) -> Claim:
    """Record materials handed in later. When the last one arrives the claim is accepted and the clock starts."""
    today = today or timezone.localdate()
    claim = _locked(claim)
    _require_status(claim, (Claim.Status.INCOMPLETE,), "补收材料")
    requirements = _requirements_for(claim, claim.region_id, claim.received_on)
    before_missing = {m.code for m in claim.materials.all() if not m.received}
    ticked = set(ticked) | ticks_of(claim)
    missing = _sync_materials(claim, requirements, ticked, by=by, today=today)
    newly = before_missing - {m.code for m in missing}
    if not newly and missing:
        raise DomainError("没有勾选新收到的材料：仍缺 " + "；".join(m.label for m in missing) + "。", code="nothing_new")
    if missing:
        claim.save()
        _issue_notice(claim, kind=ClaimNotice.Kind.MISSING_MATERIALS, by=by, today=today, items=[m.label for m in missing])
        log_action(
            action=AuditLog.Action.CHANGE,
            user=by,
            obj=claim,
            message=f"补收材料{len(newly)}项，仍缺{len(missing)}项：" + "；".join(m.label for m in missing),
        )
        return claim
    _accept(claim, by=by, today=today)
    claim.save()
    _issue_notice(claim, kind=ClaimNotice.Kind.RECEIPT, by=by, today=today)
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=Claim.Status.INCOMPLETE,
        to_state=claim.status,
        message=f"材料收齐，正式受理；办理期限 {claim.due_on:%Y-%m-%d}（{claim.processing_days}个工作日）",
    )
    return claim


@transaction.atomic
def claim_cancel(*, claim: Claim, by, reason: str, today: date | None = None) -> Claim:
    today = today or timezone.localdate()
    reason = _reason(reason, "撤销原因")
    claim = _locked(claim)
    _require_status(claim, Claim.EDITABLE_STATUSES, "撤销")
    before = claim.status
    claim.status = Claim.Status.CANCELLED
    claim.cancel_reason = reason
    claim.finished_on = today
    claim.deadline_flag = ""
    claim.save()
    BenefitUsage.objects.filter(claim=claim).delete()
    log_action(
        action=AuditLog.Action.TRANSITION, user=by, obj=claim, from_state=before, to_state=claim.status, message=f"撤销申请：{reason}"
    )
    return claim
