"""零星报销 pages. Views fetch through `for_user()` (another region's claim is a 404),
check the role, call one service and show its `DomainError` message."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.audit import entries_for, log_action
from core.decorators import role_required
from core.errors import DomainError
from core.idcard import parse_id_number
from core.jurisdictions import rules_for
from core.models import AuditLog, InsuredPerson, Role
from core.pagination import CappedPaginator
from core.scoping import get_object_for_user
from core.services import insured_person_upsert
from core.validators import parse_amount
from reimbursement import selectors, services
from reimbursement.benefits import BenefitCase, calculate_case
from reimbursement.eligibility import suggest_situation
from reimbursement.forms import (
    ClaimDetailsForm,
    ClaimFilter,
    DelayNoticeForm,
    IntakeForm,
    PayeeCorrectionForm,
    PaymentRecordForm,
    PaymentReturnForm,
    PolicyFilterForm,
    ReasonForm,
    TrialForm,
)
from reimbursement.models import Claim, ClaimNotice, PolicyVersion, PublishedMaterial

CASEWORK = (Role.CLERK, Role.SUPERVISOR, Role.FINANCE, Role.ADMINISTRATOR)
STAFF = (Role.CLERK, Role.SUPERVISOR, Role.FINANCE, Role.ADMINISTRATOR, Role.CLEARING_OFFICER)
#: Rows of each section of the deadlines page (the most urgent); the whole section is the claims
#: list filtered by it. Work queues show a list page's 25 rows.
DEADLINE_ROWS = 10
APPROVALS_PER_PAGE = 25


def _fail(request, exc: DomainError) -> None:
    messages.error(request, exc.message)


def _ticks(request) -> set[str]:
    return {value for value in request.POST.getlist("material") if value}


# --- Lists -----------------------------------------------------------------------------------


@role_required(*CASEWORK)
@require_GET
def claim_list(request):
    window = selectors.DeadlineWindow.for_today()
    claims = selectors.claim_list(user=request.user)
    claim_filter = ClaimFilter(request.GET or None, queryset=claims, window=window, user=request.user)
    ordering = claim_filter.ordering()
    rows = selectors.list_rows((claim_filter.qs if claim_filter.is_bound else claims).order_by(*ordering))
    page = CappedPaginator(rows, 25).get_page(request.GET.get("page"))
    for claim in page:
        claim.flag = window.flag_of(claim)
    selectors.mark_delay_notices(page)
    return render(
        request,
        "reimbursement/claim_list.html",
        {"page": page, "filter": claim_filter, "window": window, "query": request.GET.urlencode(),
         "by_urgency": ordering[0] == "due_on"},
    )


@role_required(*CASEWORK)
@require_GET
def claim_export(request):
    from reimbursement.resources import export_claims_xlsx

    window = selectors.DeadlineWindow.for_today()
    claims = selectors.claim_list(user=request.user)
    claim_filter = ClaimFilter(request.GET or None, queryset=claims, window=window, user=request.user)
    rows = (claim_filter.qs if claim_filter.is_bound else claims).order_by(*claim_filter.ordering())
    content, count = export_claims_xlsx(rows)
    log_action(action=AuditLog.Action.EXPORT, user=request.user, request=request, message=f"导出零星报销申请 {count} 条")
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="reimbursement-claims-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


@role_required(Role.CLERK, Role.SUPERVISOR, Role.ADMINISTRATOR)
@require_GET
def deadlines(request):
    window = selectors.DeadlineWindow.for_today()
    lists = selectors.deadline_lists(user=request.user, window=window, per_section=DEADLINE_ROWS)
    return render(request, "reimbursement/deadlines.html", {"lists": lists, "window": window, "per_section": DEADLINE_ROWS})


# --- Intake ------------------------------------------------------------------------------------


@role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
def intake(request):
    region_code = request.user.region_code
    form = IntakeForm(request.POST or None, region_code=region_code)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                person = _person_for_intake(request.user, data)
                claim = services.claim_create(by=request.user, person=person, details=form.to_details(), ticked=_ticks(request))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if claim.status == Claim.Status.INCOMPLETE:
                messages.warning(request, f"申请 {claim.number} 已登记，材料不全：一次性告知书正在生成，请打印交申请人。")
            else:
                messages.success(
                    request, f"申请 {claim.number} 材料齐全，已受理；办理期限 {claim.due_on:%Y-%m-%d}。受理回执正在生成。"
                )
            return redirect("reimbursement:claim_detail", pk=claim.pk)
    panel = _panel_context(request, form.data if form.is_bound else {}, region_code)
    return render(request, "reimbursement/intake.html", {"form": form, **panel})


FOREIGN_PERSON_MESSAGE = services.FOREIGN_PERSON_MESSAGE


def _person_for_intake(user, data) -> InsuredPerson:
    person = InsuredPerson.objects.with_id_number(data["id_number"]).select_related("insured_region").first()
    if person is not None and not user.sees_all_regions and person.insured_region_id != user.region_code:
        raise DomainError(FOREIGN_PERSON_MESSAGE)
    if person is not None:
        if person.name != data["name"].strip():
            raise DomainError(
                f"身份证号 {person.masked_id_number} 已登记为“{person.name}”，与填写的姓名“{data['name']}”不一致，请核对。"
            )
        return person
    if not data.get("insurance_type"):
        raise DomainError("该人员尚未登记，请选择险种类型。")
    return insured_person_upsert(
        id_number=data["id_number"],
        name=data["name"],
        insurance_type=data["insurance_type"],
        insured_region=user.region,
        phone=data.get("phone", ""),
        by=user,
    )


@role_required(Role.CLERK)
@require_POST
def intake_panel(request):
    """htmx: the checklist, filing query, eligibility and deadline preview for the form as typed."""
    context = _panel_context(request, request.POST, request.user.region_code)
    return render(request, "reimbursement/_intake_panel.html", context)


def _panel_context(request, data, region_code: str | None) -> dict:
    today = timezone.localdate()
    care_type = data.get("care_type") or "inpatient"
    flags = {name: data.get(name) in ("on", "true", "1", True) for name in (
        "rescue", "accidental_injury", "dual_channel_drugs", "drugs_bought_outside", "patient_deceased"
    )}
    institution = _chosen_institution(data)
    person_context = _panel_person_and_eligibility(data, care_type, flags, today, user=request.user,
                                                   institution=institution)
    # The checklist is always the insured region's: its published extra materials are the ones
    # the saved claim will require, whoever takes it in.
    person = person_context.get("panel_person")
    checklist_region = person.insured_region_id if person is not None else region_code
    try:
        requirements = services.checklist_for(region_code=checklist_region or "", on_date=today, care_type=care_type, **flags)
    except ValueError:
        requirements = services.checklist_for(region_code=checklist_region or "", on_date=today, care_type="inpatient", **flags)
    ticked = set(data.getlist("material")) if hasattr(data, "getlist") else set()
    items = []
    from reimbursement.checklists import expand_ticks, satisfied

    expanded = expand_ticks(requirements, ticked)
    for requirement in requirements:
        got = satisfied(requirement, expanded)
        choices = [
            {
                "value": f"{requirement.code}:{index}" if requirement.alternatives else requirement.code,
                "label": label if requirement.alternatives else "已收到",
                "checked": (f"{requirement.code}:{index}" if requirement.alternatives else requirement.code) in ticked,
            }
            for index, label in enumerate(requirement.choices)
        ]
        # Satisfied by a paper ticked under another item (one 出院小结 for two items).
        via_other = got if got and not satisfied(requirement, ticked) else []
        items.append({"requirement": requirement, "choices": choices, "ok": bool(got), "via_other": via_other})
    missing = [item["requirement"] for item in items if not item["ok"]]
    from reimbursement.models import CareType

    care_label = CareType(care_type).label if care_type in CareType.values else ""
    material_lists = rules_for(checklist_region or None, on=today).materials
    context = {"items": items, "missing": missing, "panel_care_type": care_type, "care_label": care_label,
               "material_lists": material_lists}
    context.update(person_context)
    context["panel_institution"] = institution
    context.update(_panel_fees(data, care_type))
    return context


def _chosen_institution(data):
    """The hospital picked from the list, so the panel can show its 就医地 and 等级."""
    from core.models import Institution

    pk = _pk(data.get("institution"))
    return Institution.objects.filter(pk=pk).select_related("region").first() if pk else None


def _decimal(value) -> Decimal | None:
    """A finite amount typed into a form, or None (blank, text, NaN, Infinity, 1e20):
    the panel previews what it can and the form says what is wrong."""
    return parse_amount(value)


def _pk(value) -> int | None:
    """A primary key from a form or URL parameter, or None when it is not a positive integer."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text) or None


def _panel_fees(data, care_type: str) -> dict:
    from reimbursement.deadlines import processing_deadline

    total = _decimal(data.get("total_amount", ""))
    parts = [_decimal(data.get(name, "")) for name in ("in_scope_amount", "class_b_self_pay", "over_limit_self_pay", "self_funded_amount")]
    context: dict = {"fee_total": total}
    if total is not None and all(part is not None for part in parts):
        context["fee_sum"] = sum(parts, Decimal("0"))
        context["fee_balanced"] = context["fee_sum"] == total
    if total is not None and total >= 0:
        with contextlib.suppress(ValueError, TypeError):
            context["preview_due"] = processing_deadline(timezone.localdate(), care_type=care_type, amount=total)
    return context


def _panel_person_and_eligibility(data, care_type: str, flags: dict, today, *, user, institution) -> dict:
    from core.models import Region

    context: dict = {}
    raw_id = (data.get("id_number") or "").strip()
    if not raw_id:
        return context
    try:
        info = parse_id_number(raw_id)
    except Exception as exc:  # ValidationError: show its message
        context["id_error"] = getattr(exc, "messages", [str(exc)])[0]
        return context
    person = InsuredPerson.objects.with_id_number(info.number).select_related("insured_region").first()
    if person is not None and not user.sees_all_regions and person.insured_region_id != user.region_code:
        # Another region's insured person is "not found" here: neither name nor insurance type
        # may leak. A 零星报销 is taken by the insured region's agency only.
        context["foreign_person"] = True
        context["foreign_person_message"] = FOREIGN_PERSON_MESSAGE
        return context
    context["panel_person"] = person
    context["panel_new_person"] = person is None
    if person is None:
        return context
    region = institution.region if institution else Region.objects.filter(pk=data.get("treatment_region") or "").first()
    admission = _date(data.get("admission_date"))
    discharge = admission if care_type in ("outpatient", "emergency") else _date(data.get("discharge_date"))
    if region is None or admission is None or discharge is None:
        return context
    details = services.ClaimDetails(
        care_type=care_type,
        situation=data.get("situation") or "",
        admission_date=admission,
        discharge_date=discharge,
        invoice_numbers="",
        total_amount=Decimal("0"),
        in_scope_amount=Decimal("0"),
        payee_name="",
        bank_name="",
        bank_account="",
        institution=institution,
        institution_name=data.get("institution_name") or "",
        treatment_region=region,
        hospital_level=data.get("hospital_level") or "",
        designated=data.get("designated") in ("on", "true", "1", True),
        settlement_failure=data.get("settlement_failure") or "",
        other_case=None,
        **flags,
    )
    details.resolve_institution()
    if _pk(data.get("other_case")):
        from reimbursement.models import OtherAllowedCase

        details.other_case = OtherAllowedCase.objects.filter(pk=_pk(data.get("other_case"))).first()
    check = services.filing_lookup(person, details)
    context["filing_check"] = check
    context["suggested_situation"] = suggest_situation(
        filing_status=check.status,
        care_type=care_type,
        rescue=flags["rescue"],
        insurance_type=person.insurance_type,
        admission_date=admission,
        vacation_periods=services.vacation_periods(person.insured_region_id, admission.year),
    )
    from reimbursement.models import Situation

    context["suggested_label"] = Situation(context["suggested_situation"]).label
    if details.situation:
        context["eligibility"] = services.check_eligibility(person, details, check=check)[1]
    return context


def _date(value):
    from datetime import date

    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


# --- Detail and actions -------------------------------------------------------------------------


@role_required(*CASEWORK)
@require_GET
def claim_detail(request, pk: int):
    claim = selectors.claim_detail(user=request.user, pk=pk)
    window = selectors.DeadlineWindow.for_today()
    user = request.user
    is_clerk = user.has_role(Role.CLERK)
    is_supervisor = user.has_role(Role.SUPERVISOR)
    from core.models import Document, Job

    documents = list(
        Document.objects.filter(key__startswith=f"reimbursement:claim:{claim.pk}:", is_latest=True)
    ) + [notice.document for notice in claim.notices.all() if notice.document_id]
    payment_returns = list(claim.payment_returns.select_related("batch", "recorded_by", "resolved_by", "verified_by").order_by("pk"))
    open_return = next((record for record in payment_returns if record.is_open), None)
    unverified_return = next((record for record in payment_returns if record.awaits_verification), None)
    running = Job.objects.filter(
        kind="reimbursement.claim_document", params__claim_id=claim.pk, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    ).order_by("-pk")[:3]
    context = {
        "claim": claim,
        "flag": window.flag_of(claim),
        "window": window,
        "history": entries_for(claim),
        "documents": documents,
        "running_jobs": running,
        "steps": claim.calculation.get("steps", []),
        "calc_years": claim.calculation.get("years", []),
        "usage": selectors.person_year_usage(
            person_id=claim.person_id, year=claim.discharge_date.year, exclude_claim_id=claim.pk
        ),
        "can_edit": is_clerk and claim.status in Claim.EDITABLE_STATUSES,
        "can_receive": is_clerk and claim.status == Claim.Status.INCOMPLETE,
        "can_calculate": (is_clerk and claim.status == Claim.Status.ACCEPTED)
        or (is_supervisor and claim.status == Claim.Status.SUBMITTED),
        "can_submit": is_clerk and claim.status == Claim.Status.ACCEPTED and claim.fund_payment is not None,
        "can_decide": is_supervisor and claim.status == Claim.Status.SUBMITTED,
        "own_claim": claim.intake_by_id == user.pk or claim.submitted_by_id == user.pk,
        "can_mark_special": is_supervisor
        and not claim.special
        and claim.status in (Claim.Status.INCOMPLETE, *Claim.CLOCK_STATUSES)
        and not (claim.due_on and claim.due_on < window.today),
        "can_print_settlement": user.has_role(Role.CLERK, Role.SUPERVISOR, Role.FINANCE)
        and services.settlement_printable(claim),
        "settlement_ready": claim.status in services.SETTLEMENT_STATUSES,
        "nothing_to_pay": claim.status == Claim.Status.PAID and claim.fund_payment == Decimal("0.00"),
        "can_cancel": is_clerk and claim.status in Claim.EDITABLE_STATUSES,
        "can_notify_delay": user.has_role(Role.CLERK, Role.SUPERVISOR) and claim.clock_running,
        "can_pay": user.has_role(Role.FINANCE) and claim.status == Claim.Status.PAYMENT_NOTIFIED,
        "can_print": user.has_role(Role.CLERK, Role.SUPERVISOR, Role.FINANCE),
        "reason_form": ReasonForm(),
        "delay_form": DelayNoticeForm(),
        "payment_form": PaymentRecordForm(),
        "notices": list(claim.notices.all()),
        "payment_returns": payment_returns,
        "open_return": open_return,
        "can_record_return": user.has_role(Role.FINANCE)
        and claim.status in (Claim.Status.PAYMENT_NOTIFIED, Claim.Status.PAID)
        and not (claim.status == Claim.Status.PAID and claim.fund_payment == Decimal("0.00")),
        "can_correct_payee": is_clerk and open_return is not None and claim.status == Claim.Status.APPROVED,
        "unverified_return": unverified_return,
        "can_verify_payee": is_supervisor and unverified_return is not None and claim.status == Claim.Status.APPROVED,
        "return_form": PaymentReturnForm(),
    }
    return render(request, "reimbursement/claim_detail.html", context)


def _claim_for(request, pk: int) -> Claim:
    return get_object_for_user(request.user, Claim, pk=pk)


@role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
def claim_edit(request, pk: int):
    claim = _claim_for(request, pk)
    if claim.status not in Claim.EDITABLE_STATUSES:
        messages.error(request, f"申请当前状态为“{claim.get_status_display()}”，不能修改。")
        return redirect("reimbursement:claim_detail", pk=pk)
    form = ClaimDetailsForm(
        request.POST or None,
        initial=ClaimDetailsForm.initial_from_claim(claim),
        region_code=claim.region_id,
        current_account=claim.bank_account,
    )
    if request.method == "POST" and form.is_valid():
        before_status, before_due = claim.status, claim.due_on
        try:
            updated = services.claim_update(claim=claim, by=request.user, details=form.to_details())
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            _edit_messages(request, updated, before_status=before_status, before_due=before_due)
            return redirect("reimbursement:claim_detail", pk=pk)
    return render(request, "reimbursement/claim_edit.html", {"form": form, "claim": claim})


def _edit_messages(request, claim: Claim, *, before_status: str, before_due) -> None:
    missing = [m.label for m in claim.materials.all() if not m.received]
    if before_status == Claim.Status.ACCEPTED and claim.status == Claim.Status.INCOMPLETE:
        messages.warning(
            request,
            "申请信息已修改。修改后需补充材料：" + "；".join(missing)
            + f"。申请转为“材料不全”，原办理期限 {before_due:%Y-%m-%d} 不再适用，补齐材料之日起重新计算；"
            "新的一次性告知书正在生成，请交申请人。",
        )
    elif before_status == Claim.Status.INCOMPLETE and claim.status == Claim.Status.ACCEPTED:
        messages.success(request, f"申请信息已修改，材料齐全，正式受理；办理期限 {claim.due_on:%Y-%m-%d}。受理回执正在生成。")
    elif claim.status == Claim.Status.ACCEPTED and claim.due_on != before_due:
        messages.warning(
            request,
            f"申请信息已修改；收齐材料日期不变，办理期限由 {before_due:%Y-%m-%d} 变为 {claim.due_on:%Y-%m-%d}，"
            "新的受理回执正在生成，请交申请人。待遇需要重新计算。",
        )
    else:
        messages.success(request, "申请信息已修改；待遇需要重新计算。")


@role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
def claim_materials(request, pk: int):
    claim = selectors.claim_detail(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            claim = services.claim_materials_receive(claim=claim, by=request.user, ticked=_ticks(request))
        except DomainError as exc:
            _fail(request, exc)
        else:
            if claim.status == Claim.Status.ACCEPTED:
                messages.success(request, f"材料已收齐，正式受理；办理期限 {claim.due_on:%Y-%m-%d}。受理回执正在生成。")
            else:
                messages.warning(request, "已登记补收的材料，仍有材料未收齐：新的一次性告知书正在生成。")
            return redirect("reimbursement:claim_detail", pk=pk)
    return render(request, "reimbursement/claim_materials.html", {"claim": claim, "ticks": services.ticks_of(claim)})


def _action(request, pk: int, action, success: str, **kwargs):
    claim = _claim_for(request, pk)
    try:
        action(claim=claim, by=request.user, **kwargs)
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, success)
    return redirect("reimbursement:claim_detail", pk=pk)


@role_required(Role.CLERK, Role.SUPERVISOR)
@require_POST
def claim_calculate(request, pk: int):
    claim = _claim_for(request, pk)
    if claim.status == Claim.Status.SUBMITTED and not request.user.has_role(Role.SUPERVISOR):
        # The region's own claim: a role refusal (403), not "no such claim" (404).
        raise PermissionDenied("已提交复核的申请只能由审核人员重新计算。")
    return _action(request, pk, services.claim_calculate, "待遇已计算，请核对计算过程。")


@role_required(Role.CLERK)
@require_POST
def claim_submit(request, pk: int):
    return _action(request, pk, services.claim_submit, "已提交复核。")


@role_required(Role.SUPERVISOR)
@require_POST
def claim_approve(request, pk: int):
    raw = request.POST.get("expected_fund_payment", "")
    expected = _decimal(raw)
    claim = _claim_for(request, pk)
    if raw.strip() and expected is None:
        messages.error(request, "页面显示的金额无效，请刷新页面核对后再审批。")
        return redirect("reimbursement:claim_detail", pk=pk)
    try:
        claim = services.claim_approve(claim=claim, by=request.user, expected_fund_payment=expected)
    except DomainError as exc:
        _fail(request, exc)
    else:
        if claim.status == Claim.Status.PAID:
            messages.success(request, f"已审批通过。{services.NOTHING_TO_PAY}：申请已办结，不列入付款通知。")
        else:
            messages.success(request, "已审批通过，转财务付款。")
    return redirect("reimbursement:claim_detail", pk=pk)


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET", "POST"])
def approvals(request):
    """The supervisor's queue of claims waiting for approval, several approved in one step."""
    from reimbursement.approvals import claims_approve, own_case_reason

    queue = selectors.awaiting_approval(user=request.user)
    if request.method == "POST":
        ids = {_pk(value) for value in request.POST.getlist("claim")} - {None}
        chosen = list(queue.filter(pk__in=ids))
        choices = [(claim, _decimal(request.POST.get(f"expected_{claim.pk}", ""))) for claim in chosen]
        gone = len(ids) - len(chosen)
        try:
            outcome = claims_approve(choices=choices, by=request.user)
        except DomainError as exc:
            _fail(request, exc)
            return redirect("reimbursement:approvals")
        if outcome.approved:
            messages.success(request, f"已审批通过 {len(outcome.approved)} 笔：" + "、".join(c.number for c in outcome.approved))
        if outcome.refused or gone:
            lines = [f"{number}：{why}" for number, why in outcome.refused]
            if gone:
                lines.append(f"另有 {gone} 笔已不是“待复核”状态（可能已由其他审核人员处理）。")
            messages.error(request, "以下申请未审批：\n" + "\n".join(lines))
        return redirect("reimbursement:approvals")
    rows = selectors.queue_rows(queue, "total_amount", "submitted_by_id", "intake_by__first_name",
                                "intake_by__last_name", "intake_by__full_name", related=("person", "intake_by"))
    paginator = Paginator(rows, APPROVALS_PER_PAGE)
    paginator.count = selectors.awaiting_approval_count(user=request.user)  # kept: no COUNT on every visit
    page = paginator.get_page(request.GET.get("page"))
    for claim in page:
        claim.blocked_reason = own_case_reason(claim, request.user)
    return render(request, "reimbursement/approvals.html", {"page": page})


def _reason_action(request, pk: int, action, success: str):
    form = ReasonForm(request.POST)
    reason = form.data.get("reason", "")
    return _action(request, pk, action, success, reason=reason)


@role_required(Role.SUPERVISOR)
@require_POST
def claim_reject(request, pk: int):
    return _reason_action(request, pk, services.claim_reject, "已作出不予报销决定。")


@role_required(Role.SUPERVISOR)
@require_POST
def claim_return(request, pk: int):
    return _reason_action(request, pk, services.claim_return, "已退回经办人修改。")


@role_required(Role.SUPERVISOR)
@require_POST
def claim_special(request, pk: int):
    return _reason_action(request, pk, services.claim_mark_special, "已认定为特殊情况，办理时限延长为20个工作日。")


@role_required(Role.CLERK)
@require_POST
def claim_cancel(request, pk: int):
    return _reason_action(request, pk, services.claim_cancel, "申请已撤销。")


@role_required(Role.CLERK, Role.SUPERVISOR)
@require_POST
def claim_delay_notice(request, pk: int):
    claim = _claim_for(request, pk)
    form = DelayNoticeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写不能按期办结的原因、预计办结日期和告知方式。")
        return redirect("reimbursement:claim_detail", pk=pk)
    try:
        services.claim_record_delay_notice(claim=claim, by=request.user, **form.cleaned_data)
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, "已登记延期告知，告知书正在生成，可打印交申请人。")
    return redirect("reimbursement:claim_detail", pk=pk)


@role_required(Role.CLERK, Role.SUPERVISOR, Role.FINANCE)
@require_POST
def claim_print(request, pk: int, form: str):
    claim = _claim_for(request, pk)
    notice = None
    if request.POST.get("notice"):
        notice_pk = _pk(request.POST["notice"])
        notice = ClaimNotice.objects.filter(claim=claim, pk=notice_pk).first() if notice_pk else None
        if notice is None:
            titles = dict(ClaimNotice.Kind.choices)
            messages.error(request, f"本申请没有可打印的{titles.get(form, '告知书')}：所选记录不存在，请刷新页面后重试。")
            return redirect("reimbursement:claim_detail", pk=pk)
    try:
        job = services.claim_print(claim=claim, by=request.user, form=form, notice=notice)
    except DomainError as exc:
        _fail(request, exc)
        return redirect("reimbursement:claim_detail", pk=pk)
    messages.info(request, "正在后台生成打印件，完成后可在本页下载。")
    return redirect(f"{reverse('reimbursement:claim_detail', kwargs={'pk': pk})}?job={job.pk}")


@role_required(Role.FINANCE)
@require_POST
def claim_pay(request, pk: int):
    claim = _claim_for(request, pk)
    form = PaymentRecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写有效的支付日期。")
        return redirect("reimbursement:claim_detail", pk=pk)
    try:
        services.payment_record(claims=[claim], by=request.user, **form.cleaned_data)
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, "已登记支付，申请办结。")
    return redirect("reimbursement:claim_detail", pk=pk)


@role_required(Role.FINANCE)
@require_POST
def claim_payment_return(request, pk: int):
    claim = _claim_for(request, pk)
    form = PaymentReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写有效的退票日期和退票原因。")
        return redirect("reimbursement:claim_detail", pk=pk)
    try:
        services.payment_return_record(claim=claim, by=request.user, **form.cleaned_data)
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.warning(request, "已登记退票：申请转回“已审批（待付款）”，待经办人核对更正收款账户后重新出付款通知。")
    return redirect("reimbursement:claim_detail", pk=pk)


@role_required(Role.CLERK)
@require_POST
def claim_correct_payee(request, pk: int):
    claim = _claim_for(request, pk)
    form = PayeeCorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写收款人和开户银行（账号不修改可留空）。")
        return redirect("reimbursement:claim_detail", pk=pk)
    try:
        services.claim_correct_payee(claim=claim, by=request.user, **form.cleaned_data)
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, "收款账户已更正（或核对无误），财务可重新出付款通知。")
    return redirect("reimbursement:claim_detail", pk=pk)


@role_required(Role.SUPERVISOR)
@require_POST
def claim_verify_payee(request, pk: int):
    claim = _claim_for(request, pk)
    try:
        services.claim_verify_payee(claim=claim, by=request.user)
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, "已复核更正后的收款账户，财务可重新出付款通知。")
    return redirect("reimbursement:claim_detail", pk=pk)


# --- Trial calculation --------------------------------------------------------------------------


@role_required(Role.CLERK, Role.SUPERVISOR, Role.ADMINISTRATOR)
@require_http_methods(["GET", "POST"])
def trial(request):
    initial = {"region": request.user.region_code, "treatment_region": "110000"}
    if request.GET.get("claim", "").isdigit():
        initial.update(_trial_initial(get_object_for_user(request.user, Claim, pk=int(request.GET["claim"]))))
    form = TrialForm(request.POST or None, initial=initial)
    result = None
    error = ""
    person = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case = BenefitCase(
            region_code=data["region"].code,
            insurance_type=data["insurance_type"],
            care_type=data["care_type"],
            hospital_level=data["hospital_level"],
            designated=data["designated"],
            emergency=data["emergency"],
            scope="intra_province" if data["region"].code[:2] == data["treatment_region"].code[:2] else "cross_province",
            adjustment_situation=data["adjustment_situation"],
            admission_date=data["admission_date"],
            discharge_date=data["discharge_date"],
            total_amount=data["total_amount"],
            in_scope_amount=data["in_scope_amount"],
            class_b_self_pay=data["class_b_self_pay"],
            over_limit_self_pay=data["over_limit_self_pay"],
            self_funded_amount=data["self_funded_amount"],
        )
        usage = None
        if data["id_number"]:
            person = InsuredPerson.objects.for_user(request.user).with_id_number(data["id_number"]).first()
            if person is None:
                error = "没有找到该参保人员（或不属于本统筹区），已按下面填写的“此前已用”计算。"
        if person is None:
            used = (data.get("deductible_used_before") or Decimal("0.00"), data.get("fund_used_before") or Decimal("0.00"))
            usage = {year: used for year in range(data["admission_date"].year, data["discharge_date"].year + 1)}
        try:
            result = calculate_case(case, person_id=person.pk if person else None, usage_override=usage)
        except DomainError as exc:
            error = exc.message
    template = "reimbursement/_trial_result.html" if request.htmx else "reimbursement/trial.html"
    return render(request, template, {"form": form, "calculation": result, "error": error, "trial_person": person})


def _trial_initial(claim: Claim) -> dict:
    """Open the 试算 page with a claim's values, to try what-ifs without touching the claim."""
    return {
        "region": claim.region_id,
        "id_number": claim.person.id_number,
        "insurance_type": claim.insurance_type,
        "care_type": claim.care_type,
        "treatment_region": claim.treatment_region_id,
        "hospital_level": claim.hospital_level,
        "designated": claim.designated,
        "emergency": claim.is_emergency,
        "adjustment_situation": claim.adjustment_situation,
        "admission_date": claim.admission_date,
        "discharge_date": claim.discharge_date,
        "total_amount": claim.total_amount,
        "in_scope_amount": claim.in_scope_amount,
        "class_b_self_pay": claim.class_b_self_pay,
        "over_limit_self_pay": claim.over_limit_self_pay,
        "self_funded_amount": claim.self_funded_amount,
    }


# --- Policies (reference data, read-only here; edited in the admin) --------------------------------


@role_required(*STAFF)
@require_GET
def policy_list(request):
    form = PolicyFilterForm(request.GET or None)
    policies = PolicyVersion.objects.select_related("region").order_by("region__sort_order", "region_id", "-effective_from")
    if form.is_valid() and form.cleaned_data.get("region"):
        policies = policies.filter(region=form.cleaned_data["region"])
    materials = PublishedMaterial.objects.select_related("region").order_by("region__sort_order", "published_on")
    return render(request, "reimbursement/policy_list.html", {"policies": policies, "form": form, "materials": materials})


@role_required(*STAFF)
@require_GET
def policy_detail(request, pk: int):
    policy = PolicyVersion.objects.select_related("region").filter(pk=pk).first()
    if policy is None:
        raise Http404("没有找到该政策版本。")
    rules = policy.rules.order_by("insurance_type", "care_type", "-hospital_level")
    adjustments = policy.adjustments.order_by("scope", "situation")
    return render(
        request, "reimbursement/policy_detail.html", {"policy": policy, "rules": rules, "adjustments": adjustments}
    )
