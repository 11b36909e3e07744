"""Pages of the clearing for the clearing officer, finance and supervisors.

Province-level staff see every city; city staff see their own city's figures,
notices and payments only (another city's payment or ledger is a 404). Changes
go through clearing.services; long work (computation, notices, imports) is a
background job the page links to.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clearing import rules, selectors, services
from clearing.adjustments import period_adjustments
from clearing.forms import (
    AllotmentForm,
    AllotmentUploadForm,
    EmergencyForm,
    ReasonForm,
    StampDateForm,
    TransferForm,
    UploadForm,
)
from clearing.models import (
    AdvanceEntry,
    AdvanceYear,
    ClearingPeriod,
    CrossAllotment,
    ImportBatch,
    IntraAdvance,
    PaymentDue,
    Settlement,
)
from core.audit import entries_for
from core.decorators import role_required
from core.errors import DomainError
from core.models import Document, Region, Role
from core.reference import home_province_code
from core.scoping import get_object_for_user
from core.tabular import read_table

STAFF = (Role.CLEARING_OFFICER, Role.FINANCE, Role.SUPERVISOR, Role.ADMINISTRATOR)


def _stamp_date_error(form) -> str:
    """The stamp-date field's own message (e.g. not a working day), else the generic one."""
    errors = form.errors.get("stamp_date")
    return errors[0] if errors else "请填写有效的签章日期。"


def province_officer_required(view):
    """Actions on the whole province's clearing: a province-level clearing officer."""

    @role_required(Role.CLEARING_OFFICER)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.sees_all_regions:
            raise PermissionDenied("只有省级清算岗可以执行这项操作。")
        return view(request, *args, **kwargs)

    return wrapped


def _city_of(user) -> str | None:
    """None for province-level staff (they see everything), else the user's city."""
    return None if user.sees_all_regions else user.region_code


def _get_period(period: str) -> ClearingPeriod:
    return get_object_or_404(ClearingPeriod, period=period)


# --- Periods -------------------------------------------------------------------------


@role_required(*STAFF)
@require_GET
def period_list(request):
    years = sorted({int(p[:4]) for p in ClearingPeriod.objects.values_list("period", flat=True)}, reverse=True)
    year = rules.valid_year(request.GET.get("year"), default=years[0] if years else timezone.localdate().year)
    periods = list(ClearingPeriod.objects.filter(period__startswith=f"{year:04d}-").order_by("-period"))
    city = _city_of(request.user)
    totals = selectors.totals_by_period(periods, city)
    today = timezone.localdate()
    payments = (
        PaymentDue.objects.for_user(request.user)
        .filter(period__in=periods)
        .values("period_id")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=~Q(status=PaymentDue.Status.PAID)),
            overdue=Count("pk", filter=~Q(status=PaymentDue.Status.PAID) & Q(due_on__lt=today)),
        )
        .order_by()
    )
    payment_counts = {row["period_id"]: row for row in payments}
    # Periods not yet computed: how many rows have come in so far (one aggregate over the period index).
    pending = [p.period for p in periods if p.computed_at is None or p.results_stale]
    received = dict(
        Settlement.objects.for_user(request.user).filter(period__in=pending).values("period").annotate(n=Count("pk")).values_list("period", "n")
    ) if pending else {}
    rows = [
        {
            "period": period,
            "totals": totals[period.pk],
            "payments": payment_counts.get(period.pk, {}),
            "late_for_clearing": period.is_editable and today > period.clearing_due,
            "received": received.get(period.period),
        }
        for period in periods
    ]
    context = {
        "rows": rows,
        "year": year,
        "years": years or [year],
        "trend": selectors.trend(selectors.trend_periods(year), city),
        "city": Region.objects.filter(code=city).first() if city else None,
        "year_close_due": rules.year_close_due(year),
        "year_open": any(p.status != ClearingPeriod.Status.CLOSED for p in periods),
        "today": today,
        "can_manage": request.user.has_role(Role.CLEARING_OFFICER) and request.user.sees_all_regions,
    }
    return render(request, "clearing/period_list.html", context)


@province_officer_required
@require_POST
def period_create(request):
    period = request.POST.get("period", "").strip()
    try:
        record = services.period_get_or_create(period)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("clearing:period_list")
    return redirect("clearing:period_detail", period=record.period)


@role_required(*STAFF)
@require_GET
def period_detail(request, period: str):
    period = _get_period(period)
    city = _city_of(request.user)
    cells = selectors.period_cells(period)
    table = selectors.balance_table(period, cells=cells)
    matrices = rules.cross_matrices(cells)
    city_rows = [row for row in table.rows if city is None or row.region.code == city]
    cross_rows = []
    for row in city_rows:
        code = row.region.code
        cross_rows.append(
            {
                "region": row.region,
                "payable": sum((a.total for a in matrices["payable"].get(code, {}).values()), rules.ZERO),
                "receivable": sum((a.total for a in matrices["receivable"].get(code, {}).values()), rules.ZERO),
            }
        )
    documents = list(selectors.period_documents(period, request.user).filter(is_latest=True))
    versions = dict(
        Document.objects.for_user(request.user).filter(period=period.period, kind__startswith="clearing.")
        .values("key").annotate(n=Count("pk")).values_list("key", "n")
    )
    is_officer = request.user.has_role(Role.CLEARING_OFFICER) and request.user.sees_all_regions
    usage = services.usage_by_province(period) if period.computed_at and city is None else []
    intra_usage = services.usage_intra_by_city(period) if period.computed_at else []
    if city:
        intra_usage = [row for row in intra_usage if row.key == city]
    today = timezone.localdate()
    context = {
        "period": period,
        "city": city,
        "table": table,
        "city_rows": city_rows,
        "cross_rows": cross_rows,
        "chart": selectors.net_chart(table, city),
        "documents": [(doc, versions.get(doc.key, 1)) for doc in documents if doc.kind not in ("clearing.annex12", "clearing.annex13")],
        "city_documents": _city_documents(documents, versions),
        "jobs": selectors.period_jobs(period, request.user),
        "payments": selectors.period_payments(period, request.user),
        "adjustments": list(period_adjustments(period, user=request.user)),
        "timeline": entries_for(period)[:30],
        "usage": usage,
        "intra_usage": intra_usage,
        "warnings": [row for row in usage if row.warning],
        "is_officer": is_officer,
        "today": today,
        "reopen_form": ReasonForm(),
        "issue_form": StampDateForm(),
        "emergency_form": EmergencyForm(
            provinces=Region.objects.filter(code__in=[row.key for row in usage if row.warning]), initial={"province": None}
        ),
        "past_clearing_due": period.is_editable and today > period.clearing_due,
        "past_latest": period.is_editable and today > rules.latest_clearing_date(period.period),
        "latest_clearing_date": rules.latest_clearing_date(period.period),
    }
    return render(request, "clearing/period_detail.html", context)


def _city_documents(documents, versions) -> list[dict]:
    """附件12 and 13 side by side, one row per city."""
    rows: dict[str, dict] = {}
    for doc in documents:
        if doc.kind in ("clearing.annex12", "clearing.annex13") and doc.region_id:
            row = rows.setdefault(doc.region_id, {"region": doc.region})
            row[doc.kind[-7:]] = (doc, versions.get(doc.key, 1))
    return sorted(rows.values(), key=lambda row: (row["region"].sort_order, row["region"].code))


@role_required(*STAFF)
@require_GET
def period_cross(request, period: str):
    """附件11 on screen: provinces × cities in both directions."""
    period = _get_period(period)
    city = _city_of(request.user)
    blocks = selectors.cross_blocks(period, only_nonzero=True)
    cities = selectors.cities()
    if city:
        index = [c.code for c in cities].index(city)
        cities = [cities[index]]
        for block in blocks.values():
            block.rows = [(p, [values[index]], values[index]) for p, values, _total in block.rows if values[index]]
            block.column_totals = [block.column_totals[index]]
            block.total = block.column_totals[0]
    return render(request, "clearing/period_cross.html", {"period": period, "blocks": blocks, "cities": cities})


@province_officer_required
@require_POST
def period_action(request, period: str, action: str):
    period = _get_period(period)
    try:
        with transaction.atomic():
            if action == "close_data":
                services.period_close_data(period=period, by=request.user)
                from clearing.reconciliation_views import close_data_warning

                if warning := close_data_warning(period.period):
                    messages.warning(request, warning)
                messages.success(request, f"{period.label}已截止数据采集。")
            elif action == "reopen":
                form = ReasonForm(request.POST)
                if not form.is_valid():
                    raise DomainError("请填写重新开放数据采集的原因。")
                services.period_reopen(period=period, by=request.user, reason=form.cleaned_data["reason"])
                messages.success(request, f"{period.label}已重新开放数据采集。")
            elif action == "compute":
                job = services.clearing_start_compute(period=period, by=request.user)
                messages.info(request, "清算生成任务已开始，完成后本页自动刷新。")
                return redirect(f"{reverse('clearing:period_detail', args=[period.period])}?job={job.pk}")
            elif action == "issue":
                form = StampDateForm(request.POST)
                if not form.is_valid():
                    raise DomainError(_stamp_date_error(form))
                job = services.clearing_issue_notices(period=period, by=request.user, stamp_date=form.cleaned_data["stamp_date"])
                messages.success(request, "通知书已下达，正在后台生成附件10–13。")
                return redirect(f"{reverse('clearing:period_detail', args=[period.period])}?job={job.pk}")
            elif action == "regenerate":
                job = services.clearing_regenerate_notices(period=period, by=request.user)
                messages.info(request, "正在重新生成通知书（新版本，旧版本仍保留在档案中）。")
                return redirect(f"{reverse('clearing:period_detail', args=[period.period])}?job={job.pk}")
            elif action == "close":
                services.period_close(period=period, by=request.user)
                messages.success(request, f"{period.label}清算已关闭。")
            else:
                raise Http404("没有这项操作。")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("clearing:period_detail", period=period.period)


@role_required(*STAFF)
@require_GET
def settlement_list(request, period: str):
    period = _get_period(period)
    region = request.GET.get("region", "").strip()
    insurance = request.GET.get("insurance_type", "")
    query = request.GET.get("q", "").strip()
    rows = selectors.settlement_rows(user=request.user, period=period.period, region=region, insurance_type=insurance,
                                     query=query)
    paginator = Paginator(rows, 50)
    if not (region or insurance in ("310", "390") or query) and request.user.sees_all_regions:
        paginator.count = period.settlement_count  # every import keeps it: no COUNT over a month of a million rows
    page = paginator.get_page(request.GET.get("page"))
    names = dict(Region.objects.values_list("code", "short_name"))
    return render(
        request,
        "clearing/settlement_list.html",
        {"period": period, "page": page, "names": names, "region": region, "insurance": insurance, "q": query},
    )


# --- Imports -------------------------------------------------------------------------


@role_required(Role.CLEARING_OFFICER)
@require_http_methods(["GET", "POST"])
def import_list(request):
    form = UploadForm()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                batch = services.import_batch_create(
                    upload=form.cleaned_data["file"], by=request.user, skip_invalid=form.cleaned_data["skip_invalid"]
                )
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                batch.refresh_from_db(fields=["status", "file_error"])
                if batch.status == ImportBatch.Status.FAILED:  # the check could not even be queued
                    messages.error(request, f"文件已上传，但未能开始校验：{batch.file_error}")
                return redirect("clearing:import_detail", pk=batch.pk)
    services.import_batches_fail_lost_jobs()
    page = Paginator(selectors.import_batches(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "clearing/import_list.html", {"form": form, "page": page})


@role_required(Role.CLEARING_OFFICER)
@require_http_methods(["GET", "POST"])
def import_detail(request, pk: int):
    batch = get_object_for_user(request.user, ImportBatch.objects.select_related("job", "created_by"), pk=pk)
    if request.method == "POST":
        try:
            with transaction.atomic():
                services.import_batch_start(batch=batch, by=request.user, commit=True)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            batch.refresh_from_db(fields=["status", "file_error"])
            if batch.status == ImportBatch.Status.FAILED:
                messages.error(request, f"未能开始导入：{batch.file_error}")
        return redirect("clearing:import_detail", pk=batch.pk)
    if batch.is_busy and services.import_batches_fail_lost_jobs(batch_id=batch.pk):
        batch.refresh_from_db()
    return render(
        request,
        "clearing/import_detail.html",
        {
            "batch": batch, "columns": [label for label in _column_labels()], "periods": (batch.summary or {}).get("periods", {}),
            # checked, then the import itself could not run (queue down, worker lost): it may be confirmed again
            "retry_import": batch.status == ImportBatch.Status.FAILED and batch.checked_at is not None
            and (not batch.error_count or batch.skip_invalid),
        },
    )


def _column_labels() -> list[str]:
    from clearing.importers import COLUMNS, LABELS

    return [LABELS[column] for column in COLUMNS]


@role_required(Role.CLEARING_OFFICER)
@require_GET
def import_errors(request, pk: int):
    batch = get_object_for_user(request.user, ImportBatch, pk=pk)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["行号", "错误说明"])
    for row, message in batch.errors:
        writer.writerow([row, message])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
    return response


# --- Payments ------------------------------------------------------------------------


@role_required(*STAFF)
@require_GET
def payment_list(request):
    today = timezone.localdate()
    payments = PaymentDue.objects.for_user(request.user).select_related("region", "period")
    show = request.GET.get("show", "open")
    kind = request.GET.get("kind", "")
    if show == "overdue":
        payments = payments.overdue(today)
    elif show == "open":
        payments = payments.outstanding()
    if kind in PaymentDue.Kind.values:
        payments = payments.filter(kind=kind)
    summary = payments.aggregate(amount=Sum("amount"), paid=Sum("paid_amount"), advanced=Sum("advanced_amount"))
    page = Paginator(payments.order_by("due_on", "region__sort_order"), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "clearing/payment_list.html",
        {"page": page, "show": show, "kind": kind, "kinds": PaymentDue.Kind.choices, "today": today, "summary": summary},
    )


@role_required(*STAFF)
@require_http_methods(["GET", "POST"])
def payment_detail(request, pk: int):
    payment = get_object_for_user(request.user, PaymentDue.objects.select_related("region", "period"), pk=pk)
    form = TransferForm(initial={"amount": payment.outstanding})
    if request.method == "POST":
        action = request.POST.get("action", "transfer")
        try:
            if action == "advance":
                if not (request.user.has_role(Role.CLEARING_OFFICER) and request.user.sees_all_regions):
                    raise PermissionDenied("只有省级清算岗可以决定使用预付金先行支付。")
                used = services.payment_cover_with_advance(payment=payment, by=request.user)
                messages.success(request, f"已使用预付金先行支付 {used} 元，收到款项后自动补足。")
                return redirect("clearing:payment_detail", pk=payment.pk)
            if not request.user.has_role(Role.FINANCE, Role.CLEARING_OFFICER):
                raise PermissionDenied("只有财务人员或清算岗可以登记到账。")
            form = TransferForm(request.POST)
            if form.is_valid():
                services.transfer_record(payment=payment, by=request.user, **form.cleaned_data)
                messages.success(request, "到账已登记。")
                return redirect("clearing:payment_detail", pk=payment.pk)
        except DomainError as exc:
            if action == "advance":
                messages.error(request, exc.message)
                return redirect("clearing:payment_detail", pk=payment.pk)
            form.add_error(None, exc.message)
    notice = Document.objects.for_user(request.user).filter(key=payment.notice_key, is_latest=True).first()
    today = timezone.localdate()
    names = dict(Region.objects.provinces().values_list("code", "short_name"))
    context = {
        "payment": payment,
        "breakdown": [(names.get(code, code), Decimal(amount)) for code, amount in (payment.breakdown or {}).items()],
        "transfers": payment.transfers.select_related("recorded_by"),
        "entries": payment.advance_entries.select_related("province"),
        "form": form,
        "notice": notice,
        "timeline": entries_for(payment)[:20],
        "today": today,
        "can_record": request.user.has_role(Role.FINANCE, Role.CLEARING_OFFICER)
        and (request.user.sees_all_regions or payment.city_pays),
        "can_advance": request.user.has_role(Role.CLEARING_OFFICER)
        and request.user.sees_all_regions
        and payment.kind in (PaymentDue.Kind.INTRA_NET_PAYABLE, PaymentDue.Kind.CROSS_PAYABLE)
        and payment.is_overdue(today)
        and payment.outstanding > payment.advance_outstanding,
    }
    return render(request, "clearing/payment_detail.html", context)


# --- Advances ------------------------------------------------------------------------


@role_required(*STAFF)
@require_GET
def advance_index(request):
    latest = AdvanceYear.objects.order_by("-year").values_list("year", flat=True).first()
    return redirect("clearing:advance_year", year=latest or timezone.localdate().year)


@role_required(*STAFF)
@require_GET
def advance_year(request, year: int):
    record = AdvanceYear.objects.filter(year=year).first() or AdvanceYear(year=year)
    user = request.user
    intra = list(selectors.intra_advances(year, user))
    matrix = selectors.cross_matrix(year, user)
    city = _city_of(user)
    if city:
        index = [c.code for c in matrix["cities"]].index(city)
        matrix["cities"] = [matrix["cities"][index]]
        matrix["rows"] = [(p, [values[index]], values[index]) for p, values, _t in matrix["rows"]]
        matrix["column_totals"] = [matrix["column_totals"][index]]
        matrix["total"] = matrix["column_totals"][0]
    documents = (
        Document.objects.for_user(user).filter(key__startswith=f"clearing:{year}:", is_latest=True)
        .select_related("region").order_by("kind", "region__sort_order", "region_id")  # 附件2, 3 per city, 4, 5 …
    )
    balances: dict[str, dict[str, object]] = {}
    for (code, scope), total in selectors.ledger_balances(year=year, user=user)["city"].items():
        balances.setdefault(code, {})[scope] = total
    allotments = list(CrossAllotment.objects.filter(year=year).select_related("province"))
    try:
        policy = services.advance_policy_for(year)
    except DomainError:
        policy = None
    context = {
        "year": year,
        "record": record,
        "intra": intra,
        "intra_totals": {
            "previous": sum(a.previous_amount for a in intra),
            "approved": sum(a.approved_amount for a in intra),
            "actual": sum(a.actual_amount for a in intra),
        },
        "matrix": matrix,
        "documents": documents,
        "balance_rows": [
            (c, balances.get(c.code, {})) for c in selectors.cities() if city is None or c.code == city
        ],
        "allotments": allotments,
        "allotment_total": sum(a.amount for a in allotments),
        "policy": policy,
        "last_year": services.last_year_status(year),
        "increases": selectors.emergency_increases(year),
        "is_officer": user.has_role(Role.CLEARING_OFFICER) and user.sees_all_regions,
        "issue_form": StampDateForm(),
        "years": sorted({*AdvanceYear.objects.values_list("year", flat=True), year, timezone.localdate().year}, reverse=True),
        "city": city,
    }
    return render(request, "clearing/advance_year.html", context)


@province_officer_required
@require_POST
def advance_action(request, year: int, action: str):
    try:
        with transaction.atomic():
            if action == "compute_intra":
                rows = services.intra_advances_compute(year=year, by=request.user)
                messages.success(request, f"已测算{year}年省内预付金：合计 {sum(r.approved_amount for r in rows)} 万元。")
            elif action == "compute_cross":
                services.cross_advances_compute(year=year, by=request.user)
                messages.success(request, f"已按占比分摊{year}年跨省预付金。")
            elif action == "carry_over":
                count = services.advances_carry_over(year=year, by=request.user)
                messages.success(request, f"已结转{year - 1}年末预付金余额（{count} 个账户）。")
            elif action in ("issue_intra", "issue_cross"):
                form = StampDateForm(request.POST)
                if not form.is_valid():
                    raise DomainError(_stamp_date_error(form))
                job = services.advances_issue_notices(
                    year=year, scope=action.split("_")[1], by=request.user, stamp_date=form.cleaned_data["stamp_date"]
                )
                messages.success(request, "通知书已下达，正在后台生成。")
                return redirect(f"{reverse('clearing:advance_year', args=[year])}?job={job.pk}")
            elif action in ("regenerate_intra", "regenerate_cross"):
                job = services.advances_regenerate_notices(year=year, scope=action.split("_")[1], by=request.user)
                messages.info(request, "正在重新生成通知书（新版本，旧版本保留）。")
                return redirect(f"{reverse('clearing:advance_year', args=[year])}?job={job.pk}")
            else:
                raise Http404("没有这项操作。")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("clearing:advance_year", year=year)


@province_officer_required
@require_http_methods(["GET", "POST"])
def allotments(request, year: int):
    current = dict(CrossAllotment.objects.filter(year=year).values_list("province_id", "amount"))
    form = AllotmentForm(initial_amounts=current)
    upload = AllotmentUploadForm()
    if request.method == "POST":
        try:
            if "file" in request.FILES:
                upload = AllotmentUploadForm(request.POST, request.FILES)
                if upload.is_valid():
                    amounts = services.parse_allotment_rows(read_table(upload.cleaned_data["file"]))
                    services.cross_allotments_save(year=year, amounts=amounts, by=request.user, source=CrossAllotment.Source.IMPORTED)
                    messages.success(request, f"已导入 {len(amounts)} 个省份的额度。")
                    return redirect("clearing:advance_year", year=year)
            else:
                form = AllotmentForm(request.POST, initial_amounts=current)
                if form.is_valid():
                    services.cross_allotments_save(year=year, amounts=form.amounts(), by=request.user)
                    messages.success(request, "省级额度已保存。")
                    return redirect("clearing:advance_year", year=year)
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(request, "clearing/allotments.html", {"year": year, "form": form, "upload": upload})


@province_officer_required
@require_POST
def emergency_create(request, period: str):
    period = _get_period(period)
    usage = services.usage_by_province(period)
    form = EmergencyForm(request.POST, provinces=Region.objects.filter(code__in=[row.key for row in usage]))
    if not form.is_valid():
        messages.error(request, _stamp_date_error(form) if "stamp_date" in form.errors and "province" not in form.errors
                       and "amount" not in form.errors else "请选择就医省并填写调增额度（万元）。")
        return redirect("clearing:period_detail", period=period.period)
    try:
        with transaction.atomic():
            increase = services.emergency_increase_create(
                period=period, province=form.cleaned_data["province"], amount=form.cleaned_data["amount"],
                by=request.user, stamp_date=form.cleaned_data["stamp_date"],
            )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("clearing:period_detail", period=period.period)
    messages.success(request, f"已启动{increase.province.short_name}紧急调增，正在生成附件6。")
    return redirect("clearing:advance_year", year=increase.year)


@role_required(*STAFF)
@require_GET
def ledger_city(request, year: int, code: str):
    city = get_object_or_404(Region, code=code, parent_id=home_province_code())
    if not request.user.sees_all_regions and request.user.region_code != code:
        raise Http404("没有找到该记录，或您无权查看。")
    rows = selectors.advance_ledger(year=year, region=code, user=request.user)
    intra = IntraAdvance.objects.filter(year=year, region=city).first()
    return render(
        request,
        "clearing/ledger.html",
        {
            "year": year,
            "title": f"{city.name} {year}年预付金台账",
            "rows": rows,
            "subject": city,
            "by_city": True,
            "intra": intra,
            "balances": _balances(rows),
        },
    )


@role_required(*STAFF)
@require_GET
def ledger_province(request, year: int, code: str):
    province = get_object_or_404(Region, code=code, level=Region.Level.PROVINCE)
    rows = selectors.advance_ledger(year=year, province=code, user=request.user)
    return render(
        request,
        "clearing/ledger.html",
        {
            "year": year,
            "title": f"{year}年向{province.short_name}拨付的跨省预付金台账",
            "rows": rows,
            "subject": province,
            "by_city": False,
            "balances": _balances(rows),
        },
    )


def _balances(rows) -> dict[str, object]:
    balance = {AdvanceEntry.Scope.INTRA: rules.ZERO, AdvanceEntry.Scope.CROSS: rules.ZERO}
    for entry, _running in rows:
        balance[entry.scope] += entry.amount
    return {"intra": balance[AdvanceEntry.Scope.INTRA], "cross": balance[AdvanceEntry.Scope.CROSS]}


# --- Exports -------------------------------------------------------------------------


@role_required(*STAFF)
@require_GET
def settlement_export(request, period: str):
    from clearing.exports import SettlementExportResource
    from core.exports import xlsx_response

    period = _get_period(period)
    rows = selectors.settlement_rows(
        user=request.user, period=period.period, region=request.GET.get("region", "").strip(),
        insurance_type=request.GET.get("insurance_type", ""), query=request.GET.get("q", "").strip(),
    )
    names = dict(Region.objects.values_list("code", "short_name"))
    return xlsx_response(request, SettlementExportResource(names=names), rows,
                         title=f"{period.label}结算明细", filename=f"settlements-{period.period}")


@role_required(*STAFF)
@require_GET
def advance_ledger_export(request, year: int):
    from clearing.exports import AdvanceEntryResource
    from core.exports import xlsx_response

    entries = (AdvanceEntry.objects.for_user(request.user).filter(year=year)
               .select_related("region", "province", "recorded_by").order_by("entry_date", "pk"))
    return xlsx_response(request, AdvanceEntryResource(), entries, title=f"{year}年预付金台账",
                         filename=f"advance-ledger-{year}")


@role_required(*STAFF)
@require_GET
def period_notices_zip(request, period: str):
    """The month's latest forms as one ZIP, in form order (附件10, 11, every city's 12, every city's 13)."""
    from core.documents import zip_response

    period = _get_period(period)
    documents = list(selectors.period_documents(period, request.user).filter(is_latest=True))
    if not documents:
        raise Http404("本期还没有生成清算表和通知书。")
    return zip_response(documents, user=request.user, request=request, filename=f"清算通知书-{period.period}.zip")
