"""业务协同 state changes: one keyword-only function per change, each checking the current state
under a row lock and leaving an audit record (history rows come from simple-history).

费用协查  assist_create → (assist_record_delay | assist_roll_overdue)* → assist_answer
          → assist_confirm | assist_dispute → assist_answer … ; assist_mark_exported for cross-province.
问题协同  coordination_create → coordination_add_note / add_helper / extend → coordination_reply
          → coordination_confirm | coordination_dispute | (daily) coordination_deem_confirmed;
          coordination_escalate raises a disputed or unresolved one to the province.
Deduction hook: `assist_findings_for_deduction` (selectors) lists confirmed 核查有误 results not yet
deducted; `assist_deduct` (cooperation.deductions) books the deduction in the clearing and calls
`assist_link_deduction` in the same transaction.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cooperation import rules
from cooperation.attachments import check_uploads, store_attachments
from cooperation.deductions import assist_deduct  # noqa: F401 - re-exported: the service of issue 12's hook
from cooperation.models import (
    AssistDelay,
    AssistRequest,
    CaseCounter,
    Coordination,
    CoordinationHelper,
    CoordinationNote,
)
from core.audit import log_action
from core.errors import DomainError
from core.idcard import id_number_hash, validate_id_number
from core.jurisdictions import rules_for
from core.models import Agency, AuditLog, Region, province_code_of
from core.money import format_yuan
from core.reference import home_province_code

SYSTEM = "system"


# --- Shared helpers ------------------------------------------------------------------------------


def _next_number(*, kind: str, prefix: str, region: Region, year: int) -> str:
    counter, _ = CaseCounter.objects.select_for_update().get_or_create(kind=kind, region=region, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{prefix}{region.code}{year}{counter.last:05d}"


def _text(value: str, what: str, *, minimum: int = 2, limit: int = 2000) -> str:
    value = (value or "").strip()
    if len(value) < minimum:
        raise DomainError(f"请填写{what}。", code="text_required")
    return value[:limit]


def _own_region(by, region_id: str, side: str) -> None:
    if by.region_code != region_id:
        raise DomainError(f"只有{side}的经办机构可以办理这一步。", code="wrong_side")


def _checked_id_number(value: str) -> str:
    value = (value or "").strip().upper()
    try:
        validate_id_number(value)
    except ValidationError as exc:
        raise DomainError(f"身份证号码有误：{' '.join(exc.messages)}", code="id_number") from None
    return value


# --- 费用协查 ------------------------------------------------------------------------------------


def _locked_assist(request: AssistRequest) -> AssistRequest:
    return AssistRequest.objects.select_for_update().get(pk=request.pk)


@transaction.atomic
def assist_create(
    *,
    by,
    treatment_region: Region,
    id_number: str,
    name: str,
    sex: str,
    institution_name: str,
    hospital_number: str,
    invoice_number: str,
    admission_date: date,
    discharge_date: date,
    total_amount: Decimal,
    concern: str = "",
    source: str = AssistRequest.Source.MANUAL,
    settlement_id: str = "",
    claim=None,
    attachments=(),
    today: date | None = None,
) -> AssistRequest:
    """The insured region asks the treatment region to check one inpatient stay (第五十六条)."""
    today = today or timezone.localdate()
    if by.agency_id is None:
        raise DomainError("您的账号没有所属经办机构，不能发起费用协查。", code="no_agency")
    insured_region = by.agency.region
    total_amount = Decimal(total_amount)
    if not rules.assist_allowed(total_amount):
        article = rules_for(None, on=today).article("audit_assist_source")
        raise DomainError(rules.assist_refusal(format_yuan(total_amount), article=article), code="below_threshold")
    if treatment_region.code == insured_region.code:
        raise DomainError("就医地不能是本统筹区：费用协查针对异地住院费用。", code="same_region")
    if admission_date > discharge_date:
        raise DomainError("入院日期不能晚于出院日期。", code="dates")
    if discharge_date > today:
        raise DomainError("出院日期不能晚于今天。", code="dates")
    id_number = _checked_id_number(id_number)
    required = {
        "姓名": name, "医疗服务机构名称": institution_name, "住院号": hospital_number, "发票号码": invoice_number,
    }
    missing = [label for label, value in required.items() if not (value or "").strip()]
    if missing or sex not in ("M", "F"):
        missing += [] if sex in ("M", "F") else ["性别"]
        raise DomainError(f"协查申请须填写：{'、'.join(missing)}{rules_for(None).cited('audit_assist')}。", code="missing")
    duplicate = AssistRequest.objects.open()
    if settlement_id:
        duplicate = duplicate.filter(settlement_id=settlement_id)
    elif claim is not None:
        duplicate = duplicate.filter(claim=claim)
    else:
        duplicate = duplicate.filter(id_number_hash=id_number_hash(id_number), hospital_number=hospital_number.strip(),
                                     admission_date=admission_date)
    existing = duplicate.first()
    if existing is not None:
        raise DomainError(f"这次住院已有进行中的费用协查 {existing.number}（{existing.get_status_display()}），请勿重复申请。",
                          code="duplicate")
    checked = check_uploads(attachments)
    cross = province_code_of(treatment_region.code) != home_province_code()
    due = rules.assist_answer_due(today)
    request = AssistRequest.objects.create(
        number=_next_number(kind="assist", prefix="XC", region=insured_region, year=today.year),
        insured_region=insured_region,
        treatment_region=treatment_region,
        cross_province=cross,
        source=source,
        settlement_id=settlement_id,
        claim=claim,
        id_number=id_number,
        name=name.strip(),
        sex=sex,
        institution_name=institution_name.strip(),
        hospital_number=hospital_number.strip(),
        invoice_number=invoice_number.strip(),
        admission_date=admission_date,
        discharge_date=discharge_date,
        total_amount=total_amount,
        concern=(concern or "").strip(),
        received_on=today,
        answer_due=due,
        period=rules.assist_period(due),
        created_by=by,
    )
    store_attachments(checked=checked, by=by, stage="申请", assist=request)
    log_action(
        action=AuditLog.Action.CREATE,
        user=by,
        obj=request,
        to_state=request.status,
        message=(
            f"向{treatment_region.name}发起费用协查：{request.name} {request.institution_name} "
            f"{format_yuan(total_amount)} 元，协查期限 {due:%Y-%m-%d}"
            + ("（跨省，经国家系统传递）" if cross else "")
        ),
    )
    return request


def _answer_side_check(request: AssistRequest, by, *, imported: bool) -> None:
    if imported:
        if not request.cross_province:
            raise DomainError(f"{request.number} 是省内协查，结果由就医地在本平台填写，不能导入。", code="not_cross")
        _own_region(by, request.insured_region_id, "参保地")
    else:
        if request.cross_province:
            raise DomainError(f"{request.number} 是跨省协查：结果经国家系统返回，请用“导入协查结果”。", code="cross")
        _own_region(by, request.treatment_region_id, "就医地")


@transaction.atomic
def assist_answer(
    *,
    request: AssistRequest,
    by,
    result: str,
    finding: str = "",
    irregular_amount: Decimal | None = None,
    note: str = "",
    attachments=(),
    imported: bool = False,
    answered_on: date | None = None,
    today: date | None = None,
) -> AssistRequest:
    """The treatment region returns 核查无误 or 核查有误 (with the specific reason)."""
    today = today or timezone.localdate()
    request = _locked_assist(request)
    if request.status not in AssistRequest.ANSWER_STATUSES:
        raise DomainError(f"{request.number} 当前为“{request.get_status_display()}”，不能再返回协查结果（可能已由他人办理）。",
                          code="state")
    _answer_side_check(request, by, imported=imported)
    if result not in AssistRequest.Result.values:
        raise DomainError("请选择协查结果：核查无误或核查有误。", code="result")
    finding = (finding or "").strip()
    if result == AssistRequest.Result.HAS_ISSUE:
        article = rules_for(None).article("audit_assist")
        finding = _text(finding, f"“核查有误”的具体原因（{article + '：' if article else ''}填写具体原因方能上传结果）", minimum=4)
        if irregular_amount is not None and (irregular_amount < 0 or irregular_amount > request.total_amount):
            raise DomainError("涉及违规费用应在 0 与费用总额之间。", code="amount")
    else:
        finding, irregular_amount = "", None
    answered_on = answered_on or today
    if answered_on > today or answered_on < request.received_on:
        raise DomainError("结果返回日期应在收到申请之日与今天之间。", code="date")
    checked = check_uploads(attachments)
    before = request.status
    request.status = AssistRequest.Status.ANSWERED
    request.result = result
    request.finding = finding
    request.irregular_amount = irregular_amount
    request.answer_note = (note or "").strip()
    request.answered_on = answered_on
    request.answered_by = by
    request.answer_imported = imported
    request.confirm_due = rules.assist_confirm_due(answered_on)
    request.save()
    store_attachments(checked=checked, by=by, stage="协查结果", assist=request)
    late = " （超过协查期限）" if answered_on > request.answer_due else ""
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=request,
        from_state=before,
        to_state=request.status,
        message=(
            f"{'导入国家系统返回的' if imported else '返回'}协查结果：{request.get_result_display()}"
            + (f"，原因：{finding[:200]}" if finding else "")
            + f"；参保地确认期限 {request.confirm_due:%Y-%m-%d}{late}"
        ),
    )
    return request


def _roll(request: AssistRequest, *, reason: str, automatic: bool, by) -> AssistDelay:
    previous = request.answer_due
    new_due = rules.assist_answer_due(previous)
    delay = AssistDelay.objects.create(
        request=request, period=rules.assist_period(previous), previous_due=previous, new_due=new_due,
        reason=reason[:300], automatic=automatic, recorded_by=by,
    )
    request.answer_due = new_due
    request.period = rules.assist_period(new_due)
    request.late_count += 1
    request.save(update_fields=["answer_due", "period", "late_count"])
    return delay


@transaction.atomic
def assist_record_delay(*, request: AssistRequest, by, reason: str, today: date | None = None) -> AssistRequest:
    """特殊情况确需延期: the request moves to the next period and counts as late in this one."""
    today = today or timezone.localdate()
    request = _locked_assist(request)
    if request.status not in AssistRequest.ANSWER_STATUSES:
        raise DomainError(f"{request.number} 当前为“{request.get_status_display()}”，无需延期。", code="state")
    _own_region(by, request.treatment_region_id, "就医地")
    if request.cross_province:
        raise DomainError("跨省协查的延期由外省在国家系统登记。", code="cross")
    reason = _text(reason, "延期原因")
    if AssistDelay.objects.filter(request=request, period=request.period).exists():
        raise DomainError(f"本期（{request.period}）已登记过延期，期限已是 {request.answer_due:%Y-%m-%d}。", code="twice")
    previous = request.answer_due
    _roll(request, reason=reason, automatic=False, by=by)
    log_action(
        action=AuditLog.Action.CHANGE,
        user=by,
        obj=request,
        message=f"登记延期：{reason[:200]}；期限由 {previous:%Y-%m-%d} 顺延至 {request.answer_due:%Y-%m-%d}，计入 {previous:%Y-%m} 期延期统计",
    )
    return request


def assist_roll_overdue(*, today: date | None = None) -> int:
    """Daily: a request not answered by its due date rolls to the next period on its own
    (自动记录至下一期) and counts as late in the period it missed. Returns how many rolled."""
    today = today or timezone.localdate()
    rolled = 0
    with transaction.atomic():
        for request in AssistRequest.objects.awaiting_answer().filter(answer_due__lt=today).select_for_update():
            first = request.answer_due
            while request.answer_due < today:
                _roll(request, reason="到期未返回协查结果，自动顺延至下一期", automatic=True, by=None)
            rolled += 1
            log_action(
                action=AuditLog.Action.CHANGE,
                obj=request,
                username=SYSTEM,
                message=f"到期未返回协查结果：期限由 {first:%Y-%m-%d} 自动顺延至 {request.answer_due:%Y-%m-%d}，计入延期统计",
            )
    return rolled


@transaction.atomic
def assist_confirm(*, request: AssistRequest, by, today: date | None = None) -> AssistRequest:
    """The insured region confirms the result (5 working days)."""
    today = today or timezone.localdate()
    request = _locked_assist(request)
    if request.status != AssistRequest.Status.ANSWERED:
        raise DomainError(f"{request.number} 当前为“{request.get_status_display()}”，不能确认（可能已由他人办理）。", code="state")
    _own_region(by, request.insured_region_id, "参保地")
    request.status = AssistRequest.Status.CONFIRMED
    request.confirmed_on = today
    request.confirmed_by = by
    request.save()
    late = f"（超过确认期限 {request.confirm_due:%Y-%m-%d}）" if request.confirm_due and today > request.confirm_due else ""
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=request,
        from_state=AssistRequest.Status.ANSWERED,
        to_state=request.status,
        message=f"确认协查结果：{request.get_result_display()}{late}",
    )
    return request


@transaction.atomic
def assist_dispute(*, request: AssistRequest, by, note: str, today: date | None = None) -> AssistRequest:
    """The insured region disagrees: the request goes back to the treatment region with the note,
    due again by the 26th of the next month."""
    today = today or timezone.localdate()
    request = _locked_assist(request)
    if request.status != AssistRequest.Status.ANSWERED:
        raise DomainError(f"{request.number} 当前为“{request.get_status_display()}”，不能提出异议。", code="state")
    _own_region(by, request.insured_region_id, "参保地")
    note = _text(note, "异议说明", minimum=4)
    previous_result = request.get_result_display()
    due = rules.assist_answer_due(today)
    request.status = AssistRequest.Status.DISPUTED
    request.dispute_note = note
    request.dispute_count += 1
    request.result = ""
    request.finding = ""
    request.irregular_amount = None
    request.answered_on = None
    request.confirm_due = None
    request.answer_due = due
    request.period = rules.assist_period(due)
    request.save()
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=request,
        from_state=AssistRequest.Status.ANSWERED,
        to_state=request.status,
        message=f"对协查结果（{previous_result}）有异议，退回就医地重新核查：{note[:200]}；期限 {due:%Y-%m-%d}",
    )
    return request


@transaction.atomic
def assist_add_attachments(*, request: AssistRequest, by, attachments) -> list:
    request = _locked_assist(request)
    if by.region_code not in (request.insured_region_id, request.treatment_region_id):
        raise DomainError("只有参保地和就医地的经办机构可以上传附件。", code="wrong_side")
    if request.status == AssistRequest.Status.CONFIRMED:
        raise DomainError("协查已确认办结，不能再上传附件。", code="state")
    stored = store_attachments(checked=check_uploads(attachments), by=by, stage="补充材料", assist=request)
    if stored:
        log_action(action=AuditLog.Action.CHANGE, user=by, obj=request,
                   message=f"上传附件：{'、'.join(a.filename for a in stored)[:300]}")
    return stored


def assist_mark_exported(*, requests, by) -> int:
    """Cross-province requests written to the national-system file: remember when (first export only)."""
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for request in requests:
            if request.cross_province and request.exported_at is None:
                AssistRequest.objects.filter(pk=request.pk, exported_at__isnull=True).update(exported_at=now)
                log_action(action=AuditLog.Action.EXPORT, user=by, obj=request, message="导出至国家异地就医系统")
                count += 1
    return count


@transaction.atomic
def assist_link_deduction(*, request: AssistRequest, reference: str, by=None) -> AssistRequest:
    """The deduction hook's write-back: clearing calls this once it has booked the deduction
    (第五十三条) for a confirmed 核查有误 result, so the result is never deducted twice."""
    request = _locked_assist(request)
    if request.status != AssistRequest.Status.CONFIRMED or request.result != AssistRequest.Result.HAS_ISSUE:
        raise DomainError(f"{request.number} 不是已确认的“核查有误”结果，不能登记扣款。", code="state")
    if request.deduction_reference:
        raise DomainError(f"{request.number} 已登记扣款 {request.deduction_reference}。", code="twice")
    request.deduction_reference = _text(reference, "扣款登记号", minimum=1, limit=60)
    request.save(update_fields=["deduction_reference"])
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=request, username="" if by else SYSTEM,
               message=f"核查有误费用已登记扣款：{request.deduction_reference}")
    return request


# --- 问题协同 ------------------------------------------------------------------------------------


def _locked_coordination(coordination: Coordination) -> Coordination:
    return Coordination.objects.select_for_update().select_related("requester", "receiver").get(pk=coordination.pk)


def _is_receiver(coordination: Coordination, by) -> bool:
    return by.agency_id is not None and by.agency_id == coordination.receiver_id


def _require_receiver(coordination: Coordination, by) -> None:
    if not _is_receiver(coordination, by):
        raise DomainError("只有待协同机构（第一响应人）可以办理这一步。", code="wrong_side")


def _require_requester(coordination: Coordination, by) -> None:
    if by.agency_id is None or by.agency_id != coordination.requester_id:
        raise DomainError("只有发起协同的机构可以办理这一步。", code="wrong_side")


def _require_open(coordination: Coordination) -> None:
    if coordination.status != Coordination.Status.OPEN:
        raise DomainError(
            f"{coordination.number} 当前为“{coordination.get_status_display()}”，不能再办理这一步（可能已由他人办理）。",
            code="state",
        )


@transaction.atomic
def coordination_create(
    *,
    by,
    receiver: Agency,
    kind: str,
    subject: str,
    description: str = "",
    person_id_number: str = "",
    person_name: str = "",
    attachments=(),
    parent: Coordination | None = None,
    today: date | None = None,
) -> Coordination:
    """Any agency raises an issue to another (第五十七条); receipt is the same day in the portal."""
    today = today or timezone.localdate()
    if by.agency_id is None:
        raise DomainError("您的账号没有所属经办机构，不能发起问题协同。", code="no_agency")
    if receiver.pk == by.agency_id:
        raise DomainError("不能向本机构发起问题协同，请选择待协同机构。", code="self")
    if kind not in Coordination.Kind.values:
        raise DomainError("请选择问题类型：备案类、系统故障类或其他。", code="kind")
    subject = _text(subject, "主要协同事项", limit=200)
    person_id_number = (person_id_number or "").strip().upper()
    person_name = (person_name or "").strip()
    if person_id_number or person_name:
        if not (person_id_number and person_name):
            raise DomainError(
                f"针对特定参保人员的问题须同时填写身份证号码和姓名{rules_for(None).cited('coordination')}。", code="person"
            )
        person_id_number = _checked_id_number(person_id_number)
    checked = check_uploads(attachments)
    due = rules.coordination_reply_due(kind, today)
    coordination = Coordination.objects.create(
        number=_next_number(kind="coordination", prefix="XT", region=by.agency.region, year=today.year),
        requester_id=by.agency_id,
        receiver=receiver,
        kind=kind,
        subject=subject,
        description=(description or "").strip(),
        person_id_number=person_id_number,
        person_name=person_name,
        parent=parent,
        received_on=today,
        reply_due=due,
        created_by=by,
    )
    store_attachments(checked=checked, by=by, stage="申请", coordination=coordination)
    log_action(
        action=AuditLog.Action.CREATE,
        user=by,
        obj=coordination,
        to_state=coordination.status,
        message=(
            f"向{receiver.short_name}发起问题协同（{coordination.get_kind_display()}）：{subject[:100]}；"
            f"回复期限 {due:%Y-%m-%d}" + (f"；原申请 {parent.number}" if parent else "")
        ),
    )
    return coordination


@transaction.atomic
def coordination_add_note(*, coordination: Coordination, by, text: str, attachments=()) -> CoordinationNote:
    """问题处理登记 by the first responder or an agency asked to help."""
    coordination = _locked_coordination(coordination)
    _require_open(coordination)
    helping = CoordinationHelper.objects.filter(coordination=coordination, agency_id=by.agency_id).exists()
    if not (_is_receiver(coordination, by) or helping):
        raise DomainError("只有待协同机构和被列为协助的机构可以登记处理情况。", code="wrong_side")
    text = _text(text, "处理情况")
    checked = check_uploads(attachments)
    note = CoordinationNote.objects.create(coordination=coordination, agency_id=by.agency_id, text=text, written_by=by)
    store_attachments(checked=checked, by=by, stage="处理登记", coordination=coordination)
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=coordination, message=f"处理登记（{by.agency.short_name}）：{text[:200]}")
    return note


@transaction.atomic
def coordination_add_attachments(*, coordination: Coordination, by, attachments) -> list:
    """Further material from the requester, the first responder or a helping agency while the issue is open."""
    coordination = _locked_coordination(coordination)
    if coordination.status not in Coordination.OPEN_STATUSES + (Coordination.Status.DISPUTED,):
        raise DomainError(f"{coordination.number} 已办结（{coordination.get_status_display()}），不能再上传附件。", code="state")
    helping = CoordinationHelper.objects.filter(coordination=coordination, agency_id=by.agency_id).exists()
    if by.agency_id not in (coordination.requester_id, coordination.receiver_id) and not helping:
        raise DomainError("只有申请机构、待协同机构和协助机构可以上传附件。", code="wrong_side")
    stored = store_attachments(checked=check_uploads(attachments), by=by, stage="补充材料", coordination=coordination)
    if stored:
        log_action(action=AuditLog.Action.CHANGE, user=by, obj=coordination,
                   message=f"上传附件：{'、'.join(a.filename for a in stored)[:300]}")
    return stored


@transaction.atomic
def coordination_add_helper(*, coordination: Coordination, by, agency: Agency, task: str) -> CoordinationHelper:
    """The first responder names a further agency to help (it then sees the issue)."""
    coordination = _locked_coordination(coordination)
    _require_open(coordination)
    _require_receiver(coordination, by)
    if agency.pk in (coordination.requester_id, coordination.receiver_id):
        raise DomainError("申请机构和待协同机构本身不必列为协助机构。", code="helper_self")
    if CoordinationHelper.objects.filter(coordination=coordination, agency=agency).exists():
        raise DomainError(f"{agency.short_name} 已是协助机构。", code="helper_twice")
    task = _text(task, "需协助的事项", limit=200)
    helper = CoordinationHelper.objects.create(coordination=coordination, agency=agency, task=task, added_by=by)
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=coordination, message=f"请{agency.short_name}协助：{task}")
    return helper


@transaction.atomic
def coordination_extend(*, coordination: Coordination, by, new_due: date, reason: str,
                        today: date | None = None) -> Coordination:
    """不能按期完成: the first responder extends the reply limit, with the reason agreed with the requester."""
    today = today or timezone.localdate()
    coordination = _locked_coordination(coordination)
    _require_open(coordination)
    _require_receiver(coordination, by)
    reason = _text(reason, "延长处理时限的原因", limit=300)
    if new_due <= coordination.reply_due or new_due <= today:
        raise DomainError(f"新的回复期限应晚于原期限 {coordination.reply_due:%Y-%m-%d} 和今天。", code="due")
    previous = coordination.reply_due
    coordination.reply_due = new_due
    coordination.extension_reason = reason
    coordination.extended_by = by
    coordination.save()
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=coordination,
               message=f"延长处理时限：{previous:%Y-%m-%d} → {new_due:%Y-%m-%d}，原因：{reason}")
    return coordination


@transaction.atomic
def coordination_reclassify(*, coordination: Coordination, by, kind: str) -> Coordination:
    """第五十七条: the first responder marks the problem type as it really is; the reply limit
    follows the new type from the day of receipt (an agreed extension is kept if later)."""
    coordination = _locked_coordination(coordination)
    _require_open(coordination)
    _require_receiver(coordination, by)
    if kind not in Coordination.Kind.values:
        raise DomainError("请选择问题类型：备案类、系统故障类或其他。", code="kind")
    if kind == coordination.kind:
        raise DomainError(f"问题类型已是“{coordination.get_kind_display()}”。", code="same_kind")
    before_kind, before_due = coordination.get_kind_display(), coordination.reply_due
    due = rules.coordination_reply_due(kind, coordination.received_on)
    coordination.kind = kind
    coordination.reply_due = max(due, before_due) if coordination.extension_reason else due
    coordination.save()
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=coordination,
               message=(f"标注问题类型：{before_kind} → {coordination.get_kind_display()}；"
                        f"回复期限 {before_due:%Y-%m-%d} → {coordination.reply_due:%Y-%m-%d}"))
    return coordination


@transaction.atomic
def coordination_reply(*, coordination: Coordination, by, reply: str, attachments=(),
                       today: date | None = None) -> Coordination:
    """The first responder returns the result; the requester then has 10 working days to confirm."""
    today = today or timezone.localdate()
    coordination = _locked_coordination(coordination)
    _require_open(coordination)
    _require_receiver(coordination, by)
    reply = _text(reply, "处理结果", minimum=4)
    checked = check_uploads(attachments)
    coordination.status = Coordination.Status.REPLIED
    coordination.reply = reply
    coordination.replied_on = today
    coordination.replied_by = by
    coordination.deemed_confirmed_on = rules.coordination_deemed_confirmed_on(today)
    coordination.save()
    store_attachments(checked=checked, by=by, stage="处理结果", coordination=coordination)
    late = "（超过回复期限）" if today > coordination.reply_due else ""
    log_action(
        action=AuditLog.Action.TRANSITION, user=by, obj=coordination,
        from_state=Coordination.Status.OPEN, to_state=coordination.status,
        message=f"回复处理结果{late}：{reply[:200]}；{coordination.deemed_confirmed_on:%Y-%m-%d} 前未确认视同确认",
    )
    return coordination


@transaction.atomic
def coordination_confirm(*, coordination: Coordination, by, today: date | None = None) -> Coordination:
    """处理结果确认 by the requester."""
    today = today or timezone.localdate()
    coordination = _locked_coordination(coordination)
    if coordination.status != Coordination.Status.REPLIED:
        raise DomainError(f"{coordination.number} 当前为“{coordination.get_status_display()}”，不能确认。", code="state")
    _require_requester(coordination, by)
    coordination.status = Coordination.Status.CONFIRMED
    coordination.confirmed_on = today
    coordination.confirmed_by = by
    coordination.save()
    log_action(action=AuditLog.Action.TRANSITION, user=by, obj=coordination,
               from_state=Coordination.Status.REPLIED, to_state=coordination.status, message="确认处理结果")
    return coordination


@transaction.atomic
def coordination_dispute(*, coordination: Coordination, by, note: str) -> Coordination:
    """The requester does not accept the result; it may then raise it to the level above."""
    coordination = _locked_coordination(coordination)
    if coordination.status != Coordination.Status.REPLIED:
        raise DomainError(f"{coordination.number} 当前为“{coordination.get_status_display()}”，不能提出异议。", code="state")
    _require_requester(coordination, by)
    note = _text(note, "异议说明", minimum=4)
    coordination.status = Coordination.Status.DISPUTED
    coordination.dispute_note = note
    coordination.save()
    log_action(action=AuditLog.Action.TRANSITION, user=by, obj=coordination,
               from_state=Coordination.Status.REPLIED, to_state=coordination.status, message=f"对处理结果有异议：{note[:200]}")
    return coordination


def escalation_target(coordination: Coordination) -> Agency | None:
    """The level above (第五十七条: 申请上一级医保部门协调): the home province's agency."""
    province = home_province_code()
    if coordination.requester.region_id == province or coordination.receiver.region_id == province:
        return None
    return Agency.objects.filter(region_id=province).first()


@transaction.atomic
def coordination_escalate(*, coordination: Coordination, by, note: str = "", today: date | None = None) -> Coordination:
    """Disputed, or still unresolved after its reply limit: raise it again to the province.
    Returns the new issue; the old one is closed as 已提请上级协调."""
    today = today or timezone.localdate()
    coordination = _locked_coordination(coordination)
    _require_requester(coordination, by)
    unresolved = coordination.status == Coordination.Status.OPEN and coordination.reply_due < today
    if coordination.status != Coordination.Status.DISPUTED and not unresolved:
        raise DomainError("只有有异议的，或超过回复期限仍未解决的问题协同，才能提请上一级协调。", code="state")
    target = escalation_target(coordination)
    if target is None:
        raise DomainError("省级经办机构已参与该协同，没有更上一级的经办机构可在本平台提请，请通过国家异地就医系统办理。",
                          code="no_level_above")
    before = coordination.status
    coordination.status = Coordination.Status.ESCALATED
    coordination.save()
    why = "有异议" if before == Coordination.Status.DISPUTED else "超过回复期限未解决"
    escalated = coordination_create(
        by=by,
        receiver=target,
        kind=coordination.kind,
        subject=f"提请协调：{coordination.subject}"[:200],
        description=(
            f"原协同 {coordination.number}（待协同机构：{coordination.receiver.short_name}）{why}。"
            + (f"\n异议：{coordination.dispute_note}" if coordination.dispute_note else "")
            + (f"\n说明：{note.strip()}" if note and note.strip() else "")
            + (f"\n原问题描述：{coordination.description}" if coordination.description else "")
        ),
        person_id_number=coordination.person_id_number,
        person_name=coordination.person_name,
        parent=coordination,
        today=today,
    )
    log_action(action=AuditLog.Action.TRANSITION, user=by, obj=coordination, from_state=before,
               to_state=coordination.status, message=f"{why}，提请{target.short_name}协调：{escalated.number}")
    return escalated


def coordination_deem_confirmed(*, today: date | None = None) -> int:
    """Daily: a result not confirmed within 10 working days of the reply counts as confirmed
    (超过10个工作日未确认的，默认结果确认). Returns how many were closed."""
    today = today or timezone.localdate()
    count = 0
    with transaction.atomic():
        due = Coordination.objects.filter(status=Coordination.Status.REPLIED, deemed_confirmed_on__lt=today)
        for coordination in due.select_for_update():
            coordination.status = Coordination.Status.DEEMED_CONFIRMED
            coordination.confirmed_on = coordination.deemed_confirmed_on
            coordination._change_reason = "超过10个工作日未确认，视同确认（系统每日任务）"
            coordination.save()
            log_action(
                action=AuditLog.Action.TRANSITION, obj=coordination, username=SYSTEM,
                from_state=Coordination.Status.REPLIED, to_state=coordination.status,
                message=f"回复后超过10个工作日（至 {coordination.deemed_confirmed_on:%Y-%m-%d}）未确认，视同确认",
            )
            count += 1
    return count


def daily(*, today: date | None = None) -> dict[str, int]:
    """The daily cooperation job (Celery beat and `manage.py cooperation_daily`)."""
    return {
        "assist_rolled": assist_roll_overdue(today=today),
        "coordination_deemed_confirmed": coordination_deem_confirmed(today=today),
    }


def assist_import_answers(*, rows, by, filename: str = "", today: date | None = None) -> list[AssistRequest]:
    """Answers of cross-province requests returned by the national system, all or nothing:
    a row that no longer fits (someone imported it meanwhile) rolls back the whole file."""
    today = today or timezone.localdate()
    done = []
    with transaction.atomic():
        for row in rows:
            request = AssistRequest.objects.for_user(by).filter(number=row.number).first()
            if request is None:
                raise DomainError(f"第{row.row}行：协查编号 {row.number} 不存在，或不是本地区发起的协查。", code="row")
            try:
                done.append(assist_answer(
                    request=request, by=by, result=row.result, finding=row.finding,
                    irregular_amount=row.irregular_amount, note=row.note, imported=True,
                    answered_on=row.answered_on, today=today,
                ))
            except DomainError as exc:
                raise DomainError(f"第{row.row}行：{exc.message}", code="row") from None
        log_action(action=AuditLog.Action.IMPORT, user=by,
                   message=f"导入国家系统返回的费用协查结果 {len(done)} 条" + (f"（{filename[:100]}）" if filename else ""))
    return done
