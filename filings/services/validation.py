"""What a filing application carries, and its checks: dates, retroactive filings, referrals, proxies,
the person's other filings and region."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError

from core.errors import DomainError
from core.idcard import parse_id_number
from core.models import Institution, InsuredPerson, Region, Role, province_code_of
from filings import materials as checklist
from filings.models import (
    Basis,
    Filing,
    PersonGroup,
    PersonType,
    SettlementState,
    group_of,
)
from filings.services.rules import (
    MAX_DAYS_AHEAD,
    _describe,
    _fmt,
    date_out_of_range,
    emergency_needs_no_filing,
    minimum_end_date,
    settings_for,
)

# --- What a filing application carries ---------------------------------------------


@dataclass
class FilingData:
    """The fields of a filing application, as the counter form, the online import
    and the hospital form collect them."""

    person_type: str
    destination: Region
    start_date: date
    end_date: date | None = None
    materials: list[str] = field(default_factory=list)
    by_proxy: bool = False
    proxy_name: str = ""
    proxy_id_number: str = ""
    proxy_phone: str = ""
    proxy_relation: str = ""
    referring_institution: Institution | None = None
    diagnosis: str = ""
    contact_address: str = ""
    contact_phone: str = ""
    retroactive: bool = False
    admission_date: date | None = None
    treatment_institution: str = ""
    settlement_state: str = ""
    discharge_date: date | None = None
    remarks: str = ""

    FIELDS = (
        "person_type",
        "destination",
        "start_date",
        "end_date",
        "materials",
        "by_proxy",
        "proxy_name",
        "proxy_id_number",
        "proxy_phone",
        "proxy_relation",
        "referring_institution",
        "diagnosis",
        "contact_address",
        "contact_phone",
        "retroactive",
        "admission_date",
        "treatment_institution",
        "settlement_state",
        "discharge_date",
        "remarks",
    )

    @classmethod
    def from_filing(cls, filing: Filing, **overrides) -> FilingData:
        values = {name: getattr(filing, name) for name in cls.FIELDS}
        values["materials"] = list(filing.materials)
        values.update(overrides)
        return cls(**values)


def _validate(data: FilingData, *, person: InsuredPerson, applied_on: date, today: date) -> dict:
    """Check an application's own fields (not yet against other filings) and return
    the model values to write. Raises DomainError with every problem found."""
    errors: list[str] = []
    if data.person_type not in PersonType.values:
        raise DomainError(f"人员类别“{data.person_type}”无效。", code="person_type")
    if data.person_type == PersonType.EMERGENCY:
        raise DomainError(emergency_needs_no_filing(person.insured_region_id, on=applied_on), code="emergency_deemed_filed")
    person_type = PersonType(data.person_type)
    group = group_of(person_type)
    region_settings = settings_for(person.insured_region_id)
    insured = person.insured_region

    destination = data.destination
    if destination is None:
        errors.append("请选择就医地（就医地市或省份）。")
    elif destination.code == insured.code:
        errors.append(f"就医地不能是参保地本身（{insured.name}）：异地就医备案只能备案到参保地以外的地市或省份。")
    elif destination.is_province and destination.code == province_code_of(insured.code) and not insured.is_province:
        errors.append(
            f"就医地“{destination.name}”包含参保地{insured.name}本身，请选择{destination.name}内的具体就医地市。"
        )

    start, end = data.start_date, data.end_date
    admission, discharge = data.admission_date, data.discharge_date
    for label, day in (("开始日期", start), ("结束日期", end), ("入院日期", admission), ("出院日期", discharge)):
        problem = date_out_of_range(label, day)
        if problem:
            errors.append(problem)
    if any(date_out_of_range("", day) for day in (start, end, admission, discharge)):
        raise DomainError("\n".join(errors), code="invalid")
    if start is None:
        errors.append("请填写备案开始日期。")
    elif start < person.birth_date:
        errors.append(f"开始日期 {_fmt(start)} 早于参保人出生日期 {_fmt(person.birth_date)}。")
    if group == PersonGroup.LONG_TERM:
        if end is not None:
            errors.append("长期异地居住人员备案长期有效（变更或取消前一直有效），不填写结束日期。")
    elif start is not None:
        months = region_settings.temporary_min_months
        earliest_end = minimum_end_date(start, months)
        if end is None:
            end = earliest_end
        elif end < start:
            errors.append(f"结束日期 {_fmt(end)} 早于开始日期 {_fmt(start)}。")
        elif end < earliest_end:
            kind = "异地转诊备案" if person_type == PersonType.REFERRAL else "临时外出就医备案"
            errors.append(
                f"{kind}有效期不少于{months}个月：开始日期 {_fmt(start)}，结束日期最早为 {_fmt(earliest_end)}"
                f"（填写的是 {_fmt(end)}）。"
            )

    retro = {"retroactive": False, "admission_date": None, "treatment_institution": "", "settlement_state": "",
             "discharge_date": None, "manual_reimbursement_eligible": False}
    if data.retroactive:
        retro.update(_validate_retroactive(data, person=person, start=start, today=today, errors=errors,
                                           max_days=region_settings.retroactive_max_days))
    elif start is not None and start < applied_on:
        errors.append(
            f"开始日期 {_fmt(start)} 早于办理日期 {_fmt(applied_on)}。已经发生的就医请勾选“补办备案”并填写入院日期。"
        )
    if start is not None and start > applied_on + timedelta(days=MAX_DAYS_AHEAD):
        errors.append(f"开始日期 {_fmt(start)} 距办理日期超过一年，请核对年份。")

    institution = None
    if person_type == PersonType.REFERRAL:
        institution = data.referring_institution
        if institution is None:
            errors.append("异地转诊人员须填写开具转诊转院证明的参保地定点医疗机构。")
        else:
            problem = _referral_institution_problem(institution, insured)
            if problem:
                errors.append(problem)

    proxy = {"by_proxy": False, "proxy_name": "", "proxy_id_number": "", "proxy_phone": "", "proxy_relation": ""}
    if data.by_proxy:
        proxy.update(_validate_proxy(data, person=person, errors=errors))

    lists = checklist.material_rules(insured, on=applied_on)
    provided = [code for code in dict.fromkeys(data.materials) if code in checklist.MATERIALS]
    allowed = checklist.allowed_materials(person_type, by_proxy=data.by_proxy, rules=lists)
    result = checklist.evaluate(
        person_type, [code for code in provided if code in allowed], by_proxy=data.by_proxy, rules=lists
    )

    if errors:
        raise DomainError("\n".join(errors), code="invalid")
    return {
        "person_type": person_type,
        "person_group": group,
        "destination": destination,
        "start_date": start,
        "end_date": end if group == PersonGroup.TEMPORARY else None,
        "materials": list(result.provided),
        "basis": result.basis,
        "referring_institution": institution,
        "diagnosis": (data.diagnosis or "").strip(),
        "contact_address": (data.contact_address or "").strip(),
        "contact_phone": (data.contact_phone or "").strip()[:30],
        "remarks": (data.remarks or "").strip(),
        **proxy,
        **retro,
    }


def _validate_retroactive(
    data: FilingData, *, person: InsuredPerson, start: date | None, today: date, errors: list[str], max_days: int
) -> dict:
    """补办 (新疆 二(四)): before discharge settlement the stay is settled directly;
    after a self-paid discharge the person may claim manual reimbursement. It
    reaches back at most `max_days` (a regional setting), never before birth."""
    admission = data.admission_date
    state = data.settlement_state
    discharge = data.discharge_date
    earliest = today - timedelta(days=max_days)
    if admission is None:
        errors.append("补办备案须填写本次就医的入院（就诊）日期。")
    else:
        if admission > today:
            errors.append(f"入院日期 {_fmt(admission)} 晚于今天，补办备案只针对已经发生的就医。")
        if admission < person.birth_date:
            errors.append(f"入院日期 {_fmt(admission)} 早于参保人出生日期 {_fmt(person.birth_date)}。")
        elif admission < earliest:
            errors.append(
                f"补办备案最多追溯{max_days}天（本统筹区设置）：入院日期 {_fmt(admission)} 早于 {_fmt(earliest)}。"
                "更早发生的就医请按参保地规定申请零星报销。"
            )
        if start is not None and start > admission:
            errors.append(f"补办备案的开始日期 {_fmt(start)} 应不晚于入院日期 {_fmt(admission)}，否则本次住院不在备案有效期内。")
        elif start is not None and start >= person.birth_date and start < earliest <= admission:
            errors.append(
                f"补办备案最多追溯{max_days}天（本统筹区设置）：开始日期 {_fmt(start)} 早于 {_fmt(earliest)}。"
            )
    if state not in SettlementState.values:
        errors.append("补办备案须选择出院结算情况：尚未出院结算，或已出院自费结算。")
    if state == SettlementState.SELF_PAID and discharge is None:
        errors.append("已出院自费结算的，请填写出院日期。")
    if discharge is not None:
        # "Not settled" may still carry a discharge date: discharged, settlement pending.
        if admission is not None and discharge < admission:
            errors.append(f"出院日期 {_fmt(discharge)} 早于入院日期 {_fmt(admission)}。")
        elif discharge > today:
            errors.append(f"出院日期 {_fmt(discharge)} 晚于今天；尚未出院的请不要填写出院日期。")
    eligible = state == SettlementState.SELF_PAID
    return {
        "retroactive": True,
        "admission_date": admission,
        "treatment_institution": (data.treatment_institution or "").strip(),
        "settlement_state": state,
        "discharge_date": discharge,
        "manual_reimbursement_eligible": eligible,
    }


def _referral_institution_problem(institution: Institution, insured: Region) -> str:
    if institution.region_id != insured.code:
        return (
            f"{institution.name}不是参保地（{insured.name}）的医疗机构：转诊转院证明须由参保地规定的定点医疗机构开具。"
        )
    if not institution.designated or institution.kind != Institution.Kind.HOSPITAL:
        return f"{institution.name}不是定点医疗机构，不能开具转诊转院证明。"
    if not institution.can_refer:
        return f"{institution.name}不具有转诊资质，不能开具转诊转院证明。"
    return ""


def _validate_proxy(data: FilingData, *, person: InsuredPerson, errors: list[str]) -> dict:
    name = (data.proxy_name or "").strip()
    phone = (data.proxy_phone or "").strip()
    number = ""
    if not name:
        errors.append("代办的，请填写代办人姓名。")
    try:
        number = parse_id_number(data.proxy_id_number).number
    except ValidationError as exc:
        errors.append(f"代办人{exc.messages[0]}")
    else:
        if number == person.id_number:
            errors.append("代办人与参保人是同一人：本人办理的请不要勾选“代办”。")
    if not phone:
        errors.append("代办的，请填写代办人联系电话。")
    return {
        "by_proxy": True,
        "proxy_name": name,
        "proxy_id_number": number,
        "proxy_phone": phone,
        "proxy_relation": (data.proxy_relation or "").strip(),
    }


# --- Rules against the person's other filings ----------------------------------------


def _dates_overlap(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return (a_end is None or b_start <= a_end) and (b_end is None or a_start <= b_end)


def _destinations_overlap(a: Region, b: Region) -> bool:
    if a.code == b.code:
        return True
    return (a.is_province and province_code_of(b.code) == a.code) or (
        b.is_province and province_code_of(a.code) == b.code
    )


def _check_against_active(
    filing: Filing, *, exclude: Iterable[int] = (), statuses: Iterable[str] = (Filing.Status.ACTIVE,)
) -> list[Filing]:
    """The overlap and multi-place rules (江苏 第十一条). Returns the person's other
    active long-term filings elsewhere when this one makes a multi-place filing.
    An online application is also checked against the applications still awaiting review."""
    others = (
        Filing.objects.filter(insured_person_id=filing.insured_person_id, status__in=list(statuses))
        .exclude(pk__in=[filing.pk, *exclude])
        .exclude(person_type=PersonType.EMERGENCY)  # old records: emergency is deemed filed, not a filing
        .select_related("destination")
        .order_by("start_date", "pk")
    )
    elsewhere: list[Filing] = []
    for other in others:
        if other.person_group != filing.person_group:
            continue
        if not _dates_overlap(filing.start_date, filing.end_date, other.start_date, other.end_date):
            continue
        if _destinations_overlap(filing.destination, other.destination):
            raise DomainError(
                f"与现有{_describe(other)}重叠：同一人员对同一就医地不能同时有两份有效的"
                f"{'长期异地居住' if filing.is_long_term else '临时外出就医'}备案。如需调整，请对原备案办理变更或取消。",
                code="overlap",
            )
        elsewhere.append(other)
    if not elsewhere:
        return []
    if filing.is_temporary:
        other = elsewhere[0]
        raise DomainError(
            f"多地备案仅限长期异地居住人员：该人员已有{_describe(other)}。临时外出就医更换就医地的，请对原备案办理变更。",
            code="multi_place_temporary",
        )
    if filing.basis == Basis.COMMITMENT:
        other = elsewhere[0]
        raise DomainError(
            f"多地备案不可使用承诺制：该人员已有{_describe(other)}，再备案到{filing.destination.name}属于多地备案，"
            "须提供异地安置认定材料、长期居住认定材料或异地工作证明材料。",
            code="multi_place_commitment",
        )
    for other in elsewhere:
        if other.basis == Basis.COMMITMENT and other.materials_completed_on is None:
            raise DomainError(
                f"多地备案不可使用承诺制：该人员现有{_describe(other)}是以个人承诺办理的，且证明材料尚未补齐。"
                "请先为原备案补齐证明材料，再办理多地备案。",
                code="multi_place_commitment",
            )
    return elsewhere


def _lock_person(person_id: int) -> None:
    """Serialise filing changes per person (two clerks, one person)."""
    InsuredPerson.objects.select_for_update().filter(pk=person_id).first()


def own_region_of(by) -> Region | None:
    """The pooling region a user files for: a hospital's region for hospital staff,
    otherwise the agency's region."""
    if by.has_role(Role.HOSPITAL) and not by.has_role(Role.CLERK) and getattr(by, "institution_id", None):
        return by.institution.region
    return by.region


def foreign_person_message(own: Region | None) -> str:
    """The refusal for another region's insured person. It names neither the
    person nor where they are insured: the clerk must not learn who holds a number."""
    where = f"（{own.name}）" if own is not None else ""
    return f"该参保人不属于本统筹区{where}，异地就医备案应由其参保地经办机构办理。"


def _check_person_region(person: InsuredPerson, by) -> None:
    if by is None or by.sees_all_regions:
        return
    own = own_region_of(by)
    if own is None or person.insured_region_id != own.code:
        raise DomainError(foreign_person_message(own), code="other_region")
