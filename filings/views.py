"""The filing screens: counter, online review, hospital referrals, lists, upload, printing."""

from __future__ import annotations

import re
from datetime import datetime, time

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from import_export.tmp_storages import MediaStorage

from core.audit import entries_for
from core.decorators import role_required
from core.errors import DomainError
from core.idcard import parse_id_number
from core.jobs import start_job
from core.models import Document, InsuredPerson, Job, Region, Role
from core.pagination import CappedPaginator
from core.scoping import get_object_for_user
from filings import materials as checklist
from filings import selectors, services
from filings.filters import FilingFilter
from filings.forms import (
    FilingForm,
    ImportForm,
    MaterialsForm,
    ReasonForm,
    RegionSettingsForm,
    ReviewForm,
    UploadExportForm,
    checklist_context,
)
from filings.jobs import RENDER_FORM
from filings.models import Channel, Filing, FilingRegionSettings, UploadBatch, UploadStatus
from filings.printing import FORMS, document_key, form_available
from filings.resources import OnlineApplicationResource, load_dataset, template_csv

VIEW_ROLES = (Role.CLERK, Role.SUPERVISOR, Role.CLEARING_OFFICER, Role.ADMINISTRATOR, Role.HOSPITAL)
AGENCY_ROLES = (Role.CLERK, Role.SUPERVISOR, Role.CLEARING_OFFICER, Role.ADMINISTRATOR)
FILE_ROLES = (Role.CLERK, Role.HOSPITAL)
COUNTER_ROLES = (Role.CLERK,)
REVIEW_ROLES = (Role.SUPERVISOR,)
DESK_ROLES = (Role.CLERK, Role.SUPERVISOR)
PRINT_ROLES = (Role.CLERK, Role.SUPERVISOR, Role.HOSPITAL)
SETTINGS_ROLES = (Role.SUPERVISOR, Role.ADMINISTRATOR)
PER_PAGE = 25


def _hospital_of(user):
    """The hospital a hospital-only account files for (None for agency staff)."""
    if user.has_role(Role.HOSPITAL) and not user.has_role(Role.CLERK) and user.institution_id:
        return user.institution
    return None


def _filing_region(user) -> Region | None:
    hospital = _hospital_of(user)
    if hospital is not None:
        return hospital.region
    return user.region


def _pk(value) -> int | None:
    """A primary key from a query or form value; None for anything else ("abc", "", 10**30)."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def _get_filing(request, pk: int) -> Filing:
    return get_object_for_user(request.user, selectors.filing_list(user=request.user), pk=pk)


def _flag(filings, today):
    for filing in filings:
        filing.flag_materials_overdue = filing.materials_overdue_on(today)
        filing.flag_review_overdue = filing.review_overdue_on(today)
    return filings


# --- Lists --------------------------------------------------------------------------------


@role_required(*VIEW_ROLES)
@require_GET
def filing_list(request):
    today = timezone.localdate()
    queryset = selectors.filing_list(user=request.user)
    filterset = FilingFilter(request.GET or None, queryset=queryset, user=request.user)
    filings = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
    page = CappedPaginator(filings.order_by("-created_at", "-pk"), PER_PAGE).get_page(request.GET.get("page"))
    _flag(page.object_list, today)
    suggestion = None
    query = (request.GET.get("q") or "").strip()
    if query and not page.paginator.count:
        suggestion = _person_without_filing(request.user, query)
    person_pk = _pk(request.GET.get("person"))
    person = InsuredPerson.objects.for_user(request.user).filter(pk=person_pk).first() if person_pk else None
    return render(
        request,
        "filings/filing_list.html",
        {"filter": filterset, "page": page, "today": today, "query": query, "suggestion": suggestion,
         "person": person, "can_file": request.user.has_role(*FILE_ROLES)},
    )


@role_required(*VIEW_ROLES)
@require_GET
def filing_export(request):
    """The list as filtered on screen, as XLSX."""
    from core.exports import xlsx_response
    from filings.exports import FilingExportResource

    queryset = selectors.filing_list(user=request.user)
    filterset = FilingFilter(request.GET or None, queryset=queryset, user=request.user)
    filings = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
    return xlsx_response(request, FilingExportResource(), filings.order_by("-created_at", "-pk"),
                         title="异地就医备案", filename="filings")


def _person_without_filing(user, query: str):
    try:
        number = parse_id_number(query).number
    except Exception:
        return None
    person = InsuredPerson.objects.for_user(user).with_id_number(number).first()
    return person or {"id_number": number}


@role_required(*AGENCY_ROLES)
@require_GET
def review_queue(request):
    today = timezone.localdate()
    rows = selectors.queue_rows(selectors.pending_review(user=request.user), "created_by")
    page = CappedPaginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    _flag(page.object_list, today)
    return render(request, "filings/review_queue.html", {"page": page, "today": today})


@role_required(*AGENCY_ROLES)
@require_GET
def commitment_list(request):
    today = timezone.localdate()
    show = request.GET.get("show", "due")
    if show == "overdue":
        filings = selectors.filing_list(user=request.user).commitment_open().filter(materials_due_on__lt=today)
    elif show == "all":
        filings = selectors.filing_list(user=request.user).commitment_open()
    else:
        filings = selectors.commitment_due(user=request.user, today=today)
    rows = selectors.queue_rows(filings.order_by("materials_due_on", "pk"))
    page = CappedPaginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    _flag(page.object_list, today)
    for filing in page.object_list:
        filing.due_in = (filing.materials_due_on - today).days
        filing.overdue_days = -filing.due_in
    return render(request, "filings/commitment_list.html", {"page": page, "today": today, "show": show})


# --- The counter form ---------------------------------------------------------------------


def _form_context(form: FilingForm, **extra) -> dict:
    return {"form": form, "checklist": checklist_context(form), "region_settings": services.settings_for(form.region),
            **extra}


@role_required(*FILE_ROLES)
@require_http_methods(["GET", "POST"])
def filing_new(request):
    user = request.user
    region = _filing_region(user)
    if region is None:
        raise Http404("您的账号没有所属经办机构或医疗机构。")
    hospital = _hospital_of(user)
    # "为其办理备案" from the search posts the number (never in an address) with `prefill`.
    prefill = request.method == "POST" and "prefill" in request.POST
    initial = {"id_number": (request.POST if prefill else request.GET).get("id_number", "")}
    if hospital is not None:
        initial["person_type"] = "referral"
        initial["materials"] = ["referral_certificate"]  # the hospital issues it itself
    bound = request.POST if request.method == "POST" and not prefill else None
    form = FilingForm(bound, initial=initial, user=user, region=region, hospital=hospital)
    if request.method == "POST" and form.is_valid():
        draft = "save_draft" in request.POST and hospital is None
        try:
            filing = services.filing_register_walk_in(
                person_data=form.person_data(), data=form.filing_data(), by=user,
                channel=Channel.HOSPITAL if hospital else Channel.COUNTER, draft=draft,
            )
        except DomainError as exc:
            form.add_domain_error(exc.message)
        else:
            if draft:
                messages.info(request, f"已暂存草稿 {filing.number}。材料收齐后在详情页点“确认备案”生效。")
            else:
                messages.success(request, _done_message(filing, "备案已生效"))
            return redirect("filings:detail", pk=filing.pk)
    lookup = _lookup(user, region, form["id_number"].value() or "") if form.is_bound or prefill else {}
    if prefill and lookup.get("person") is not None:
        for name in FilingForm.PERSON_FIELDS:
            form.initial[name] = getattr(lookup["person"], name)
    if form.is_bound and form.errors.get("id_number"):
        lookup["error"] = ""  # the field already shows the same message
    return render(request, "filings/filing_form.html",
                  _form_context(form, hospital=hospital, region=region, mode="new", **lookup))


def _done_message(filing: Filing, text: str) -> str:
    if filing.status == Filing.Status.EXPIRED:
        text = f"补办备案已登记，有效期已于 {filing.end_date:%Y-%m-%d} 届满，状态为“已到期”（入院时在有效期内的住院按补办备案处理）"
    message = f"{text}：{filing.number}，{filing.insured_person.name}，{filing.get_person_type_display()}，" \
              f"就医地 {filing.destination.name}，{filing.validity_text}。"
    if filing.is_commitment and filing.materials_due_on:
        message += f"承诺制备案：请提醒参保人于 {filing.materials_due_on:%Y-%m-%d} 前补齐证明材料，并打印个人承诺书签字存档。"
    if filing.manual_reimbursement_eligible:
        message += "出院已自费结算：可按规定申请手工报销。"
    return message


def _lookup(user, region: Region, raw: str) -> dict:
    """What the counter knows about an ID number: the person (of this region), or why not."""
    context = {"id_number": raw, "person": None, "error": "", "open_filings": [], "info": None, "foreign": False}
    try:
        info = parse_id_number(raw)
    except Exception as exc:
        context["error"] = getattr(exc, "messages", [str(exc)])[0] if (raw or "").strip() else ""
        return context
    context["id_number"] = info.number
    person = InsuredPerson.objects.with_id_number(info.number).select_related("insured_region").first()
    if person is not None and not user.sees_all_regions and person.insured_region_id != region.code:
        # Only the refusal: no "new person" box, no fields, nothing about who it is.
        context["error"] = services.foreign_person_message(region)
        context["foreign"] = True
        return context
    context["info"] = info
    if person is not None:
        context["person"] = person
        context["open_filings"] = services.open_filings_of(person)
    return context


@role_required(*FILE_ROLES)
@require_GET
def person_lookup(request):
    """htmx: the person block of the counter form, filled when the ID number is known."""
    user = request.user
    region = _filing_region(user)
    context = _lookup(user, region, request.GET.get("id_number", ""))
    form = FilingForm(initial={"id_number": context["id_number"]}, user=user, region=region,
                      hospital=_hospital_of(user))
    if context["person"] is not None:
        for name in FilingForm.PERSON_FIELDS:
            form.initial[name] = getattr(context["person"], name)
    context["form"] = form
    return render(request, "filings/_person_fields.html", context)


@role_required(*FILE_ROLES)
@require_POST
def checklist_partial(request):
    """htmx: the materials checklist and type-specific fields for the chosen person type."""
    user = request.user
    region = _filing_region(user)
    person = None
    change_of = None
    filing_pk = _pk(request.POST.get("filing"))
    filing = selectors.filing_list(user=user).filter(pk=filing_pk).first() if filing_pk else None
    if filing is not None:
        person = filing.insured_person
        change_of = filing if filing.status == Filing.Status.ACTIVE else None
    form = FilingForm(request.POST, user=user, region=region, hospital=_hospital_of(user), person=person,
                      change_of=change_of)
    return render(request, "filings/_checklist.html", _form_context(form))


# --- One filing -----------------------------------------------------------------------------


@role_required(*VIEW_ROLES)
@require_GET
def filing_detail(request, pk: int):
    filing = _get_filing(request, pk)
    today = timezone.localdate()
    result = checklist.evaluate(
        filing.person_type, filing.materials, by_proxy=filing.by_proxy, rules=checklist.rules_of(filing)
    )
    keys = [document_key(filing, code) for code in FORMS]
    documents = {doc.key.rsplit(":", 1)[1]: doc for doc in Document.objects.filter(key__in=keys, is_latest=True)}
    job = None
    job_pk = _pk(request.GET.get("job"))
    if job_pk:
        job = Job.objects.for_user(request.user).filter(pk=job_pk).first()
    user = request.user
    is_agency_clerk = user.has_role(*COUNTER_ROLES)
    unlock = None
    if filing.is_long_term and filing.is_commitment:
        unlock = services.commitment_unlock_date(filing)
    context = {
        "filing": filing,
        "person": filing.insured_person,
        "checklist": result,
        "provided_labels": checklist.labels(filing.materials),
        "forms": [
            {"spec": spec, "document": documents.get(code), "problem": form_available(filing, code)}
            for code, spec in FORMS.items()
        ],
        "job": job,
        "timeline": entries_for(filing)[:100],
        "history": filing.history.select_related("history_user").order_by("-history_date")[:50],
        "replaced_by": Filing.objects.filter(replaces=filing).first(),
        "today": today,
        "unlock": unlock,
        "materials_overdue": filing.materials_overdue_on(today),
        "review_overdue": filing.review_overdue_on(today),
        "can_counter": is_agency_clerk,
        "can_review": user.has_role(*REVIEW_ROLES) and filing.status == Filing.Status.PENDING_REVIEW,
        "can_print": user.has_role(*PRINT_ROLES),
        "locked": unlock is not None and today < unlock,
        "region_settings": services.settings_for(filing.insured_region_id),
    }
    return render(request, "filings/filing_detail.html", context)


@role_required(*COUNTER_ROLES)
@require_http_methods(["GET", "POST"])
def filing_edit(request, pk: int):
    filing = _get_filing(request, pk)
    if filing.status != Filing.Status.DRAFT:
        messages.error(request, f"{filing.number}现为“{filing.get_status_display()}”，只有草稿可以修改；有效备案请办理变更。")
        return redirect("filings:detail", pk=filing.pk)
    form = FilingForm(request.POST or None, initial=FilingForm.initial_from_filing(filing), user=request.user,
                      region=filing.insured_region, person=filing.insured_person)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.filing_update_draft(filing=filing, data=form.filing_data(), by=request.user)
                if "save_draft" not in request.POST:
                    services.filing_activate(filing=filing, by=request.user)
        except DomainError as exc:
            form.add_domain_error(exc.message)
        else:
            filing.refresh_from_db()
            if filing.status == Filing.Status.ACTIVE:
                messages.success(request, _done_message(filing, "备案已生效"))
            else:
                messages.info(request, "草稿已保存。")
            return redirect("filings:detail", pk=filing.pk)
    return render(request, "filings/filing_form.html",
                  _form_context(form, filing=filing, region=filing.insured_region, mode="edit"))


@role_required(*COUNTER_ROLES)
@require_POST
def filing_activate(request, pk: int):
    filing = _get_filing(request, pk)
    try:
        filing = services.filing_activate(filing=filing, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _done_message(filing, "备案已生效"))
    return redirect("filings:detail", pk=pk)


@role_required(*COUNTER_ROLES)
@require_POST
def filing_delete(request, pk: int):
    filing = _get_filing(request, pk)
    try:
        services.filing_delete_draft(filing=filing, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("filings:detail", pk=pk)
    messages.success(request, "草稿已删除。")
    return redirect("filings:list")


@role_required(*COUNTER_ROLES)
@require_http_methods(["GET", "POST"])
def filing_change(request, pk: int):
    filing = _get_filing(request, pk)
    if filing.status != Filing.Status.ACTIVE:
        messages.error(request, f"{filing.number}现为“{filing.get_status_display()}”，只有有效的备案可以变更。")
        return redirect("filings:detail", pk=pk)
    form = FilingForm(request.POST or None, initial=FilingForm.initial_from_filing(filing, for_change=True),
                      user=request.user, region=filing.insured_region, person=filing.insured_person, change_of=filing)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.filing_change(filing=filing, data=form.filing_data(), by=request.user,
                                         reason=form.cleaned_data["change_reason"])
        except DomainError as exc:
            form.add_domain_error(exc.message)
        else:
            messages.success(request, _done_message(new, f"变更已办理（原备案 {filing.number} 已变更）"))
            return redirect("filings:detail", pk=new.pk)
    unlock = services.commitment_unlock_date(filing) if filing.is_long_term and filing.is_commitment else None
    return render(request, "filings/filing_form.html",
                  _form_context(form, filing=filing, region=filing.insured_region, mode="change", unlock=unlock,
                                today=timezone.localdate()))


@role_required(*COUNTER_ROLES)
@require_http_methods(["GET", "POST"])
def filing_cancel(request, pk: int):
    filing = _get_filing(request, pk)
    context = {"filing": filing, "today": timezone.localdate(),
               "region_settings": services.settings_for(filing.insured_region_id)}
    if filing.status != Filing.Status.ACTIVE:
        # Nothing to cancel: say why, without a form (a repeated POST changes nothing either).
        return render(request, "filings/filing_cancel.html", context)
    form = ReasonForm(request.POST or None, label="取消原因")
    if request.method == "POST" and form.is_valid():
        try:
            services.filing_cancel(filing=filing, by=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"备案 {filing.number} 已取消。可打印取消回执交参保人。")
            return redirect("filings:detail", pk=pk)
    unlock = services.commitment_unlock_date(filing) if filing.is_long_term and filing.is_commitment else None
    return render(request, "filings/filing_cancel.html", {**context, "form": form, "unlock": unlock})


@role_required(*COUNTER_ROLES)
@require_http_methods(["GET", "POST"])
def filing_materials(request, pk: int):
    filing = _get_filing(request, pk)
    form = MaterialsForm(request.POST or None, filing=filing)
    if request.method == "POST" and form.is_valid():
        try:
            services.filing_complete_materials(filing=filing, materials=form.cleaned_data["materials"],
                                               by=request.user)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"{filing.number} 的承诺材料已补齐。")
            return redirect("filings:detail", pk=pk)
    return render(request, "filings/filing_materials.html", {"filing": filing, "form": form})


@role_required(*REVIEW_ROLES)
@require_http_methods(["GET", "POST"])
def filing_review(request, pk: int):
    filing = _get_filing(request, pk)
    form = ReviewForm(request.POST or None, filing=filing)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                filing = services.filing_approve(filing=filing, by=request.user,
                                                 materials=form.cleaned_data["materials"],
                                                 note=form.cleaned_data["note"])
                messages.success(request, _done_message(filing, "审核通过，备案已生效"))
            else:
                services.filing_reject(filing=filing, by=request.user, reason=form.cleaned_data["note"])
                messages.info(request, f"已驳回线上申请 {filing.online_reference}。")
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("filings:review_queue")
    result = checklist.evaluate(
        filing.person_type, filing.materials, by_proxy=filing.by_proxy, rules=checklist.rules_of(filing)
    )
    open_filings = [other for other in services.open_filings_of(filing.insured_person) if other.pk != filing.pk]
    return render(request, "filings/filing_review.html",
                  {"filing": filing, "form": form, "checklist": result, "today": timezone.localdate(),
                   "own_import": filing.created_by_id == request.user.pk,
                   "review_overdue": filing.review_overdue_on(timezone.localdate()), "open_filings": open_filings})


@role_required(*VIEW_ROLES)
@require_GET
def filing_receipt(request, pk: int):
    filing = _get_filing(request, pk)
    agency = getattr(filing.insured_region, "agency", None)
    return render(request, "filings/receipt.html", {
        "filing": filing,
        "person": filing.insured_person,
        "agency": agency,
        "region_settings": services.settings_for(filing.insured_region_id),
        "provided_labels": checklist.labels(filing.materials),
        "replaced_by": Filing.objects.filter(replaces=filing).first(),
        "printed_at": timezone.localtime(),
    })


@role_required(*PRINT_ROLES)
@require_POST
def filing_print(request, pk: int, form_code: str):
    filing = _get_filing(request, pk)
    if form_code not in FORMS:
        raise Http404("没有这种表格。")
    problem = form_available(filing, form_code)
    if problem:
        messages.error(request, problem)
        return redirect("filings:detail", pk=pk)
    spec = FORMS[form_code]
    with transaction.atomic():
        job = start_job(kind=RENDER_FORM, title=f"打印{spec.annex} {spec.title}（{filing.number}）", by=request.user,
                        params={"filing": filing.pk, "form": form_code}, region=filing.insured_region)
    return redirect(f"{reverse('filings:detail', kwargs={'pk': pk})}?job={job.pk}#forms")


# --- Online applications ----------------------------------------------------------------------

_IMPORT_SESSION_KEY = "filings_import"


@role_required(*DESK_ROLES)
@require_http_methods(["GET", "POST"])
def import_applications(request):
    """Step 1: upload and preview (a dry run). Step 2: confirm the valid rows."""
    form = ImportForm()
    if request.method == "POST" and "confirm" in request.POST:
        return _import_confirm(request)
    if request.method == "POST" and "cancel" in request.POST:
        _forget_preview(request)
        messages.info(request, "已放弃本次导入，预览文件已删除。")
        return redirect("filings:import")
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            content = upload.read()
            try:
                dataset = load_dataset(content, upload.name)
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                resource = OnlineApplicationResource(by=request.user)
                result = resource.import_data(dataset, dry_run=True)
                _forget_preview(request)  # a newer preview replaces an unconfirmed one
                storage = MediaStorage(MEDIA_FOLDER=services.IMPORT_PREVIEW_FOLDER)
                storage.save(content)
                request.session[_IMPORT_SESSION_KEY] = {"name": storage.name, "filename": upload.name}
                return render(request, "filings/import_preview.html",
                              {"result": result, "filename": upload.name, **_import_summary(result, resource)})
    return render(request, "filings/import.html", {"form": form})


def _import_summary(result, resource) -> dict:
    """Counts and rows of an import result; row numbers as the spreadsheet shows them
    (header = row 1, blank lines counted)."""
    from import_export.results import RowResult

    invalid = [
        {"number": resource.spreadsheet_row(invalid_row.number), "errors": _flatten(invalid_row.error_dict)}
        for invalid_row in result.invalid_rows
    ]
    errors = [
        {"number": resource.spreadsheet_row(number), "errors": [str(err.error) for err in errs]}
        for number, errs in result.row_errors()
    ]
    totals = result.totals
    return {
        "new": totals.get(RowResult.IMPORT_TYPE_NEW, 0),
        "skipped": totals.get(RowResult.IMPORT_TYPE_SKIP, 0),
        "problems": len(invalid) + len(errors),
        "invalid": invalid,
        "errors": errors,
        "valid_rows": [_row_view(r) for r in result.rows if r.import_type == RowResult.IMPORT_TYPE_NEW],
        "skipped_rows": [_row_view(r) for r in result.rows if r.import_type == RowResult.IMPORT_TYPE_SKIP],
    }


def _row_view(row_result) -> dict:
    from core.idcard import mask_id_number

    values = row_result.row_values or {}
    return {
        "reference": values.get("申请流水号", ""),
        "name": values.get("姓名", ""),
        "id_number": mask_id_number(str(values.get("公民身份号码") or "")),
        "person_type": values.get("人员类别", ""),
        "destination": values.get("就医地", ""),
        "start": values.get("开始日期", ""),
    }


def _flatten(error_dict: dict) -> list[str]:
    texts = []
    for field, errors in error_dict.items():
        for error in errors:
            text = str(error)
            texts.append(text if field in ("__all__", "申请") or text.startswith(field) else f"{field}：{text}")
    return texts


def _forget_preview(request) -> None:
    """Delete the unconfirmed preview file of this session (it holds full ID numbers)."""
    stored = request.session.pop(_IMPORT_SESSION_KEY, None) or {}
    name = stored.get("name", "")
    if re.fullmatch(r"[0-9a-f]{32}", name):
        services.import_preview_remove(name)


def _import_confirm(request):
    stored = request.session.get(_IMPORT_SESSION_KEY)
    if not stored or not re.fullmatch(r"[0-9a-f]{32}", stored.get("name", "")):
        messages.error(request, "导入预览已失效，请重新上传文件。")
        return redirect("filings:import")
    storage = MediaStorage(name=stored["name"], MEDIA_FOLDER=services.IMPORT_PREVIEW_FOLDER)
    try:
        content = storage.read()
    except FileNotFoundError:
        request.session.pop(_IMPORT_SESSION_KEY, None)
        messages.error(request, "导入预览已失效，请重新上传文件。")
        return redirect("filings:import")
    # The file is read: whatever happens next, it is not kept.
    _forget_preview(request)
    try:
        dataset = load_dataset(content, stored["filename"])
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("filings:import")
    resource = OnlineApplicationResource(by=request.user)
    result = resource.import_data(dataset, dry_run=False)
    summary = _import_summary(result, resource)
    if summary["errors"]:
        messages.error(request, "导入出错，没有导入任何申请：" + "；".join(
            f"第{e['number']}行 {'、'.join(e['errors'])}" for e in summary["errors"]))
        return redirect("filings:import")
    text = f"已导入 {summary['new']} 份线上申请，等待审核（1个工作日内）。"
    if summary["skipped"]:
        text += f"{summary['skipped']} 份此前已导入，已跳过。"
    if summary["invalid"]:
        text += f"{len(summary['invalid'])} 行有问题未导入：" + "；".join(
            f"第{row['number']}行 {'；'.join(row['errors'])}" for row in summary["invalid"])
    messages.success(request, text)
    return redirect("filings:review_queue")


@role_required(*DESK_ROLES)
@require_GET
def import_template(request):
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="online-filing-template.csv"'
    return response


# --- Provincial upload -----------------------------------------------------------------------


@role_required(*DESK_ROLES)
@require_http_methods(["GET", "POST"])
def upload(request):
    form = UploadExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            batches = services.upload_export(by=request.user, file_format=form.cleaned_data["file_format"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            total = sum(batch.total for batch in batches)
            text = "；".join(f"{batch.region.name} {batch.total} 条（{batch.summary}）" for batch in batches)
            messages.success(
                request,
                f"已导出 {total} 条，已标记为已上传：{text}。请下载文件上传省级异地就医系统"
                + ("（每个统筹区一个文件）。" if len(batches) > 1 else "。"),
            )
            query = "&".join(f"batch={batch.pk}" for batch in batches)
            return redirect(f"{reverse('filings:upload')}?{query}")
    today = timezone.localdate()
    pending = selectors.not_uploaded(user=request.user)
    page = Paginator(pending, 50).get_page(request.GET.get("page"))
    start_of_day = timezone.make_aware(datetime.combine(today, time.min))
    for filing in page.object_list:
        filing.flag_upload_late = filing.upload_pending_since and filing.upload_pending_since < start_of_day
    batches = UploadBatch.objects.for_user(request.user).select_related("created_by", "document", "region")[:10]
    wanted = [pk for pk in map(_pk, request.GET.getlist("batch")) if pk][:50]
    highlights = list(
        UploadBatch.objects.for_user(request.user).filter(pk__in=wanted).select_related("document", "region")
    )
    exported = selectors.filing_list(user=request.user).filter(upload_status=UploadStatus.EXPORTED).count()
    return render(request, "filings/upload.html",
                  {"form": form, "page": page, "batches": batches, "highlights": highlights, "today": today,
                   "exported_count": exported})


@role_required(*DESK_ROLES)
@require_POST
def upload_result(request):
    """The provincial system's result file for exported filings: 已上传, or 失败 back to the queue."""
    from core.tabular import read_table

    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择省平台返回的结果文件（XLSX 或 CSV）。")
    elif upload.size > 5 * 1024 * 1024:
        messages.error(request, "结果文件超过 5 MB，请确认是否选错了文件。")
    else:
        try:
            ok, failed = services.upload_result_apply(rows=read_table(upload), by=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            text = f"省平台结果已登记：上传成功 {ok} 条"
            if failed:
                text += f"，失败 {failed} 条已退回“尚未上传”列表，请核对失败原因后重新导出"
            (messages.warning if failed else messages.success)(request, text + "。")
    return redirect("filings:upload")


# --- Regional settings -----------------------------------------------------------------------


@role_required(*SETTINGS_ROLES)
@require_http_methods(["GET", "POST"])
def region_settings(request):
    user = request.user
    region = user.region
    if user.sees_all_regions and request.GET.get("region"):
        region = Region.objects.filter(code=request.GET["region"]).first() or region
    if region is None:
        raise Http404("您的账号没有所属经办机构。")
    instance = FilingRegionSettings.objects.filter(region=region).first() or FilingRegionSettings(region=region)
    form = RegionSettingsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.region_settings_save(instance=form.instance, by=user)
        messages.success(request, f"{region.name}的备案设置已保存。")
        return redirect(f"{reverse('filings:settings')}?region={region.code}")
    regions = Region.objects.order_by("sort_order", "code") if user.sees_all_regions else None
    return render(request, "filings/settings.html", {"form": form, "region": region, "regions": regions})

