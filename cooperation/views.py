"""业务协同 pages. Cases are fetched through for_user() (another region's case is a 404),
roles are checked by decorator, and every change is one service call showing its DomainError."""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cooperation import deductions, exchange, selectors, services
from cooperation.forms import (
    AnswerForm,
    AssistDeductionForm,
    AssistFilter,
    AssistForm,
    CoordinationFilter,
    CoordinationForm,
    ExtendForm,
    HelperForm,
    ImportForm,
    NoteForm,
    ReasonForm,
    ReplyForm,
)
from cooperation.models import AssistRequest, Attachment, Coordination, CoordinationHelper
from cooperation.rules import ASSIST_THRESHOLD
from core.audit import entries_for, log_action
from core.decorators import role_required
from core.errors import DomainError
from core.models import AuditLog, Role
from core.money import format_yuan

WORKERS = (Role.CLERK, Role.SUPERVISOR, Role.CLEARING_OFFICER)
READERS = (*WORKERS, Role.ADMINISTRATOR)
IMPORT_SALT = "cooperation.assist_import"


def _files(request) -> list:
    return request.FILES.getlist("attachments")


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=exchange.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- 费用协查: lists ----------------------------------------------------------------------------


def _assist_filtered(request):
    window = selectors.Window.for_today()
    queryset = selectors.assist_list(user=request.user)
    assist_filter = AssistFilter(request.GET or None, queryset=queryset, user=request.user, window=window)
    rows = assist_filter.qs if assist_filter.is_bound and assist_filter.is_valid() else queryset
    return assist_filter, rows.order_by("-received_on", "-pk"), window


@role_required(*READERS)
@require_GET
def assist_list(request):
    assist_filter, rows, window = _assist_filtered(request)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    for item in page:
        item.due = selectors.assist_due_on(item)
        item.flag = window.flag(item.due)
    period = request.GET.get("period", "").strip()
    if not (len(period) == 7 and period[4] == "-" and period.replace("-", "").isdigit() and 1 <= int(period[5:]) <= 12):
        period = f"{window.today:%Y-%m}"
    return render(request, "cooperation/assist_list.html", {
        "page": page, "filter": assist_filter, "query": request.GET.urlencode(), "stats_period": period,
        "stats": selectors.assist_period_statistics(user=request.user, period=period),
    })


@role_required(*READERS)
@require_GET
def assist_export(request):
    _, rows, _ = _assist_filtered(request)
    rows = list(rows[:20000])
    content = exchange.xlsx_bytes(title="费用协查", header=exchange.ASSIST_HEADER, rows=exchange.assist_rows(rows))
    log_action(action=AuditLog.Action.EXPORT, user=request.user, request=request, message=f"导出费用协查 {len(rows)} 条")
    return _xlsx_response(content, f"assist-requests-{timezone.localdate():%Y%m%d}.xlsx")


@role_required(*WORKERS)
@require_GET
def assist_national_export(request):
    """The cross-province requests awaiting an answer, as the file for the national system."""
    requests = list(
        selectors.assist_list(user=request.user)
        .filter(cross_province=True, status__in=AssistRequest.ANSWER_STATUSES, insured_region_id=request.user.region_code)
        .order_by("received_on", "pk")
    )
    if request.GET.get("new") == "1":
        requests = [r for r in requests if r.exported_at is None]
    content = exchange.national_requests_xlsx(requests)
    services.assist_mark_exported(requests=requests, by=request.user)
    log_action(action=AuditLog.Action.EXPORT, user=request.user, request=request,
               message=f"导出跨省费用协查申请 {len(requests)} 条（国家异地就医系统）")
    return _xlsx_response(content, f"assist-national-{timezone.localdate():%Y%m%d}.xlsx")


# --- 费用协查: raising ------------------------------------------------------------------------


@role_required(*WORKERS)
@require_GET
def assist_source(request):
    """Find the stay: imported settlement records (settlement id, hospital, period) or 零星报销 claims
    (ID number, name, claim number, hospital)."""
    query = request.GET.get("q", "").strip()
    period = request.GET.get("period", "").strip()
    institution = request.GET.get("institution", "").strip()
    searched = bool(query or period or institution)
    settlements = selectors.settlement_candidates(user=request.user, query=query, period=period,
                                                  institution=institution)[:50] if searched else []
    claims = selectors.claim_candidates(user=request.user, query=query or institution)[:50] if searched else []
    return render(request, "cooperation/assist_source.html", {
        "settlements": settlements, "claims": claims, "q": query, "period": period, "institution": institution,
        "searched": searched, "threshold": ASSIST_THRESHOLD,
    })


def _assist_initial(request) -> dict:
    from clearing.models import Settlement
    from reimbursement.models import Claim

    initial: dict = {}
    if settlement_id := request.GET.get("settlement"):
        settlement = Settlement.objects.for_user(request.user).filter(settlement_id=settlement_id).first()
        if settlement is None:
            raise Http404("没有找到该结算明细，或您无权查看。")
        initial = selectors.assist_initial_from_settlement(settlement)
    elif claim_pk := request.GET.get("claim"):
        claim = Claim.objects.for_user(request.user).select_related("person").filter(pk=claim_pk).first() \
            if claim_pk.isdigit() else None
        if claim is None:
            raise Http404("没有找到该报销申请，或您无权查看。")
        initial = selectors.assist_initial_from_claim(claim)
    return initial


@role_required(*WORKERS)
@require_http_methods(["GET", "POST"])
def assist_new(request):
    from reimbursement.models import Claim

    form = AssistForm(request.POST or None, initial=_assist_initial(request) if request.method == "GET" else None,
                      user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        claim = None
        if data.get("claim"):
            claim = Claim.objects.for_user(request.user).filter(pk=data["claim"]).first()
            if claim is None:
                raise Http404("没有找到该报销申请，或您无权查看。")
        settlement_id = (data.get("settlement_id") or "").strip()
        if settlement_id:
            from clearing.models import Settlement

            if not Settlement.objects.for_user(request.user).filter(settlement_id=settlement_id).exists():
                raise Http404("没有找到该结算明细，或您无权查看。")
        source = (AssistRequest.Source.SETTLEMENT if settlement_id
                  else AssistRequest.Source.CLAIM if claim else AssistRequest.Source.MANUAL)
        try:
            assist = services.assist_create(
                by=request.user, treatment_region=data["treatment_region"], id_number=data["id_number"],
                name=data["name"], sex=data["sex"], institution_name=data["institution_name"],
                hospital_number=data["hospital_number"], invoice_number=data["invoice_number"],
                admission_date=data["admission_date"], discharge_date=data["discharge_date"],
                total_amount=data["total_amount"], concern=data["concern"], source=source,
                settlement_id=settlement_id, claim=claim, attachments=_files(request),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            note = "（跨省：请导出后经国家异地就医系统发送）" if assist.cross_province else ""
            messages.success(request, f"费用协查 {assist.number} 已发出，协查期限 {assist.answer_due:%Y-%m-%d}。{note}")
            return redirect("cooperation:assist_detail", pk=assist.pk)
    return render(request, "cooperation/assist_form.html", {"form": form, "threshold": ASSIST_THRESHOLD})


# --- 费用协查: one case -----------------------------------------------------------------------


@role_required(*READERS)
@require_GET
def assist_detail(request, pk: int):
    assist = selectors.assist_detail(user=request.user, pk=pk)
    region = request.user.region_code
    can_answer = (assist.awaiting_answer and not assist.cross_province and region == assist.treatment_region_id
                  and request.user.has_role(*WORKERS))
    can_confirm = (assist.status == AssistRequest.Status.ANSWERED and region == assist.insured_region_id
                   and request.user.has_role(*WORKERS))
    window = selectors.Window.for_today()
    due = selectors.assist_due_on(assist)
    deduction = deductions.deduction_of(assist)
    can_deduct = (assist.status == AssistRequest.Status.CONFIRMED and assist.result == AssistRequest.Result.HAS_ISSUE
                  and not assist.deduction_reference and deductions.may_deduct(request.user))
    return render(request, "cooperation/assist_detail.html", {
        "assist": assist, "answer_form": AnswerForm(), "reason_form": ReasonForm(),
        "can_answer": can_answer, "can_confirm": can_confirm,
        "deduction": deduction, "can_deduct": can_deduct,
        "deduction_form": AssistDeductionForm(assist=assist, initial={"amount": assist.irregular_amount}) if can_deduct else None,
        "sees_clearing": request.user.has_role(Role.SUPERVISOR, Role.FINANCE, Role.CLEARING_OFFICER, Role.ADMINISTRATOR),
        "can_attach": region in (assist.insured_region_id, assist.treatment_region_id)
        and assist.status != AssistRequest.Status.CONFIRMED and request.user.has_role(*WORKERS),
        "due": due, "flag": window.flag(due),
        "delays": assist.delays.all(), "attachments": assist.attachments.select_related("uploaded_by"),
        "audit": entries_for(assist)[:50],
    })


def _assist_action(request, pk: int, action):
    assist = selectors.assist_detail(user=request.user, pk=pk)
    try:
        message = action(assist)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message)
    return redirect("cooperation:assist_detail", pk=assist.pk)


@role_required(*WORKERS)
@require_POST
def assist_answer(request, pk: int):
    form = AnswerForm(request.POST)

    def act(assist):
        if not form.is_valid():
            raise DomainError("；".join(e for errors in form.errors.values() for e in errors))
        data = form.cleaned_data
        services.assist_answer(request=assist, by=request.user, result=data["result"], finding=data["finding"],
                               irregular_amount=data["irregular_amount"], note=data["note"],
                               attachments=_files(request))
        return "协查结果已返回参保地。"

    return _assist_action(request, pk, act)


@role_required(*WORKERS)
@require_POST
def assist_delay(request, pk: int):
    def act(assist):
        updated = services.assist_record_delay(request=assist, by=request.user, reason=request.POST.get("reason", ""))
        return f"已登记延期，顺延至 {updated.answer_due:%Y-%m-%d}（计入本期延期统计）。"

    return _assist_action(request, pk, act)


@role_required(*WORKERS)
@require_POST
def assist_confirm(request, pk: int):
    def act(assist):
        services.assist_confirm(request=assist, by=request.user)
        return "已确认协查结果。"

    return _assist_action(request, pk, act)


@role_required(*WORKERS)
@require_POST
def assist_dispute(request, pk: int):
    def act(assist):
        updated = services.assist_dispute(request=assist, by=request.user, note=request.POST.get("reason", ""))
        return f"已退回就医地重新核查，期限 {updated.answer_due:%Y-%m-%d}。"

    return _assist_action(request, pk, act)


@role_required(Role.CLEARING_OFFICER)
@require_POST
def assist_deduct(request, pk: int):
    """违规费用扣款 from a confirmed 核查有误 result (第五十三条): the province clearing officer only;
    another region's request is a 404 for a city's clearing officer."""
    assist = selectors.assist_detail(user=request.user, pk=pk)
    if not deductions.may_deduct(request.user):
        raise PermissionDenied("只有省级清算岗可以登记违规费用扣款。")

    def act(assist):
        form = AssistDeductionForm(request.POST, assist=assist)
        if not form.is_valid():
            field, errors = next(iter(form.errors.items()))
            raise DomainError(f"{form.fields[field].label}：{errors[0]}" if field in form.fields else errors[0])
        deduction = services.assist_deduct(request=assist, amount=form.cleaned_data["amount"],
                                           insurance_type=form.cleaned_data.get("insurance_type", ""), by=request.user)
        return f"已登记违规费用扣款 {format_yuan(deduction.amount)} 元，计入{deduction.period.label}清算。"

    return _assist_action(request, assist.pk, act)


@role_required(*WORKERS)
@require_POST
def assist_attach(request, pk: int):
    def act(assist):
        stored = services.assist_add_attachments(request=assist, by=request.user, attachments=_files(request))
        if not stored:
            raise DomainError("请选择要上传的附件。")
        return f"已上传附件 {len(stored)} 个。"

    return _assist_action(request, pk, act)


# --- 费用协查: answers from the national system -----------------------------------------------------


@role_required(*WORKERS)
@require_http_methods(["GET", "POST"])
def assist_import(request):
    """Upload → check every row → preview; nothing is written until the user confirms a clean file."""
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form, "columns": list(exchange.ANSWER_COLUMNS)}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows, errors = exchange.parse_answers(upload, user=request.user, today=timezone.localdate())
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            context.update(rows=rows, errors=errors, filename=upload.name)
            if not errors:
                context["token"] = signing.dumps(
                    {"rows": [row.as_json() for row in rows], "filename": upload.name[:100]}, salt=IMPORT_SALT
                )
    return render(request, "cooperation/assist_import.html", context)


@role_required(*WORKERS)
@require_POST
def assist_import_confirm(request):
    try:
        payload = signing.loads(request.POST.get("token", ""), salt=IMPORT_SALT, max_age=3600)
    except signing.BadSignature:
        messages.error(request, "预览已失效（超过1小时或内容被改动），请重新上传文件。")
        return redirect("cooperation:assist_import")
    rows = [exchange.AnswerRow.from_json(item) for item in payload["rows"]]
    try:
        done = services.assist_import_answers(rows=rows, by=request.user, filename=payload.get("filename", ""))
    except DomainError as exc:
        messages.error(request, f"{exc.message} 整个文件未导入，请核对后重新上传。")
        return redirect("cooperation:assist_import")
    messages.success(request, f"已导入协查结果 {len(done)} 条，请在5个工作日内确认。")
    return redirect(f"{_reverse('cooperation:assist_list')}?side=to_confirm")


def _reverse(name: str, **kwargs) -> str:
    from django.urls import reverse

    return reverse(name, kwargs=kwargs or None)


# --- Attachments -----------------------------------------------------------------------------------


@role_required(*READERS)
@require_GET
def attachment_download(request, pk: int):
    attachment = Attachment.objects.filter(pk=pk).first()
    if attachment is None:
        raise Http404("没有找到该附件。")
    # Visible only through its case's scoping.
    if attachment.assist_id:
        case = selectors.assist_detail(user=request.user, pk=attachment.assist_id)
    else:
        case = selectors.coordination_detail(user=request.user, pk=attachment.coordination_id)
    log_action(action=AuditLog.Action.DOWNLOAD, user=request.user, obj=case, request=request,
               message=f"下载附件 {attachment.filename}", data={"sha256": attachment.sha256})
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- 问题协同 ------------------------------------------------------------------------------------


def _coordination_filtered(request):
    window = selectors.Window.for_today()
    queryset = selectors.coordination_list(user=request.user)
    coordination_filter = CoordinationFilter(request.GET or None, queryset=queryset, user=request.user, window=window)
    valid = coordination_filter.is_bound and coordination_filter.is_valid()
    rows = coordination_filter.qs if valid else queryset
    return coordination_filter, rows.order_by("-received_on", "-pk"), window


@role_required(*READERS)
@require_GET
def coordination_list(request):
    coordination_filter, rows, window = _coordination_filtered(request)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    for item in page:
        item.due = selectors.coordination_due_on(item)
        item.flag = window.flag(item.reply_due) if item.status == Coordination.Status.OPEN else ""
    return render(request, "cooperation/coordination_list.html",
                  {"page": page, "filter": coordination_filter, "query": request.GET.urlencode()})


@role_required(*READERS)
@require_GET
def coordination_export(request):
    _, rows, _ = _coordination_filtered(request)
    rows = list(rows[:20000])
    content = exchange.xlsx_bytes(title="问题协同", header=exchange.COORDINATION_HEADER,
                                  rows=exchange.coordination_rows(rows))
    log_action(action=AuditLog.Action.EXPORT, user=request.user, request=request, message=f"导出问题协同 {len(rows)} 条")
    return _xlsx_response(content, f"coordinations-{timezone.localdate():%Y%m%d}.xlsx")


@role_required(*WORKERS)
@require_http_methods(["GET", "POST"])
def coordination_new(request):
    form = CoordinationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            coordination = services.coordination_create(
                by=request.user, receiver=data["receiver"], kind=data["kind"], subject=data["subject"],
                description=data["description"], person_id_number=data["person_id_number"],
                person_name=data["person_name"], attachments=_files(request),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"问题协同 {coordination.number} 已发出，回复期限 {coordination.reply_due:%Y-%m-%d}。")
            return redirect("cooperation:coordination_detail", pk=coordination.pk)
    return render(request, "cooperation/coordination_form.html", {"form": form})


@role_required(*READERS)
@require_GET
def coordination_detail(request, pk: int):
    coordination = selectors.coordination_detail(user=request.user, pk=pk)
    agency = request.user.agency_id
    worker = request.user.has_role(*WORKERS)
    is_open = coordination.status == Coordination.Status.OPEN
    helpers = list(coordination.helpers.select_related("agency", "added_by"))
    helping = any(h.agency_id == agency for h in helpers)
    is_receiver = worker and agency == coordination.receiver_id
    is_requester = worker and agency == coordination.requester_id
    window = selectors.Window.for_today()
    return render(request, "cooperation/coordination_detail.html", {
        "c": coordination, "helpers": helpers,
        "notes": coordination.notes.select_related("agency", "written_by"),
        "attachments": coordination.attachments.select_related("uploaded_by"),
        "escalations": coordination.escalations.all(),
        "can_note": is_open and (is_receiver or (worker and helping)),
        "can_manage": is_open and is_receiver,
        "can_attach": worker and (is_open or coordination.status in (Coordination.Status.REPLIED,
                                                                    Coordination.Status.DISPUTED))
        and (agency in (coordination.requester_id, coordination.receiver_id) or helping),
        "can_confirm": is_requester and coordination.status == Coordination.Status.REPLIED,
        "can_escalate": is_requester and services.escalation_target(coordination) is not None and (
            coordination.status == Coordination.Status.DISPUTED
            or (is_open and coordination.reply_due < window.today)
        ),
        "flag": window.flag(coordination.reply_due) if is_open else "",
        "note_form": NoteForm(), "helper_form": HelperForm(coordination=coordination), "extend_form": ExtendForm(),
        "reply_form": ReplyForm(), "reason_form": ReasonForm(), "kinds": Coordination.Kind.choices,
        "audit": entries_for(coordination)[:50],
    })


def _coordination_action(request, pk: int, action):
    coordination = selectors.coordination_detail(user=request.user, pk=pk)
    try:
        message, target = action(coordination)
    except DomainError as exc:
        messages.error(request, exc.message)
        target = coordination
    else:
        messages.success(request, message)
    return redirect("cooperation:coordination_detail", pk=target.pk)


def _valid(form) -> dict:
    if not form.is_valid():
        raise DomainError("；".join(f"{form.fields[name].label if name in form.fields else ''}：{e}".lstrip("：")
                                   for name, errors in form.errors.items() for e in errors))
    return form.cleaned_data


@role_required(*WORKERS)
@require_POST
def coordination_note(request, pk: int):
    def act(c):
        services.coordination_add_note(coordination=c, by=request.user, text=_valid(NoteForm(request.POST))["text"],
                                       attachments=_files(request))
        return "已登记处理情况。", c

    return _coordination_action(request, pk, act)


@role_required(*WORKERS)
@require_POST
def coordination_attach(request, pk: int):
    def act(c):
        stored = services.coordination_add_attachments(coordination=c, by=request.user, attachments=_files(request))
        if not stored:
            raise DomainError("请选择要上传的附件。")
        return f"已上传附件 {len(stored)} 个。", c

    return _coordination_action(request, pk, act)


@role_required(*WORKERS)
@require_POST
def coordination_helper(request, pk: int):
    def act(c):
        data = _valid(HelperForm(request.POST, coordination=c))
        helper: CoordinationHelper = services.coordination_add_helper(coordination=c, by=request.user,
                                                                      agency=data["agency"], task=data["task"])
        return f"已请{helper.agency.short_name}协助。", c

    return _coordination_action(request, pk, act)


@role_required(*WORKERS)
@require_POST
def coordination_extend(request, pk: int):
    def act(c):
        data = _valid(ExtendForm(request.POST))
        updated = services.coordination_extend(coordination=c, by=request.user, new_due=data["new_due"],
                                               reason=data["reason"])
        return f"回复期限已延长至 {updated.reply_due:%Y-%m-%d}。", c

    return _coordination_action(request, pk, act)


@role_required(*WORKERS)
@require_POST
def coordination_reclassify(request, pk: int):
    def act(c):
        updated = services.coordination_reclassify(coordination=c, by=request.user, kind=request.POST.get("kind", ""))
        return f"问题类型已标注为“{updated.get_kind_display()}”，回复期限 {updated.reply_due:%Y-%m-%d}。", c

    return _coordination_action(request, pk, act)


@role_required(*WORKERS)
@require_POST
def coordination_reply(request, pk: int):
    def act(c):
        services.coordination_reply(coordination=c, by=request.user, reply=_valid(ReplyForm(request.POST))["reply"],
                                    attachments=_files(request))
        return "处理结果已回复申请机构。", c

    return _coordination_action(request, pk, act)


@role_required(*WORKERS)
@require_POST
def coordination_confirm(request, pk: int):
    def act(c):
        services.coordination_confirm(coordination=c, by=request.user)
        return "已确认处理结果。", c

    return _coordination_action(request, pk, act)


@role_required(*WORKERS)
@require_POST
def coordination_dispute(request, pk: int):
    def act(c):
        services.coordination_dispute(coordination=c, by=request.user, note=request.POST.get("reason", ""))
        return "已登记异议；可提请上一级医保部门协调。", c

    return _coordination_action(request, pk, act)


@role_required(*WORKERS)
@require_POST
def coordination_escalate(request, pk: int):
    def act(c):
        escalated = services.coordination_escalate(coordination=c, by=request.user, note=request.POST.get("reason", ""))
        return f"已提请{escalated.receiver.short_name}协调：{escalated.number}。", escalated

    return _coordination_action(request, pk, act)
