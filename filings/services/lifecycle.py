"""Creating, activating, online applications (不见面), changes, cancellation, committed materials and
expiry of filings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from core.audit import log_action
from core.errors import DomainError
from core.models import AuditLog, InsuredPerson, Region
from core.services import insured_person_upsert
from core.workdays import add_working_days
from filings import materials as checklist
from filings.models import (
    Basis,
    Channel,
    Filing,
    PersonType,
    UploadAction,
    UploadStatus,
)
from filings.services.rules import _fmt, _today, add_months, commitment_unlock_date, date_out_of_range, settings_for
from filings.services.validation import (
    FilingData,
    _check_against_active,
    _check_person_region,
    _lock_person,
    _validate,
    foreign_person_message,
)

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
