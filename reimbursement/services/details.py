"""What the counter records about a claim (`ClaimDetails`) and every check on it at once:
fee breakdown, dates, invoices already claimed, payee."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db.models import Q

from core.errors import DomainError
from core.models import Institution, InsuredPerson, Region
from core.money import format_yuan
from core.validators import MAX_CLAIM_AMOUNT, care_date_problems, plain_text_problem
from reimbursement.formatting import normalize_bank_account, normalize_invoice_numbers
from reimbursement.models import CareType, Claim, HospitalLevel, OtherAllowedCase, SettlementFailure, Situation
from reimbursement.services.common import ZERO

CENT = Decimal("0.01")
#: The largest amount a money column (max_digits=14, decimal_places=2) holds.
MAX_AMOUNT = MAX_CLAIM_AMOUNT


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
