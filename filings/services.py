"""Filing services: every state change of a filing, with the rules of 江苏 第八–十四条
and 新疆 二(二)–(五), 三(一)–(三).

Each service checks everything first and raises `DomainError` with a message
the clerk can act on; the writes run in one transaction, so a refusal leaves
nothing behind. Activation locks the person's row, so two clerks filing the
same person at once cannot both pass the overlap check.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import log_action
from core.errors import DomainError
from core.figures import figures_changed
from core.idcard import parse_id_number
from core.jurisdictions import rules_for
from core.models import AuditLog, Institution, InsuredPerson, Region, Role, province_code_of
from core.services import insured_person_upsert
from core.workdays import add_working_days
from filings import materials as checklist
from filings.models import (
    Basis,
    Channel,
    Filing,
    FilingRegionSettings,
    PersonGroup,
    PersonType,
    SettlementState,
    UploadAction,
    UploadBatch,
    UploadStatus,
    group_of,
)

#: How far ahead of the application a filing may start (catches mistyped years).
MAX_DAYS_AHEAD = 366
#: Dates outside these years are typing mistakes (and would overflow date arithmetic).
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2099, 12, 31)


def emergency_needs_no_filing(region=None, *, on: date | None = None) -> str:
    """Emergency treatment is deemed filed (视同已备案, 江苏 第八条(五)): no filing is made for it.
    The article is the province's own, where its rules have one."""
    article = rules_for(region, on=on).article("emergency_deemed")
    return (
        f"异地急诊抢救人员视同已备案{f'（{article}）' if article else ''}，无需办理备案：急诊抢救费用可在就医地直接结算，"
        "未能直接结算的凭急诊诊断证明申请零星报销。急诊抢救后需继续在异地治疗的，请办理异地转诊或其他临时外出就医备案。"
    )


def date_out_of_range(label: str, day: date | None) -> str:
    """The message for a date no filing can have ("" when the date is plausible)."""
    if day is None or EARLIEST_DAY <= day <= LATEST_DAY:
        return ""
    return f"{label} {_fmt(day)} 超出可办理的范围（{EARLIEST_DAY.year}—{LATEST_DAY.year}年），请核对年份。"


# --- Small date rules --------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def minimum_end_date(start: date, months: int) -> date:
    """“有效期不少于6个月”: from 2026-03-01 the filing must run at least to 2026-08-31."""
    return add_months(start, months) - timedelta(days=1)


def settings_for(region: Region | str) -> FilingRegionSettings:
    """The region's filing settings; the defaults (unsaved) where none were set."""
    code = region.code if isinstance(region, Region) else region
    found = FilingRegionSettings.objects.filter(region_id=code).first()
    return found or FilingRegionSettings(region_id=code)


def commitment_unlock_date(filing: Filing) -> date:
    """When a commitment-letter filing may be changed or cancelled: the lock runs from
    the day the commitment was made (carried over by changes), not from the start
    date, which a 补办 may set far back."""
    months = settings_for(filing.insured_region_id).commitment_lock_months
    return add_months(filing.commitment_on or filing.applied_on, months)


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _fmt(day: date | None) -> str:
    return f"{day:%Y-%m-%d}" if day else ""


def _describe(filing: Filing) -> str:
    """“备案 3201002603150000012（异地长期居住人员，就医地 北京市，2026-03-15 起长期有效）”"""
    kind = "待审核的线上申请" if filing.status == Filing.Status.PENDING_REVIEW else "备案"
    return (
        f"{kind} {filing.number}（{filing.get_person_type_display()}，就医地 {filing.destination.name}，"
        f"{filing.validity_text}）"
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


# --- Creating and activating -----------------------------------------------------------


def _assign_number(filing: Filing) -> None:
    # “BA” keeps the number from looking like an 18-digit ID number.
    filing.number = f"BA{filing.insured_region_id}{filing.applied_on:%y%m%d}{filing.pk:06d}"
    Filing.objects.filter(pk=filing.pk).update(number=filing.number)


def _activate(filing: Filing, *, by, today: date, from_state: str, message: str) -> Filing:
    """Make a filing active: materials complete, no conflict, upload pending."""
    result = checklist.evaluate(
        filing.person_type, filing.materials, by_proxy=filing.by_proxy, rules=checklist.rules_of(filing)
    )
    if not result.complete:
        raise DomainError(f"材料不齐，备案不能生效。缺少：{result.missing_text}。", code="materials_missing")
    filing.basis = result.basis
    elsewhere = _check_against_active(filing, exclude=[filing.replaces_id] if filing.replaces_id else [])
    filing.multi_place = bool(elsewhere)
    if filing.basis == Basis.COMMITMENT:
        previous = filing.replaces
        if (
            previous is not None
            and previous.basis == Basis.COMMITMENT
            and previous.materials_completed_on is None
            and previous.commitment_on is not None
        ):
            # A change does not renew the commitment: the materials stay due (or
            # overdue) on the same day, and the lock keeps running from the same date.
            filing.commitment_on = previous.commitment_on
            filing.materials_due_on = previous.materials_due_on
        else:
            months = settings_for(filing.insured_region_id).commitment_materials_months
            filing.commitment_on = today
            filing.materials_due_on = add_months(today, months)
        filing.materials_completed_on = None
    else:
        filing.commitment_on = None
        filing.materials_due_on = None
    filing.status = Filing.Status.ACTIVE
    filing.activated_at = timezone.now()
    filing.upload_status = UploadStatus.PENDING
    filing.upload_pending_since = filing.activated_at
    if filing.end_date is not None and filing.end_date < today:
        # A late 补办 whose validity has already ended: it counts for the days it
        # covered (filing_check) but is not a current filing. The provincial system
        # gets it once as a 补录 of a past filing (a stay admitted during validity is
        # still settled through it, 第十三条), never as a current 新增.
        filing.status = Filing.Status.EXPIRED
        filing.upload_action = UploadAction.BACKFILL
        message += f"（有效期已于 {_fmt(filing.end_date)} 届满，登记为“已到期”）"
    elif filing.upload_action != UploadAction.CHANGE:
        filing.upload_action = UploadAction.NEW
    filing.save()
    for other in elsewhere:
        if not other.multi_place:
            other.multi_place = True
            other.save(update_fields=["multi_place", "updated_at"])
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=filing,
        from_state=from_state,
        to_state=filing.status,
        message=message,
    )
    return filing


def _new_filing(
    *, person: InsuredPerson, data: FilingData, channel: str, by, applied_on: date, today: date, status: str,
    online_reference: str | None = None, replaces: Filing | None = None, change_reason: str = "",
) -> Filing:
    values = _validate(data, person=person, applied_on=applied_on, today=today)
    filing = Filing(
        insured_person=person,
        insured_region=person.insured_region,
        channel=channel,
        status=status,
        applied_on=applied_on,
        online_reference=online_reference or None,
        replaces=replaces,
        change_reason=change_reason,
        created_by=by,
        **values,
    )
    if status == Filing.Status.PENDING_REVIEW:
        days = settings_for(person.insured_region_id).review_working_days
        due = add_working_days(applied_on, days)
        filing.review_due_on = due.as_date()
        filing.review_due_confirmed = due.confirmed
    filing.save()
    _assign_number(filing)
    return filing


@transaction.atomic
def filing_register(
    *, person: InsuredPerson, data: FilingData, by, channel: str = Channel.COUNTER, draft: bool = False,
    today: date | None = None,
) -> Filing:
    """A filing at the counter (or by a hospital): active at once when the materials
    are complete, or kept as a draft to finish later."""
    today = _today(today)
    _check_person_region(person, by)
    if channel == Channel.HOSPITAL and data.person_type != PersonType.REFERRAL:
        raise DomainError("医疗机构只能办理异地转诊备案。", code="hospital_referral_only")
    _lock_person(person.pk)
    filing = _new_filing(
        person=person, data=data, channel=channel, by=by, applied_on=today, today=today, status=Filing.Status.DRAFT
    )
    if draft:
        log_action(action=AuditLog.Action.CREATE, user=by, obj=filing, to_state=filing.status, message="暂存备案草稿")
        return filing
    return _activate(filing, by=by, today=today, from_state="", message=f"{filing.get_channel_display()}办理备案登记")


@dataclass(frozen=True)
class PersonData:
    id_number: str
    name: str
    insurance_type: str
    insured_region: Region
    phone: str = ""
    phone_alt: str = ""
    address: str = ""


@transaction.atomic
def filing_register_walk_in(
    *, person_data: PersonData, data: FilingData, by, channel: str = Channel.COUNTER, draft: bool = False,
    today: date | None = None,
) -> Filing:
    """One screen at the counter: find or register the person, then file. A refused
    filing registers no one."""
    if not by.sees_all_regions:
        # Another region's person is refused before anything else (the name
        # comparison included): nothing about them may leak to this clerk.
        own_region = by.institution.region if channel == Channel.HOSPITAL and by.institution_id else by.region
        own = own_region.code if own_region is not None else None
        known = (
            InsuredPerson.objects.with_id_number(person_data.id_number)
            .values_list("insured_region_id", flat=True)
            .first()
        )
        if known is not None and known != own:
            raise DomainError(foreign_person_message(own_region), code="other_region")
        if known is None and person_data.insured_region.code != own:
            raise DomainError(
                f"只能为本统筹区的参保人员办理备案：新登记人员的参保地应为本统筹区，而不是{person_data.insured_region.name}。",
                code="other_region",
            )
    person = insured_person_upsert(
        id_number=person_data.id_number,
        name=person_data.name,
        insurance_type=person_data.insurance_type,
        insured_region=person_data.insured_region,
        phone=person_data.phone,
        phone_alt=person_data.phone_alt,
        address=person_data.address,
        by=by,
    )
    return filing_register(person=person, data=data, by=by, channel=channel, draft=draft, today=today)


@transaction.atomic
def filing_update_draft(*, filing: Filing, data: FilingData, by, today: date | None = None) -> Filing:
    today = _today(today)
    filing = Filing.objects.select_for_update().get(pk=filing.pk)
    if filing.status != Filing.Status.DRAFT:
        raise DomainError(f"只有草稿可以修改；{filing.number}现为“{filing.get_status_display()}”。", code="not_draft")
    values = _validate(data, person=filing.insured_person, applied_on=filing.applied_on, today=today)
    for name, value in values.items():
        setattr(filing, name, value)
    filing.save()
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=filing, message="修改备案草稿")
    return filing


@transaction.atomic
def filing_activate(*, filing: Filing, by, today: date | None = None) -> Filing:
    """A draft becomes active once its materials are complete."""
    today = _today(today)
    _lock_person(filing.insured_person_id)
    filing = Filing.objects.select_for_update().get(pk=filing.pk)
    if filing.status != Filing.Status.DRAFT:
        raise DomainError(f"{filing.number}现为“{filing.get_status_display()}”，不是草稿，不能再次办理生效。", code="not_draft")
    # Re-check the dates: a draft left for days may now start in the past.
    _validate(FilingData.from_filing(filing), person=filing.insured_person, applied_on=today, today=today)
    filing.applied_on = today
    return _activate(filing, by=by, today=today, from_state=Filing.Status.DRAFT, message="草稿材料齐全，办理备案生效")


@transaction.atomic
def filing_delete_draft(*, filing: Filing, by) -> None:
    filing = Filing.objects.select_for_update().get(pk=filing.pk)
    if filing.status != Filing.Status.DRAFT:
        raise DomainError("只能删除草稿；已生效或已提交的备案请办理取消。", code="not_draft")
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=filing, from_state=filing.status, to_state="deleted",
               message=f"删除备案草稿 {filing.number}")
    filing.delete()


# --- Online applications (不见面) -----------------------------------------------------


@transaction.atomic
def filing_submit_online(
    *, person: InsuredPerson, data: FilingData, online_reference: str, applied_on: date, by,
    today: date | None = None,
) -> Filing:
    """An online application waits for a supervisor's review within one working day (第九条(二))."""
    today = _today(today)
    reference = (online_reference or "").strip()
    if not reference:
        raise DomainError("线上申请须有申请流水号。", code="reference")
    if Filing.objects.filter(online_reference=reference).exists():
        raise DomainError(f"线上申请 {reference} 已经导入过。", code="duplicate_reference")
    if applied_on > today:
        raise DomainError(f"申请日期 {_fmt(applied_on)} 晚于今天。", code="applied_on")
    if date_out_of_range("申请日期", applied_on):
        raise DomainError(date_out_of_range("申请日期", applied_on), code="applied_on")
    _check_person_region(person, by)
    filing = _new_filing(
        person=person, data=data, channel=Channel.ONLINE, by=by, applied_on=applied_on, today=today,
        status=Filing.Status.PENDING_REVIEW, online_reference=reference,
    )
    # The overlap and multi-place rules already at import (and so in the preview), without
    # locks: the supervisor's approval checks again, under the person's lock.
    _check_against_active(filing, statuses=(Filing.Status.ACTIVE, Filing.Status.PENDING_REVIEW))
    log_action(
        action=AuditLog.Action.IMPORT, user=by, obj=filing, to_state=filing.status,
        message=f"导入线上备案申请 {reference}，审核期限 {_fmt(filing.review_due_on)}",
    )
    return filing


@transaction.atomic
def filing_approve(*, filing: Filing, by, materials: list[str] | None = None, note: str = "",
                   today: date | None = None) -> Filing:
    """A supervisor approves an online application (not one they imported themselves)."""
    today = _today(today)
    _lock_person(filing.insured_person_id)
    filing = Filing.objects.select_for_update().select_related("destination").get(pk=filing.pk)
    if filing.status != Filing.Status.PENDING_REVIEW:
        raise DomainError(
            f"{filing.number}现为“{filing.get_status_display()}”，已由{filing.reviewed_by or '他人'}处理，无需再审核。",
            code="not_pending",
        )
    if by.pk is not None and filing.created_by_id == by.pk:
        raise DomainError("审核人不能审核自己导入的申请（双人复核），请由其他审核人员审核。", code="four_eyes")
    if materials is not None:
        allowed = checklist.allowed_materials(
            filing.person_type, by_proxy=filing.by_proxy, rules=checklist.rules_of(filing)
        )
        filing.materials = [code for code in dict.fromkeys(materials) if code in allowed]
    filing.reviewed_by = by
    filing.reviewed_at = timezone.now()
    filing.review_note = (note or "").strip()[:300]
    late = filing.review_due_on is not None and today > filing.review_due_on
    message = "审核通过线上备案申请" + ("（已超过审核期限）" if late else "")
    filing = _activate(filing, by=by, today=today, from_state=Filing.Status.PENDING_REVIEW, message=message)
    _apply_contact_phone(filing, by=by)
    return filing


def _apply_contact_phone(filing: Filing, *, by) -> None:
    """The phone given in an online application reaches the person's record only once
    the application is approved (an unreviewed file must not overwrite it)."""
    phone = (filing.contact_phone or "").strip()
    person = InsuredPerson.objects.get(pk=filing.insured_person_id)
    if not phone or person.phone == phone:
        return
    old = person.phone
    person.phone = phone
    person.save(update_fields=["phone"])
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=person,
               message=f"线上申请 {filing.online_reference} 审核通过，联系电话由 {old or '（空）'} 更新为 {phone}")


@transaction.atomic
def filing_reject(*, filing: Filing, by, reason: str) -> Filing:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("驳回线上申请须填写驳回原因（将告知申请人）。", code="reason_required")
    filing = Filing.objects.select_for_update().get(pk=filing.pk)
    if filing.status != Filing.Status.PENDING_REVIEW:
        raise DomainError(
            f"{filing.number}现为“{filing.get_status_display()}”，已由{filing.reviewed_by or '他人'}处理，不能驳回。",
            code="not_pending",
        )
    if by.pk is not None and filing.created_by_id == by.pk:
        raise DomainError("审核人不能审核自己导入的申请（双人复核），请由其他审核人员审核。", code="four_eyes")
    filing.status = Filing.Status.REJECTED
    filing.reviewed_by = by
    filing.reviewed_at = timezone.now()
    filing.review_note = reason[:300]
    filing.save()
    log_action(action=AuditLog.Action.TRANSITION, user=by, obj=filing, from_state=Filing.Status.PENDING_REVIEW,
               to_state=filing.status, message=f"驳回线上申请：{reason}")
    return filing


# --- Change, cancellation, materials, expiry -------------------------------------------


def _check_commitment_lock(filing: Filing, *, verb: str, today: date) -> None:
    """承诺制长期备案满6个月方可变更或取消 (江苏 第十条); where the province allows it
    (新疆 二(三)), a region may also lock long-term filings made with real materials."""
    if filing.is_long_term and filing.basis != Basis.COMMITMENT:
        months = settings_for(filing.insured_region_id).materials_lock_months
        unlock = add_months(filing.applied_on, months) if months else None
        if unlock and today < unlock:
            raise DomainError(
                f"{filing.number}是长期异地居住备案，本统筹区规定办理满{months}个月方可{verb}："
                f"办理于 {_fmt(filing.applied_on)}，{_fmt(unlock)} 起可以{verb}。",
                code="materials_lock",
            )
        return
    if not (filing.is_long_term and filing.basis == Basis.COMMITMENT):
        return
    unlock = commitment_unlock_date(filing)
    if today < unlock:
        months = settings_for(filing.insured_region_id).commitment_lock_months
        raise DomainError(
            f"{filing.number}是以个人承诺方式办理的长期异地居住备案，需满{months}个月方可{verb}："
            f"以个人承诺方式办理于 {_fmt(filing.commitment_on or filing.applied_on)}，{_fmt(unlock)} 起可以{verb}。",
            code="commitment_lock",
        )


def _check_active(filing: Filing, verb: str) -> None:
    if filing.status != Filing.Status.ACTIVE:
        raise DomainError(
            f"{filing.number}现为“{filing.get_status_display()}”，只有有效的备案可以{verb}。", code="not_active"
        )


@transaction.atomic
def filing_change(
    *, filing: Filing, data: FilingData, by, reason: str, channel: str = Channel.COUNTER, today: date | None = None,
) -> Filing:
    """变更: the old filing ends ("changed") and a new active one replaces it."""
    today = _today(today)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写变更原因。", code="reason_required")
    _lock_person(filing.insured_person_id)
    old = Filing.objects.select_for_update().select_related("destination", "insured_person").get(pk=filing.pk)
    _check_active(old, "变更")
    _check_commitment_lock(old, verb="变更", today=today)
    if data.start_date is None or data.start_date < today:
        raise DomainError(
            f"变更后的备案从办理之日（{_fmt(today)}）或以后开始，开始日期不能早于今天。", code="change_start"
        )
    if data.retroactive:
        raise DomainError("变更不能补办：已经发生的就医请单独办理补办备案。", code="change_retroactive")
    _check_something_changes(old, _validate(data, person=old.insured_person, applied_on=today, today=today))
    new = _new_filing(
        person=old.insured_person, data=data, channel=channel, by=by, applied_on=today, today=today,
        status=Filing.Status.DRAFT, replaces=old, change_reason=reason,
    )
    # The provincial system knows the old filing only if it was uploaded.
    if old.upload_status == UploadStatus.PENDING and old.upload_action == UploadAction.NEW:
        old.upload_status = UploadStatus.NOT_REQUIRED
        old.upload_action = ""
        new.upload_action = UploadAction.NEW
    else:
        if old.upload_status == UploadStatus.PENDING:
            old.upload_status = UploadStatus.NOT_REQUIRED
            old.upload_action = ""
        new.upload_action = UploadAction.CHANGE
    old.status = Filing.Status.CHANGED
    # Its last valid day is the day before the new filing starts (the day before its own
    # start when it had not started yet: it never took effect).
    old.terminated_on = max(new.start_date, old.start_date) - timedelta(days=1)
    old.change_reason = reason[:300]
    old.save()
    log_action(action=AuditLog.Action.TRANSITION, user=by, obj=old, from_state=Filing.Status.ACTIVE,
               to_state=old.status, message=f"变更为 {new.number}：{reason}")
    # Real materials already handed in stay valid for the new filing's checklist.
    return _activate(new, by=by, today=today, from_state="", message=f"由 {old.number} 变更而来：{reason}")


def _check_something_changes(old: Filing, values: dict) -> None:
    """A 变更 must change what the filing is: type, place, validity, materials or
    the referral's details (who handled the change is not a change of the filing)."""
    referring = values["referring_institution"]
    same = (
        values["person_type"] == old.person_type
        and values["destination"].code == old.destination_id
        and values["end_date"] == old.end_date
        and set(values["materials"]) == set(old.materials)
        and (referring.pk if referring else None) == old.referring_institution_id
        and values["diagnosis"] == old.diagnosis
        and values["contact_address"] == old.contact_address
    )
    if same:
        raise DomainError(
            f"没有任何变更：人员类别、就医地、有效期、材料和联系地址都与原备案 {old.number} 相同，无需办理变更。"
            "只是补交承诺制材料的，请在备案详情页点“补齐承诺材料”。",
            code="no_change",
        )


@transaction.atomic
def filing_cancel(*, filing: Filing, by, reason: str, today: date | None = None) -> Filing:
    """取消: the filing is valid through today (the day of cancellation) and ends; the
    reason is recorded."""
    today = _today(today)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写取消原因。", code="reason_required")
    filing = Filing.objects.select_for_update().select_related("destination").get(pk=filing.pk)
    _check_active(filing, "取消")
    _check_commitment_lock(filing, verb="取消", today=today)
    filing.status = Filing.Status.CANCELLED
    # It covers the day of the cancellation itself (a visit that day is still filed);
    # one cancelled before it started never took effect.
    filing.terminated_on = today if today >= filing.start_date else filing.start_date - timedelta(days=1)
    filing.cancel_reason = reason[:300]
    if filing.upload_status == UploadStatus.PENDING and filing.upload_action == UploadAction.NEW:
        filing.upload_status = UploadStatus.NOT_REQUIRED  # never reached the provincial system
        filing.upload_action = ""
    else:
        filing.upload_status = UploadStatus.PENDING
        filing.upload_action = UploadAction.CANCEL
        filing.upload_pending_since = timezone.now()
    filing.save()
    log_action(action=AuditLog.Action.TRANSITION, user=by, obj=filing, from_state=Filing.Status.ACTIVE,
               to_state=filing.status, message=f"取消备案：{reason}")
    return filing


@transaction.atomic
def filing_complete_materials(*, filing: Filing, materials: list[str], by, today: date | None = None) -> Filing:
    """The person hands in the real materials promised in the commitment letter."""
    today = _today(today)
    filing = Filing.objects.select_for_update().get(pk=filing.pk)
    if filing.basis != Basis.COMMITMENT:
        raise DomainError(f"{filing.number}不是承诺制备案，无需补交承诺材料。", code="not_commitment")
    if filing.materials_completed_on is not None:
        raise DomainError(f"{filing.number}的证明材料已于 {_fmt(filing.materials_completed_on)} 补齐。", code="done")
    if filing.status not in (Filing.Status.ACTIVE, Filing.Status.PENDING_REVIEW, Filing.Status.DRAFT):
        raise DomainError(f"{filing.number}现为“{filing.get_status_display()}”，无需补交材料。", code="not_active")
    lists = checklist.rules_of(filing)
    allowed = checklist.allowed_materials(filing.person_type, by_proxy=filing.by_proxy, rules=lists)
    provided = [code for code in dict.fromkeys([*filing.materials, *materials]) if code in allowed]
    without_letter = [code for code in provided if code != checklist.COMMITMENT_LETTER]
    result = checklist.evaluate(filing.person_type, without_letter, by_proxy=filing.by_proxy, rules=lists)
    if not result.complete:
        raise DomainError(
            f"补交的材料仍不足以替代个人承诺书。还需：{result.missing_text}。", code="materials_missing"
        )
    filing.materials = provided
    filing.materials_completed_on = today
    filing.save()
    late = filing.materials_due_on is not None and today > filing.materials_due_on
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=filing,
               message="补齐承诺制备案证明材料" + ("（已逾期）" if late else ""),
               data={"materials": without_letter})
    return filing


def filings_expire(*, today: date | None = None, by=None) -> int:
    """The daily job: temporary filings whose end date has passed become "expired".

    Each filing is its own small transaction with a conditional update, so a
    filing changed by a clerk at the same moment is left alone."""
    today = _today(today)
    expired = 0
    candidates = Filing.objects.filter(status=Filing.Status.ACTIVE, end_date__lt=today).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            filing = Filing.objects.select_for_update().filter(pk=pk, status=Filing.Status.ACTIVE).first()
            if filing is None or filing.end_date is None or filing.end_date >= today:
                continue
            filing.status = Filing.Status.EXPIRED
            filing.save(update_fields=["status", "updated_at"])
            log_action(
                action=AuditLog.Action.TRANSITION, user=by, username="" if by else "system", obj=filing,
                from_state=Filing.Status.ACTIVE, to_state=filing.status,
                message=f"有效期至 {_fmt(filing.end_date)}，自动到期",
            )
            expired += 1
    return expired


# --- Regional settings ------------------------------------------------------------------


@transaction.atomic
def region_settings_save(*, instance: FilingRegionSettings, by) -> FilingRegionSettings:
    instance.updated_by = by
    instance.full_clean()
    instance.save()
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=instance, message="修改备案地区设置")
    return instance


def open_filings_of(person: InsuredPerson) -> list[Filing]:
    return list(
        Filing.objects.filter(insured_person=person)
        .filter(Q(status__in=[Filing.Status.ACTIVE, Filing.Status.DRAFT, Filing.Status.PENDING_REVIEW]))
        .select_related("destination")
        .order_by("-start_date")
    )


# --- Provincial upload -------------------------------------------------------------------


def province_known(filing: Filing | None) -> Filing | None:
    """The filing of `filing`'s change chain (itself or an ancestor through `replaces`)
    that the provincial system knows: the nearest one that was uploaded. None when
    nothing of the chain ever reached the province."""
    seen = set()
    while filing is not None and filing.pk not in seen:
        seen.add(filing.pk)
        if filing.uploaded_at is not None or filing.upload_status in (UploadStatus.UPLOADED, UploadStatus.EXPORTED):
            return filing
        filing = filing.replaces
    return None


@transaction.atomic
def upload_export(*, by, file_format: str = "xlsx") -> list[UploadBatch]:
    """Export the filings waiting for the provincial system (new, changed, cancelled,
    补录) and mark them exported (已导出) until the province's result file says 已上传
    or 失败 (upload_result_apply): one batch and file per pooling region, so province-level
    staff exporting for every city get each city's own file. Rows are locked, so two
    clerks exporting at once never hand the same filing up twice."""
    from filings.resources import EXPORT_FORMATS

    if file_format not in EXPORT_FORMATS:
        raise DomainError("导出格式只能是 XLSX 或 CSV。", code="format")
    if by.region is None and not by.sees_all_regions:
        raise DomainError("您的账号没有所属经办机构，不能导出上传文件。", code="no_region")
    visible = Filing.objects.for_user(by).filter(upload_status=UploadStatus.PENDING).values_list("pk", flat=True)
    locked = list(
        Filing.objects.select_for_update()
        .filter(pk__in=list(visible), upload_status=UploadStatus.PENDING)
        .values_list("pk", "insured_region_id")
    )
    if not locked:
        raise DomainError("没有待上传省平台的备案。", code="nothing")
    by_region: dict[str, list[int]] = {}
    for pk, region_code in locked:
        by_region.setdefault(region_code, []).append(pk)
    regions = Region.objects.in_bulk(list(by_region))
    now = timezone.now()
    return [
        _export_batch(region=regions[code], pks=by_region[code], by=by, file_format=file_format, now=now)
        for code in sorted(by_region)
    ]


def _export_batch(*, region: Region, pks: list[int], by, file_format: str, now) -> UploadBatch:
    from core.documents import store_document
    from filings.resources import EXPORT_FORMATS, FilingUploadResource, upload_file_content

    filings = (
        Filing.objects.filter(pk__in=pks)
        .select_related("insured_person", "insured_region", "destination", "created_by",
                        "replaces__replaces__replaces")
        .order_by("upload_pending_since", "pk")
    )
    dataset = FilingUploadResource().export(queryset=filings)
    content = upload_file_content(dataset, file_format)
    counts = {action: 0 for action in UploadAction.values}
    for filing in filings:
        counts[filing.upload_action or UploadAction.NEW] += 1
    batch = UploadBatch.objects.create(
        region=region, created_by=by, file_format=file_format, count_new=counts[UploadAction.NEW],
        count_change=counts[UploadAction.CHANGE], count_cancel=counts[UploadAction.CANCEL],
        count_backfill=counts[UploadAction.BACKFILL],
    )
    stamp = timezone.localtime(now)
    batch.document = store_document(
        kind="filing_upload",
        key=f"filing-upload:{batch.pk}",
        title=f"{region.name}异地就医备案上传省平台 {stamp:%Y-%m-%d %H:%M}（{len(pks)}条）",
        filename=f"filing-upload-{region.code}-{stamp:%Y%m%d-%H%M%S}.{file_format}",
        content=content,
        by=by,
        region=region,
        period=f"{stamp:%Y-%m}",
        content_type=EXPORT_FORMATS[file_format]().get_content_type(),
        sealed=True,  # whole ID numbers, as the provincial platform needs them
    )
    batch.save(update_fields=["document"])
    updated = Filing.objects.filter(pk__in=pks, upload_status=UploadStatus.PENDING).update(
        upload_status=UploadStatus.EXPORTED, upload_batch=batch
    )
    if updated != len(pks):  # pragma: no cover - the rows were locked above
        raise DomainError("导出期间备案状态发生变化，请重试。", code="race")
    figures_changed("filings", region.code)  # a bulk update sends no save signals
    log_action(
        action=AuditLog.Action.EXPORT, user=by, obj=batch,
        message=f"导出上传省平台（{region.name}）：{batch.summary}",
        data={"filings": pks},
    )
    return batch


@dataclass(frozen=True)
class UploadResult:
    row: int
    number: str
    success: bool
    reason: str


def read_upload_results(rows: list[dict[str, str]]) -> tuple[list[UploadResult], list[tuple[int, str]]]:
    """The provincial system's result file: 备案编号, 结果 (成功/失败), 失败原因; spreadsheet row numbers."""
    if not rows:
        raise DomainError("结果文件没有数据行。", code="empty")
    if "备案编号" not in rows[0] or not {"结果", "上传结果", "处理结果"} & set(rows[0]):
        raise DomainError("结果文件须包含“备案编号”和“结果”两列（另可有“失败原因”）。", code="columns")
    results, errors, seen = [], [], set()
    for number, row in enumerate(rows, start=2):
        code = (row.get("备案编号") or "").strip().upper()
        outcome = next((row[name] for name in ("结果", "上传结果", "处理结果") if row.get(name)), "").strip()
        reason = (row.get("失败原因") or row.get("原因") or "").strip()
        if not code:
            errors.append((number, "备案编号为空"))
        elif code in seen:
            errors.append((number, f"备案编号 {code} 重复出现"))
        elif outcome not in ("成功", "失败"):
            errors.append((number, f"结果“{outcome}”无法识别，应为“成功”或“失败”"))
        elif outcome == "失败" and len(reason) < 2:
            errors.append((number, "失败的一条须写明失败原因"))
        else:
            seen.add(code)
            results.append(UploadResult(number, code, outcome == "成功", reason[:300]))
    return results, errors


@transaction.atomic
def upload_result_apply(*, rows: list[dict[str, str]], by) -> tuple[int, int]:
    """Record the province's answer to exported filings: 成功 → 已上传; 失败 → back in the
    upload queue with the reason, to be corrected and exported again. All rows or none."""
    results, errors = read_upload_results(rows)
    numbers = [result.number for result in results]
    exported = {
        filing.number: filing
        for filing in Filing.objects.for_user(by).select_for_update()
        .filter(number__in=numbers, upload_status=UploadStatus.EXPORTED)
    }
    errors += [(r.row, f"备案编号 {r.number} 不在已导出待回执的备案中（已处理过、未导出或不属于本统筹区）")
               for r in results if r.number not in exported]
    if errors:
        raise DomainError(
            "结果文件有错误，未登记任何一条：\n" + "\n".join(f"第 {row} 行：{why}" for row, why in sorted(errors)),
            code="errors",
        )
    now = timezone.now()
    for result in results:
        filing = exported[result.number]
        if result.success:
            filing.upload_status, filing.uploaded_at, filing.upload_error = UploadStatus.UPLOADED, now, ""
            message = "省平台回执：上传成功"
        else:
            filing.upload_status, filing.upload_error = UploadStatus.PENDING, result.reason
            message = f"省平台回执：上传失败（{result.reason}），退回待上传"
        filing.save(update_fields=["upload_status", "uploaded_at", "upload_error"])
        log_action(action=AuditLog.Action.TRANSITION, user=by, obj=filing, from_state=UploadStatus.EXPORTED,
                   to_state=filing.upload_status, message=message)
    ok = sum(1 for r in results if r.success)
    return ok, len(results) - ok


# --- Import previews -------------------------------------------------------------------------

#: Where an uploaded file of online applications waits between preview and confirmation.
IMPORT_PREVIEW_FOLDER = "filings-import"


def _preview_storage():
    """The storage django-import-export's MediaStorage writes to."""
    from django.core.files.storage import storages

    return storages["import_export"] if "import_export" in storages.backends else storages["default"]


def import_preview_remove(name: str) -> None:
    """Delete one preview file (after confirmation, cancellation or a newer preview)."""
    if not name or "/" in name or "\\" in name:
        return
    storage = _preview_storage()
    path = f"{IMPORT_PREVIEW_FOLDER}/{name}"
    if storage.exists(path):
        storage.delete(path)


def import_previews_sweep(*, older_than: timedelta = timedelta(days=1), now=None) -> int:
    """Delete previews left behind (a clerk closed the tab): they hold full ID numbers.
    Part of the daily task."""
    storage = _preview_storage()
    now = now or timezone.now()
    try:
        _dirs, files = storage.listdir(IMPORT_PREVIEW_FOLDER)
    except FileNotFoundError:
        return 0
    removed = 0
    for name in files:
        path = f"{IMPORT_PREVIEW_FOLDER}/{name}"
        try:
            modified = storage.get_modified_time(path)
        except (FileNotFoundError, NotImplementedError):
            continue
        if now - modified > older_than:
            storage.delete(path)
            removed += 1
    return removed
