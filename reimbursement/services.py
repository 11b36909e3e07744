"""State changes of manual-reimbursement claims. One function per change.

Every function is keyword-only, runs in one transaction, checks the current
status first and raises `DomainError` with a message the clerk can act on;
after a refusal nothing has been written. Transitions two people can race on
(approve / reject / return, payment) lock the claim row (`select_for_update`)
and re-check the status inside the lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from core.audit import audit_entry, log_action, log_actions
from core.errors import DomainError
from core.jobs import start_job
from core.jurisdictions import rules_for
from core.models import AuditLog, Institution, InsuredPerson, Region
from core.money import format_yuan
from core.validators import MAX_CLAIM_AMOUNT, care_date_problems, plain_text_problem
from core.workdays import add_working_days
from reimbursement import checklists
from reimbursement.benefits import calculate_claim
from reimbursement.deadlines import processing_days, processing_deadline
from reimbursement.eligibility import EligibilityFacts, assess
from reimbursement.formatting import normalize_bank_account, normalize_invoice_numbers
from reimbursement.models import (
    BenefitUsage,
    CareType,
    Claim,
    ClaimCounter,
    ClaimMaterial,
    ClaimNotice,
    HospitalLevel,
    OtherAllowedCase,
    PaymentBatch,
    PaymentReturn,
    PublishedMaterial,
    SettlementFailure,
    Situation,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
#: The largest amount a money column (max_digits=14, decimal_places=2) holds.
MAX_AMOUNT = MAX_CLAIM_AMOUNT
#: 补办备案时限 when a region has no policy version yet (the field's default on PolicyVersion).
DEFAULT_RETROACTIVE_MONTHS = 3
DOCUMENT_JOB = "reimbursement.claim_document"
PAYMENT_NOTICE_JOB = "reimbursement.payment_notice"


@dataclass
class ClaimDetails:
    """What the counter records about a claim (intake form, edit form, demo, tests)."""

    care_type: str
    situation: str
    admission_date: date
    discharge_date: date
    invoice_numbers: str
    total_amount: Decimal
    in_scope_amount: Decimal
    payee_name: str
    bank_name: str
    bank_account: str
    class_b_self_pay: Decimal = ZERO
    over_limit_self_pay: Decimal = ZERO
    self_funded_amount: Decimal = ZERO
    institution: Institution | None = None
    institution_name: str = ""
    treatment_region: Region | None = None
    hospital_level: str = ""
    designated: bool = True
    rescue: bool = False
    accidental_injury: bool = False
    dual_channel_drugs: bool = False
    drugs_bought_outside: bool = False
    patient_deceased: bool = False
    settlement_failure: str = ""
    settlement_failure_note: str = ""
    other_case: OtherAllowedCase | None = None
    hospital_number: str = ""
    admission_method: str = ""
    department: str = ""
    main_diagnosis: str = ""
    secondary_diagnosis: str = ""
    phone: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def emergency(self) -> bool:
        return self.care_type == CareType.EMERGENCY or self.rescue

    def resolve_institution(self) -> None:
        """A chosen institution supplies name, place, level and designation."""
        if self.institution is not None:
            self.institution_name = self.institution.name
            self.treatment_region = self.institution.region
            self.hospital_level = self.institution.level
            self.designated = self.institution.designated


FEE_FIELDS = {
    "total_amount": "总费用",
    "in_scope_amount": "统筹基金支付范围内费用",
    "class_b_self_pay": "乙类先行自付费用",
    "over_limit_self_pay": "超限价自付费用",
    "self_funded_amount": "自费费用",
}
DETAIL_FIELDS = [
    "care_type",
    "situation",
    "rescue",
    "accidental_injury",
    "dual_channel_drugs",
    "drugs_bought_outside",
    "patient_deceased",
    "settlement_failure",
    "settlement_failure_note",
    "other_case",
    "institution",
    "institution_name",
    "treatment_region",
    "hospital_level",
    "designated",
    "admission_date",
    "discharge_date",
    "hospital_number",
    "admission_method",
    "department",
    "main_diagnosis",
    "secondary_diagnosis",
    *FEE_FIELDS,
    "payee_name",
    "bank_name",
    "phone",
]


# --- Checks ------------------------------------------------------------------------


def _money(value, label: str, errors: list[str]) -> Decimal | None:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        errors.append(f"{label}不是有效金额。")
        return None
    if not amount.is_finite():
        errors.append(f"{label}不是有效金额。")
        return None
    if amount < 0:
        errors.append(f"{label}不能为负数。")
        return None
    if amount > MAX_AMOUNT:
        errors.append(f"{label}金额过大：单笔零星报销不能超过 {format_yuan(MAX_AMOUNT)} 元，请核对。")
        return None
    if amount != amount.quantize(CENT):
        errors.append(f"{label}最多保留两位小数（到分）。")
        return None
    return amount.quantize(CENT)


def validate_details(details: ClaimDetails, *, person: InsuredPerson, today: date, exclude_claim: Claim | None = None) -> None:
    """Every problem with the details at once (the clerk fixes them in one go)."""
    details.resolve_institution()
    errors: list[str] = []
    if details.care_type not in CareType.values:
        errors.append(f"未知的费用类型：{details.care_type!r}。")
    if details.situation not in Situation.values:
        errors.append(f"未知的报销情形：{details.situation!r}。")
    if details.situation == Situation.FILED_NOT_SETTLED and details.settlement_failure not in SettlementFailure.values:
        errors.append("请选择未能直接结算的原因。")
    if details.settlement_failure == SettlementFailure.OTHER and not details.settlement_failure_note.strip():
        errors.append("未能直接结算的原因选择“其他原因”时，请填写原因说明。")
    if details.situation == Situation.OTHER_ALLOWED:
        if details.other_case is None:
            errors.append("请选择参保地规定的其他可以零星报销的情形。")
        elif details.other_case.region_id != person.insured_region_id or not details.other_case.active:
            errors.append(f"“{details.other_case}”不是{person.insured_region}现行规定的可零星报销情形。")
    if not details.institution_name.strip():
        errors.append("请选择或填写医疗机构名称。")
    if details.treatment_region is None:
        errors.append("请选择就医地。")
    if details.hospital_level not in HospitalLevel.values:
        errors.append("请选择医院等级。")
    if details.admission_date is None or details.discharge_date is None:
        errors.append("请填写入院（就诊）日期和出院（就诊）日期。")
    else:
        if details.discharge_date < details.admission_date:
            errors.append(
                f"出院日期 {details.discharge_date:%Y-%m-%d} 早于入院日期 {details.admission_date:%Y-%m-%d}，请核对。"
            )
        if details.discharge_date > today:
            errors.append(f"出院（就诊）日期 {details.discharge_date:%Y-%m-%d} 晚于今天，尚未发生的费用不能报销。")
        errors.extend(care_date_problems(details.admission_date, details.discharge_date,
                                         birth_date=person.birth_date, today=today))
        if details.care_type in (CareType.OUTPATIENT, CareType.EMERGENCY) and details.admission_date != details.discharge_date:
            errors.append("门诊、急诊费用按单次就诊报销：就诊日期只能是一天，多次就诊请分别申请。")
    if details.patient_deceased and not details.rescue:
        errors.append("填写“患者已死亡”时请同时勾选“抢救”（需提供死亡记录及死亡证明）。")

    amounts: dict[str, Decimal] = {}
    for name, label in FEE_FIELDS.items():
        amount = _money(getattr(details, name), label, errors)
        if amount is not None:
            amounts[name] = amount
            setattr(details, name, amount)
    if len(amounts) == len(FEE_FIELDS):
        parts = sum((amounts[name] for name in FEE_FIELDS if name != "total_amount"), ZERO)
        if amounts["total_amount"] <= 0:
            errors.append("总费用应大于0。")
        elif parts != amounts["total_amount"]:
            errors.append(
                f"费用构成不平衡：总费用 {format_yuan(amounts['total_amount'])} 元应等于统筹基金支付范围内费用、"
                f"乙类先行自付、超限价自付与自费费用之和 {format_yuan(parts)} 元"
                f"（相差 {format_yuan(amounts['total_amount'] - parts)} 元）。"
            )

    invoices = normalize_invoice_numbers(details.invoice_numbers)
    if not invoices:
        errors.append("请填写医疗收费票据号码。")
    elif any(len(number) > 40 for number in invoices):
        errors.append("票据号码过长（每张最多40个字符），请检查分隔符。")
    elif len(",".join(invoices)) > 400:
        errors.append("票据号码过多：一次申请最多登记约20张票据，请分批申请。")
    else:
        details.invoice_numbers = ",".join(invoices)
        duplicates = _invoices_in_use(invoices, exclude_claim=exclude_claim)
        for number, other in duplicates:
            if other.region_id == person.insured_region_id:
                errors.append(
                    f"票据号码 {number} 已在报销申请 {other.number}（{other.get_status_display()}）中登记，不能重复报销。"
                )
            else:
                # Another pooling region's case: its number and status are not ours to show.
                errors.append(f"票据号码 {number} 已在其他统筹区的报销申请中登记，不能重复报销；如有疑问请与省级经办机构核实。")

    for value, label in ((details.payee_name, "收款人"), (details.bank_name, "开户银行"),
                         (details.institution_name, "医疗机构名称"), (details.settlement_failure_note, "原因说明")):
        problem = plain_text_problem(value, label)
        if problem:
            errors.append(problem)
    account = normalize_bank_account(details.bank_account)
    if not details.payee_name.strip():
        errors.append("请填写收款人。")
    if not details.bank_name.strip():
        errors.append("请填写开户银行。")
    if not account.isdigit() or not 12 <= len(account) <= 30:
        errors.append("银行账号应为12–30位数字。")
    else:
        details.bank_account = account
    if errors:
        raise DomainError("\n".join(errors), code="invalid")


def _invoices_in_use(numbers: list[str], *, exclude_claim: Claim | None) -> list[tuple[str, Claim]]:
    condition = Q()
    for number in numbers:
        condition |= Q(invoice_numbers__contains=number)
    candidates = Claim.objects.filter(condition).exclude(status=Claim.Status.CANCELLED)
    if exclude_claim is not None and exclude_claim.pk:
        candidates = candidates.exclude(pk=exclude_claim.pk)
    found = []
    for other in candidates.only("number", "status", "invoice_numbers", "region_id"):
        for number in numbers:
            if number in other.invoice_list:
                found.append((number, other))
    return found


FOREIGN_PERSON_MESSAGE = "本统筹区没有该身份证号的参保人员，不能在本机构登记：零星报销应向参保地经办机构申请。"


def _check_region(user, person: InsuredPerson) -> None:
    if user.sees_all_regions:
        return
    if person.insured_region_id != user.region_code:
        # Worded so that another region's person's name and insurance stay hidden.
        raise DomainError(FOREIGN_PERSON_MESSAGE, code="wrong_region",
        )


def filing_lookup(person: InsuredPerson, details: ClaimDetails):
    """The filing query (filings.selectors.filing_check) for these details."""
    from filings.selectors import filing_check

    hospitalised = details.care_type in (CareType.INPATIENT, CareType.MATERNITY)
    return filing_check(
        person=person,
        on_date=details.discharge_date,
        treatment_region=details.treatment_region,
        admission_date=details.admission_date if hospitalised else None,
        emergency=details.emergency,
    )


def vacation_periods(region_code: str, year: int):
    """The region's student vacations of `year` (the city's own rows, else its province's);
    None when neither published any for that year (the default months apply)."""
    from core.models import province_code_of
    from reimbursement.eligibility import VacationPeriod
    from reimbursement.models import StudentVacation

    rows = list(
        StudentVacation.objects.filter(region_id__in={region_code, province_code_of(region_code)}, year=year).order_by(
            "start_date", "pk"
        )
    )
    own = [row for row in rows if row.region_id == region_code] or rows
    if not own:
        return None
    return tuple(VacationPeriod(row.name, row.start_date, row.end_date) for row in own)


def retroactive_limit(region_code: str, discharge_date: date) -> tuple[date, str]:
    """The last day a 补办 filing restores normal benefits (the policy in force at discharge)."""
    from reimbursement.eligibility import add_months
    from reimbursement.models import PolicyVersion

    policy = PolicyVersion.objects.in_force(region_code, discharge_date)
    months = policy.retroactive_filing_months if policy is not None else DEFAULT_RETROACTIVE_MONTHS
    text = f"出院后{months}个月" if months else "出院当日前"
    return add_months(discharge_date, months), text


def check_eligibility(person: InsuredPerson, details: ClaimDetails, *, check=None):
    """The filing query and the eligibility rules for these details: (FilingCheck, Eligibility)."""
    check = check or filing_lookup(person, details)
    filing = check.filing
    limit, limit_text = retroactive_limit(person.insured_region_id, details.discharge_date)
    facts = EligibilityFacts(
        situation=details.situation,
        filing_status=check.status,
        filing_person_type=filing.person_type if filing is not None else None,
        filing_message=check.message,
        care_type=details.care_type,
        rescue=details.rescue,
        insurance_type=person.insurance_type,
        insured_region=person.insured_region_id,
        treatment_region=details.treatment_region.code,
        treatment_region_name=details.treatment_region.name,
        institution_name=details.institution_name,
        designated=details.designated,
        admission_date=details.admission_date,
        discharge_date=details.discharge_date,
        settlement_failure=details.settlement_failure,
        other_case_given=details.other_case is not None,
        filing_allows_manual=bool(filing is not None and filing.manual_reimbursement_eligible),
        filing_applied_on=filing.applied_on if filing is not None else None,
        retroactive_limit=limit,
        retroactive_limit_text=limit_text,
        vacation_periods=vacation_periods(person.insured_region_id, details.admission_date.year),
    )
    return check, assess(facts)


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


# --- Numbers -----------------------------------------------------------------------


def _next_number(region: Region, year: int, kind: str) -> int:
    counter, _ = ClaimCounter.objects.select_for_update().get_or_create(region=region, year=year, kind=kind)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def claim_number(region: Region, year: int) -> str:
    return f"LX{region.code}{year}{_next_number(region, year, 'claim'):05d}"


# --- Checklist ---------------------------------------------------------------------


def published_materials(region_code: str, on_date: date) -> list[PublishedMaterial]:
    """The region's additional materials in force on `on_date`: published before it and filed with the province."""
    return list(
        PublishedMaterial.objects.filter(
            region_id=region_code,
            published_on__lte=on_date,
            filed_with_province_on__isnull=False,
            filed_with_province_on__lte=on_date,
        )
        .filter(Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=on_date))
        .order_by("published_on", "pk")
    )


def checklist_for(*, region_code: str, on_date: date, care_type: str, rescue=False, accidental_injury=False,
                  dual_channel_drugs=False, drugs_bought_outside=False, patient_deceased=False) -> list[checklists.Requirement]:
    regional = [
        (f"region-{material.pk}", material.name)
        for material in published_materials(region_code, on_date)
        if material.applies_to(care_type)
    ]
    return checklists.build_checklist(
        rules=rules_for(region_code or None, on=on_date).materials,  # the insured region's province
        care_type=care_type,
        rescue=rescue,
        accidental_injury=accidental_injury,
        dual_channel_drugs=dual_channel_drugs,
        drugs_bought_outside=drugs_bought_outside,
        patient_deceased=patient_deceased,
        regional=regional,
    )


def _requirements_for(claim_or_details, region_code: str, on_date: date) -> list[checklists.Requirement]:
    source = claim_or_details
    return checklist_for(
        region_code=region_code,
        on_date=on_date,
        care_type=source.care_type,
        rescue=source.rescue,
        accidental_injury=source.accidental_injury,
        dual_channel_drugs=source.dual_channel_drugs,
        drugs_bought_outside=source.drugs_bought_outside,
        patient_deceased=source.patient_deceased,
    )


def ticks_of(claim: Claim) -> set[str]:
    """The tick values (code or code:index) that reproduce a claim's received materials."""
    ticks: set[str] = set()
    for material in claim.materials.all():
        if not material.received:
            continue
        if material.alternatives:
            received = set(material.received_as.split("、"))
            ticks |= {f"{material.code}:{i}" for i, alt in enumerate(material.alternatives) if alt in received}
        else:
            ticks.add(material.code)
    return ticks


def _sync_materials(
    claim: Claim, requirements, ticked: set[str], *, by, today: date, earlier: dict | None = None
) -> list[ClaimMaterial]:
    """Make the claim's checklist match `requirements`, with `ticked` as what has been handed in.

    `earlier` maps a document handed in before (by name) to when and by whom it was received,
    so an item a corrected checklist names differently keeps its real receipt date.
    Returns the items still missing.
    """
    earlier = earlier or {}
    ticked = checklists.expand_ticks(requirements, ticked)
    existing = {material.code: material for material in claim.materials.all()}
    wanted = {requirement.code for requirement in requirements}
    for code, material in existing.items():
        if code not in wanted:
            material.delete()
    missing = []
    for order, requirement in enumerate(requirements):
        material = existing.get(requirement.code) or ClaimMaterial(claim=claim, code=requirement.code)
        material.label = requirement.label
        material.alternatives = list(requirement.alternatives)
        material.source = requirement.source
        material.sort_order = order
        got = checklists.satisfied(requirement, ticked)
        if got:
            if not material.received:
                before = [earlier[name] for name in got if name in earlier]
                material.received_on, material.received_by = min(before, key=lambda item: item[0]) if before else (today, by)
            material.received = True
            material.received_as = "、".join(got)
        else:
            material.received = False
            material.received_as = ""
            material.received_on = None
            material.received_by = None
            missing.append(material)
        material.save()
    return missing


# --- Notices and printing ------------------------------------------------------------


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


# --- Deadlines -----------------------------------------------------------------------


def _set_deadline(claim: Claim) -> None:
    due = processing_deadline(
        claim.complete_on, care_type=claim.care_type, amount=claim.total_amount, special=claim.special
    )
    claim.due_on = due.as_date() if hasattr(due, "as_date") else due
    claim.deadline_confirmed = getattr(due, "confirmed", True)
    claim.processing_days = processing_days(care_type=claim.care_type, amount=claim.total_amount, special=claim.special,
                                            on=claim.complete_on)


def _accept(claim: Claim, *, by, today: date) -> None:
    claim.status = Claim.Status.ACCEPTED
    claim.complete_on = today
    _set_deadline(claim)


# --- Intake --------------------------------------------------------------------------


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


# --- Review ---------------------------------------------------------------------------


def _store_calculation(claim: Claim, *, by) -> None:
    calculation = calculate_claim(claim)
    result = calculation.result
    claim.policy = calculation.policy
    claim.fund_payment = result.fund_payment
    claim.personal_payment = result.personal_payment
    claim.deductible_applied = result.deductible_applied
    claim.calculation = calculation.snapshot()
    claim.calculated_at = timezone.now()
    claim.calculated_by = by
    BenefitUsage.objects.filter(claim=claim).delete()
    BenefitUsage.objects.bulk_create(
        BenefitUsage(
            claim=claim,
            year=year.year,
            care_type=claim.care_type,
            deductible_applied=year.deductible_applied,
            fund_payment=year.fund_payment,
        )
        for year in result.years
    )


@transaction.atomic
def claim_calculate(*, claim: Claim, by) -> Claim:
    """Compute and store the benefit (the clerk during review; a supervisor before deciding)."""
    claim = _locked(claim)
    _require_status(claim, (Claim.Status.ACCEPTED, Claim.Status.SUBMITTED), "计算待遇")
    previous = claim.fund_payment
    _store_calculation(claim, by=by)
    claim.save()
    change = "" if previous is None else f"（原为 {format_yuan(previous)} 元）"
    log_action(
        action=AuditLog.Action.CHANGE,
        user=by,
        obj=claim,
        message=f"计算待遇：基金支付 {format_yuan(claim.fund_payment)} 元{change}，个人支付 {format_yuan(claim.personal_payment)} 元",
    )
    return claim


@transaction.atomic
def claim_submit(*, claim: Claim, by) -> Claim:
    claim = _locked(claim)
    _require_status(claim, (Claim.Status.ACCEPTED,), "提交复核")
    if claim.fund_payment is None:
        raise DomainError("请先计算待遇，再提交复核。", code="not_calculated")
    claim.status = Claim.Status.SUBMITTED
    claim.submitted_by = by
    claim.submitted_at = timezone.now()
    claim.save()
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=Claim.Status.ACCEPTED,
        to_state=claim.status,
        message=f"提交复核：基金支付 {format_yuan(claim.fund_payment)} 元",
    )
    return claim


def _decided_elsewhere(claim: Claim) -> DomainError:
    who = claim.decided_by.get_full_name() if claim.decided_by_id else ""
    when = timezone.localtime(claim.decided_at).strftime("%H:%M") if claim.decided_at else ""
    if claim.status in (Claim.Status.APPROVED, Claim.Status.REJECTED) and who:
        return DomainError(
            f"申请 {claim.number} 已由{who}于 {when} 处理（{claim.get_status_display()}），您的操作未执行。",
            code="already_decided",
        )
    if claim.status == Claim.Status.ACCEPTED and claim.return_count:
        return DomainError(f"申请 {claim.number} 已被退回经办人修改，您的操作未执行。", code="already_decided")
    return DomainError(
        f"申请 {claim.number} 当前状态为“{claim.get_status_display()}”，不在待复核状态，您的操作未执行。",
        code="already_decided",
    )


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


@transaction.atomic
def claim_approve(*, claim: Claim, by, expected_fund_payment: Decimal | None = None, today: date | None = None) -> Claim:
    """A supervisor approves (maker–checker). The second of two racing supervisors is refused."""
    today = today or timezone.localdate()
    claim = _locked(claim)
    if claim.status != Claim.Status.SUBMITTED:
        raise _decided_elsewhere(claim)
    _four_eyes(claim, by, "审批")
    # Serialise decisions per person: earlier claims' usage feeds this one's calculation.
    InsuredPerson.objects.select_for_update().filter(pk=claim.person_id).first()
    stored = claim.fund_payment
    if expected_fund_payment is not None and expected_fund_payment != stored:
        # The page was opened before someone recalculated: show both figures.
        raise DomainError(
            f"页面显示 {format_yuan(expected_fund_payment)} 元，当前计算结果为 {format_yuan(stored)} 元，"
            "请刷新页面核对后再审批。",
            code="stale_page",
        )
    check = calculate_claim(claim)
    if check.result.fund_payment != stored:
        raise DomainError(
            f"待遇计算结果已发生变化（本年度其他报销已审批或政策已调整）：基金支付由 {format_yuan(stored)} 元变为 "
            f"{format_yuan(check.result.fund_payment)} 元。请先“重新计算”，核对后再审批。",
            code="stale_calculation",
        )
    claim.status = Claim.Status.APPROVED
    claim.decided_by = by
    claim.decided_at = timezone.now()
    claim.return_reason = ""
    claim.save()
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=Claim.Status.SUBMITTED,
        to_state=claim.status,
        message=f"审批通过：基金支付 {format_yuan(claim.fund_payment)} 元",
    )
    if claim.fund_payment == ZERO:
        _close_without_payment(claim, by=by, today=today)
    if claim.care_type in (CareType.INPATIENT, CareType.MATERNITY):
        claim_print(claim=claim, by=by, form="settlement")
    return claim


#: The note on a claim approved with nothing for the fund to pay.
NOTHING_TO_PAY = "基金支付为零，无需付款"


def _close_without_payment(claim: Claim, *, by, today: date) -> None:
    """Approved with 0.00 from the fund (e.g. below the deductible): nothing to pay, so the
    claim is closed at once and never goes on a payment notice. Its use of the deductible
    still counts for the person's later claims this year."""
    claim.status = Claim.Status.PAID
    claim.finished_on = today
    claim.deadline_flag = ""
    claim.save()
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=Claim.Status.APPROVED,
        to_state=claim.status,
        message=f"{NOTHING_TO_PAY}，审批通过即办结（本次计入起付标准 {format_yuan(claim.deductible_applied or ZERO)} 元）",
    )


@transaction.atomic
def claim_reject(*, claim: Claim, by, reason: str, today: date | None = None) -> Claim:
    today = today or timezone.localdate()
    reason = _reason(reason, "不予报销的理由")
    claim = _locked(claim)
    if claim.status != Claim.Status.SUBMITTED:
        raise _decided_elsewhere(claim)
    _four_eyes(claim, by, "审批")
    claim.status = Claim.Status.REJECTED
    claim.decided_by = by
    claim.decided_at = timezone.now()
    claim.rejection_reason = reason
    claim.finished_on = today
    claim.deadline_flag = ""
    claim.save()
    BenefitUsage.objects.filter(claim=claim).delete()
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=Claim.Status.SUBMITTED,
        to_state=claim.status,
        message=f"不予报销：{reason}",
    )
    return claim


@transaction.atomic
def claim_return(*, claim: Claim, by, reason: str) -> Claim:
    """Send a submitted claim back to the counter for correction."""
    reason = _reason(reason, "退回原因")
    claim = _locked(claim)
    if claim.status != Claim.Status.SUBMITTED:
        raise _decided_elsewhere(claim)
    _four_eyes(claim, by, "退回")
    claim.status = Claim.Status.ACCEPTED
    claim.return_reason = reason
    claim.return_count += 1
    claim.save()
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=Claim.Status.SUBMITTED,
        to_state=claim.status,
        message=f"退回经办人：{reason}",
    )
    return claim


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


# --- Payment ------------------------------------------------------------------------------


@transaction.atomic
def payment_batch_create(*, claims, by, today: date | None = None) -> PaymentBatch:
    """Put approved claims on one payment notice; the PDF is generated by a background job."""
    today = today or timezone.localdate()
    ids = sorted({claim.pk for claim in claims})
    if not ids:
        raise DomainError("请至少选择一笔已审批的申请。", code="empty")
    locked = list(
        Claim.objects.select_for_update(of=("self",)).filter(pk__in=ids).select_related("region", "person").order_by("pk")
    )
    problems = [
        f"{claim.number}（{claim.get_status_display()}）" for claim in locked if claim.status != Claim.Status.APPROVED
    ]
    if problems:
        raise DomainError("以下申请不是“已审批（待付款）”状态，不能出付款通知：" + "、".join(problems), code="wrong_status")
    blocking = PaymentReturn.objects.blocking().filter(claim__in=locked)
    returned = set(blocking.open().values_list("claim_id", flat=True))
    if returned:
        numbers = "、".join(claim.number for claim in locked if claim.pk in returned)
        raise DomainError(
            f"以下申请已退票，退票后收款账户尚待经办人核对更正，暂不能出付款通知：{numbers}", code="payment_returned"
        )
    unverified = set(blocking.values_list("claim_id", flat=True))
    if unverified:
        numbers = "、".join(claim.number for claim in locked if claim.pk in unverified)
        raise DomainError(
            f"以下申请退票后更正了收款账户，尚待审核人员复核，暂不能出付款通知：{numbers}", code="payee_unverified"
        )
    nothing = [claim.number for claim in locked if not claim.fund_payment]
    if nothing:
        raise DomainError(f"以下申请{NOTHING_TO_PAY}，不列入付款通知：" + "、".join(nothing), code="nothing_to_pay")
    regions = {claim.region_id for claim in locked}
    if len(regions) != 1:
        raise DomainError("一张付款通知只能包含同一经办地的申请。", code="regions")
    region = locked[0].region
    if not by.sees_all_regions and region.code != by.region_code:
        raise DomainError("只能为本经办机构的申请出付款通知。", code="wrong_region")
    batch = PaymentBatch.objects.create(
        number=f"FK{region.code}{today.year}{_next_number(region, today.year, 'payment'):04d}",
        region=region,
        claim_count=len(locked),
        total_amount=sum((claim.fund_payment for claim in locked), ZERO),
        created_by=by,
    )
    # One UPDATE, one INSERT of history rows and (below) one chained audit append, whatever the number of claims.
    for claim in locked:
        claim.status = Claim.Status.PAYMENT_NOTIFIED
        claim.payment_batch = batch
    bulk_update_with_history(locked, Claim, ["status", "payment_batch"], default_user=by)
    batch.job = start_job(
        kind=PAYMENT_NOTICE_JOB,
        title=f"付款通知 {batch.number}（{len(locked)}笔）",
        by=by,
        params={"batch_id": batch.pk},
        region=region,
    )
    batch.save(update_fields=["job"])
    log_actions([
        *(
            audit_entry(
                action=AuditLog.Action.TRANSITION,
                user=by,
                obj=claim,
                from_state=Claim.Status.APPROVED,
                to_state=claim.status,
                message=f"列入付款通知 {batch.number}",
            )
            for claim in locked
        ),
        audit_entry(
            action=AuditLog.Action.CREATE,
            user=by,
            obj=batch,
            message=f"付款通知 {len(locked)} 笔，合计 {format_yuan(batch.total_amount)} 元",
        ),
    ])
    return batch


def payment_batch_regenerate(*, batch: PaymentBatch, by):
    job = start_job(
        kind=PAYMENT_NOTICE_JOB,
        title=f"付款通知 {batch.number}（重新生成）",
        by=by,
        params={"batch_id": batch.pk},
        region=batch.region,
    )
    batch.job = job
    batch.save(update_fields=["job"])
    return job


@transaction.atomic
def payment_record(
    *, claims, by, paid_on: date, reference: str = "", today: date | None = None
) -> list[Claim]:
    """Finance records that the money went out: the claims are paid and closed (办结)."""
    today = today or timezone.localdate()
    ids = sorted({claim.pk for claim in claims})
    if not ids:
        raise DomainError("没有需要登记支付的申请。", code="empty")
    if paid_on is None:
        raise DomainError("请填写支付日期。", code="paid_on")
    if paid_on > today:
        raise DomainError(f"支付日期 {paid_on:%Y-%m-%d} 晚于今天，请核对。", code="paid_on")
    reference = (reference or "").strip()[:60]
    locked = list(
        Claim.objects.select_for_update(of=("self",)).filter(pk__in=ids).select_related("payment_batch").order_by("pk")
    )
    problems = [
        f"{claim.number}（{claim.get_status_display()}）"
        for claim in locked
        if claim.status != Claim.Status.PAYMENT_NOTIFIED
    ]
    if problems:
        raise DomainError("以下申请不是“已出付款通知”状态，不能登记支付：" + "、".join(problems), code="wrong_status")
    for claim in locked:
        if not by.sees_all_regions and claim.region_id != by.region_code:
            raise DomainError("只能登记本经办机构申请的支付。", code="wrong_region")
        if paid_on < timezone.localtime(claim.payment_batch.created_at).date():
            raise DomainError(
                f"支付日期 {paid_on:%Y-%m-%d} 早于付款通知 {claim.payment_batch.number} 的制单日期，请核对。", code="paid_on"
            )
    batches = set()
    for claim in locked:
        claim.status = Claim.Status.PAID
        claim.paid_on = paid_on
        claim.finished_on = paid_on
        claim.payment_reference = reference
        claim.paid_by = by
        claim.deadline_flag = ""
        claim.save()
        batches.add(claim.payment_batch_id)
        late = "（超过办理期限）" if claim.finished_late else ""
        log_action(
            action=AuditLog.Action.TRANSITION,
            user=by,
            obj=claim,
            from_state=Claim.Status.PAYMENT_NOTIFIED,
            to_state=claim.status,
            message=f"已支付 {format_yuan(claim.fund_payment)} 元，办结{late}" + (f"；凭证号 {reference}" if reference else ""),
        )
    for batch in PaymentBatch.objects.filter(pk__in=batches):
        if not batch.claims.exclude(status=Claim.Status.PAID).exists():
            batch.status = PaymentBatch.Status.PAID
            batch.paid_on = paid_on
            batch.payment_reference = reference
            batch.save()
            log_action(action=AuditLog.Action.TRANSITION, user=by, obj=batch, to_state=batch.status, message="全部支付")
    return locked


# --- 退票: a payment the bank sent back --------------------------------------------------------


@transaction.atomic
def payment_return_record(*, claim: Claim, by, reason: str, returned_on: date, today: date | None = None) -> PaymentReturn:
    """Finance records that the bank returned a payment: the claim leaves its payment notice and
    goes back to “已审批（待付款）”, waiting for the counter to check or correct the payee account."""
    today = today or timezone.localdate()
    reason = _reason(reason, "退票原因")[:300]
    claim = _locked(claim)
    _require_status(claim, (Claim.Status.PAYMENT_NOTIFIED, Claim.Status.PAID), "登记退票")
    if not by.sees_all_regions and claim.region_id != by.region_code:
        raise DomainError("只能登记本经办机构申请的退票。", code="wrong_region")
    if claim.payment_batch_id is None:
        raise DomainError(f"申请 {claim.number} 没有经付款通知付款（{NOTHING_TO_PAY}），不能登记退票。", code="not_paid_out")
    if returned_on is None:
        raise DomainError("请填写退票日期。", code="returned_on")
    if returned_on > today:
        raise DomainError(f"退票日期 {returned_on:%Y-%m-%d} 晚于今天，请核对。", code="returned_on")
    batch = claim.payment_batch
    if batch is not None and returned_on < timezone.localtime(batch.created_at).date():
        raise DomainError(
            f"退票日期 {returned_on:%Y-%m-%d} 早于付款通知 {batch.number} 的制单日期，请核对。", code="returned_on"
        )
    before = claim.status
    record = PaymentReturn.objects.create(
        claim=claim,
        batch=batch,
        amount=claim.fund_payment or ZERO,
        returned_on=returned_on,
        reason=reason,
        was_paid=before == Claim.Status.PAID,
        payment_reference=claim.payment_reference,
        payee_before=claim.payee_name,
        bank_before=claim.bank_name,
        account_before=claim.masked_account,
        recorded_by=by,
    )
    claim.status = Claim.Status.APPROVED
    claim.payment_batch = None
    claim.paid_on = None
    claim.paid_by = None
    claim.payment_reference = ""
    claim.finished_on = None
    claim.deadline_flag = deadline_flag(claim.due_on, today, add_working_days(today, 2))
    claim.save()
    where = f"（原付款通知 {batch.number}）" if batch is not None else ""
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=before,
        to_state=claim.status,
        message=(
            f"退票{where}：{format_yuan(record.amount)} 元于 {returned_on:%Y-%m-%d} 退回，原因：{reason}。"
            f"原收款账户 {record.payee_before} · {record.bank_before} · {record.account_before}，待经办人核对更正后重新付款"
        ),
    )
    if batch is not None:
        log_action(
            action=AuditLog.Action.CHANGE, user=by, obj=batch, message=f"{claim.number} 退票（{reason}），移出本批次待重新付款"
        )
        remaining = batch.claims.all()
        if batch.status == PaymentBatch.Status.NOTIFIED and remaining.exists() and not remaining.exclude(
            status=Claim.Status.PAID
        ).exists():
            batch.status = PaymentBatch.Status.PAID
            batch.paid_on = max(other.paid_on for other in remaining)
            batch.save()
            log_action(action=AuditLog.Action.TRANSITION, user=by, obj=batch, to_state=batch.status, message="其余申请均已支付")
    return record


@transaction.atomic
def claim_correct_payee(*, claim: Claim, by, payee_name: str, bank_name: str, bank_account: str) -> Claim:
    """After a 退票 the counter checks the payee account with the applicant and corrects it
    (an empty account keeps the current one: “核对无误”). Audited with masked accounts."""
    claim = _locked(claim)
    record = (
        PaymentReturn.objects.select_for_update().filter(claim=claim, resolved_at__isnull=True).first()
        if claim.status == Claim.Status.APPROVED
        else None
    )
    if record is None:
        raise DomainError(
            f"只有退票后待核对收款账户的申请可以更正收款账户：申请 {claim.number} 当前状态为“{claim.get_status_display()}”"
            "，没有待处理的退票。",
            code="no_open_return",
        )
    errors = []
    payee_name, bank_name = (payee_name or "").strip(), (bank_name or "").strip()
    if not payee_name:
        errors.append("请填写收款人。")
    elif len(payee_name) > 50:
        errors.append("收款人最多50个字。")
    if not bank_name:
        errors.append("请填写开户银行。")
    elif len(bank_name) > 60:
        errors.append("开户银行最多60个字。")
    account = normalize_bank_account(bank_account or "") or claim.bank_account
    if not account.isdigit() or not 12 <= len(account) <= 30:
        errors.append("银行账号应为12–30位数字。")
    if errors:
        raise DomainError("\n".join(errors), code="invalid")
    before = f"{claim.payee_name} · {claim.bank_name} · {claim.masked_account}"
    changed = (payee_name, bank_name, account) != (claim.payee_name, claim.bank_name, claim.bank_account)
    claim.payee_name, claim.bank_name, claim.bank_account = payee_name, bank_name, account
    claim.save()
    record.resolved_by = by
    record.resolved_at = timezone.now()
    record.account_changed = changed
    record.account_after = claim.masked_account
    record.save()
    after = f"{claim.payee_name} · {claim.bank_name} · {claim.masked_account}"
    log_action(
        action=AuditLog.Action.CHANGE,
        user=by,
        obj=claim,
        message=(
            f"退票后更正收款账户：{before} → {after}，待审核人员复核后重新出付款通知"
            if changed
            else f"退票后收款账户核对无误：{after}，可重新出付款通知"
        ),
    )
    return claim


@transaction.atomic
def claim_verify_payee(*, claim: Claim, by) -> Claim:
    """A supervisor checks the account the counter corrected after a 退票 against the
    applicant's bank document (maker–checker: never the one who corrected it)."""
    claim = _locked(claim)
    record = PaymentReturn.objects.unverified().select_for_update().filter(claim=claim).first()
    if record is None:
        raise DomainError(f"申请 {claim.number} 没有待复核的收款账户更正（可能已由其他审核人员复核）。", code="nothing_to_verify")
    if record.resolved_by_id == by.pk:
        raise DomainError(
            "收款账户由您更正，按“经办与复核分离”的规定不能由您复核，请由其他审核人员办理。", code="four_eyes"
        )
    record.verified_by = by
    record.verified_at = timezone.now()
    record.save()
    log_action(
        action=AuditLog.Action.CHANGE,
        user=by,
        obj=claim,
        message=f"复核更正后的收款账户：{claim.payee_name} · {claim.bank_name} · {claim.masked_account}，可重新出付款通知",
    )
    return claim


# --- The daily deadline job -----------------------------------------------------------------


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
