"""Pages of 运行监测 for clearing officers (province: every city, or the
province as a whole) and city staff (their own city only: another region is a 404).
Reads go through monitoring.selectors (aggregates only); changes through
monitoring.services; the analysis report is a background job."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.audit import log_action
from core.db_routers import replica_reads
from core.decorators import role_required
from core.errors import DomainError
from core.models import AuditLog, Document, Region, Role
from core.reference import home_province_code
from core.scoping import get_object_for_user
from monitoring import exports, rules, selectors, services
from monitoring.forms import FundBalanceForm, ReportForm, ThresholdForm
from monitoring.models import FundBalance, Threshold

VIEWERS = (Role.CLEARING_OFFICER, Role.FINANCE, Role.SUPERVISOR, Role.ADMINISTRATOR)
MANAGERS = (Role.CLEARING_OFFICER, Role.ADMINISTRATOR)
# The fund's balance is a business figure, not configuration: the system administrator
# (三员分立) sets warning lines but does not enter it.
BALANCE_KEEPERS = (Role.CLEARING_OFFICER,)
REPORT_KIND = "monitoring.report"


def _own_region(user) -> str:
    return home_province_code() if user.sees_all_regions else user.region_code


def _region_param(user, raw: str | None) -> str:
    """The region the page shows: province staff choose; city staff get their
    own city, and another region is a 404."""
    own = _own_region(user)
    if own is None:
        raise PermissionDenied("您的账号未关联经办机构，无法查看运行监测。")
    if not raw:
        return own
    if user.sees_all_regions:
        if raw == home_province_code() or Region.objects.cities_of(home_province_code()).filter(code=raw).exists():
            return raw
        raise Http404("没有这个地区。")
    if raw != own:
        raise Http404("没有找到该地区，或您无权查看。")
    return raw


def _period_param(raw: str | None) -> rules.PeriodSpec:
    if raw:
        try:
            return rules.parse_period(raw)
        except ValueError as exc:
            raise Http404(str(exc)) from None
    latest = selectors.latest_period()
    today = timezone.localdate()
    return rules.parse_period(latest or rules.month_code(today.year, today.month))


def _period_options(spec: rules.PeriodSpec) -> list[tuple[str, list[tuple[str, str]]]]:
    months = selectors.periods_with_data()
    if spec.code not in months and spec.kind == "month":
        months = sorted([*months, spec.code], reverse=True)
    quarters = sorted({f"{m[:4]}Q{(int(m[5:7]) - 1) // 3 + 1}" for m in months}, reverse=True)
    years = sorted({m[:4] for m in months}, reverse=True)
    label = lambda code: rules.parse_period(code).label  # noqa: E731
    return [
        ("月度", [(code, label(code)) for code in months]),
        ("季度", [(code, label(code)) for code in quarters]),
        ("年度", [(code, label(code)) for code in years]),
    ]


def _trend_months(spec: rules.PeriodSpec) -> list[str]:
    return rules.months_ending(spec.last_month, 24 if spec.kind == "year" else 13)


def _overview_data(spec: rules.PeriodSpec, region: str) -> dict:
    figures = selectors.region_figures(spec)
    province = home_province_code()
    selected = figures[region]
    rows = [item for code, item in figures.items() if code != province] if region == province else [selected]
    directions = (selectors.OUTFLOW, selectors.INFLOW)
    flag_list = [(item.name, flag) for item in [selected, *(rows if region == province else [])] for flag in item.flags]
    cards = [
        {
            "direction": d, "label": selectors.DIRECTIONS[d], "totals": selected.totals(d),
            "mom": selected.growth(d, "previous"), "yoy": selected.growth(d, "year_ago"),
            "direct": selected.direct_rate(d), "deduction": selected.deduction_rate(d),
        }
        for d in (selectors.OUTFLOW, selectors.INFLOW)
    ]
    return {
        "figures": figures,
        "selected": selected,
        "flag_list": flag_list,
        "cards": cards,
        "rows": rows,
        "breakdowns": {d: selectors.breakdown(spec, region, d) for d in directions},
        "places": {d: selectors.top_places(spec, region, d) for d in directions},
        "institutions": {d: selectors.top_institutions(spec, region, d) for d in directions},
    }


def _chart_data(spec, region, data) -> dict:
    trend = selectors.trend(region, _trend_months(spec))
    care = {
        direction: {
            "labels": [label for _code, label in selectors.CARE_TYPES],
            "employee": [float(row.current.total) for row in data["breakdowns"][direction][0:3]],
            "resident": [float(row.current.total) for row in data["breakdowns"][direction][4:7]],
        }
        for direction in (selectors.OUTFLOW, selectors.INFLOW)
    }
    ranks = {
        direction: {"labels": [row.label for row in data["places"][direction]], "total": [float(row.totals.total) for row in data["places"][direction]]}
        for direction in (selectors.OUTFLOW, selectors.INFLOW)
    }
    institutions = {
        direction: {"labels": [row.label for row in data["institutions"][direction]],
                    "total": [float(row.totals.total) for row in data["institutions"][direction]]}
        for direction in (selectors.OUTFLOW, selectors.INFLOW)
    }
    return {"trend": trend, "care": care, "ranks": ranks, "institutions": institutions}


@role_required(*VIEWERS)
@require_GET
@replica_reads()
def overview(request):
    spec = _period_param(request.GET.get("period"))
    region = _region_param(request.user, request.GET.get("region"))
    data = _overview_data(spec, region)
    province = home_province_code()
    context = {
        **data,
        "spec": spec,
        "region": region,
        "is_province": region == province,
        "province_code": province,
        "sees_all": request.user.sees_all_regions,
        "cities": selectors.home_cities() if request.user.sees_all_regions else [],
        "province_name": data["figures"][province].name if province in data["figures"] else "",
        "period_options": _period_options(spec),
        "charts": _chart_data(spec, region, data),
        "directions": selectors.DIRECTIONS,
        "deductions_connected": data["selected"].deducted is not None,
        "can_manage": request.user.has_role(*MANAGERS),
        "has_data": any(item.totals(d).visits for item in data["figures"].values() for d in ("outflow", "inflow")),
    }
    return render(request, "monitoring/overview.html", context)


@role_required(*VIEWERS)
@require_GET
@replica_reads()
def export(request):
    spec = _period_param(request.GET.get("period"))
    region = _region_param(request.user, request.GET.get("region"))
    data = _overview_data(spec, region)
    name = data["selected"].name
    content = exports.workbook_bytes(
        spec=spec, region_name=name, figures=data["rows"] if region != home_province_code() else [*data["rows"], data["selected"]],
        breakdowns=data["breakdowns"], places=data["places"], institutions=data["institutions"],
    )
    log_action(action=AuditLog.Action.EXPORT, user=request.user, message=f"导出运行监测表 {name} {spec.label}", request=request)
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    filename = f"运行监测-{name}-{spec.code}.xlsx"
    from urllib.parse import quote

    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


# --- Thresholds and fund balances ---------------------------------------------------------


@role_required(*VIEWERS)
@require_http_methods(["GET", "POST"])
def thresholds(request):
    user = request.user
    own = Region.objects.get(code=_own_region(user))
    form = ThresholdForm(request.POST or None)
    can_manage = user.has_role(*MANAGERS)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("只有清算岗或系统管理员可以设定预警值。")
        if form.is_valid():
            try:
                services.threshold_save(region=own, by=user, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "预警值已保存。")
                return redirect("monitoring:thresholds")
    visible = Threshold.objects.select_related("region", "updated_by")
    if not user.sees_all_regions:
        visible = visible.filter(region_id__in=[own.code, home_province_code()])
    return render(request, "monitoring/thresholds.html", {
        "thresholds": visible, "form": form, "own": own, "can_manage": can_manage, "province": home_province_code(),
    })


@role_required(*MANAGERS)
@require_POST
def threshold_delete(request, pk: int):
    threshold = get_object_for_user(request.user, Threshold, pk=pk)
    try:
        services.threshold_delete(threshold=threshold, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "预警值已删除。")
    return redirect("monitoring:thresholds")


@role_required(*VIEWERS)
@require_http_methods(["GET", "POST"])
def balances(request):
    user = request.user
    own = Region.objects.get(code=_own_region(user))
    form = FundBalanceForm(request.POST or None)
    can_manage = user.has_role(*BALANCE_KEEPERS)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("只有清算岗可以录入基金结余。")
        if form.is_valid():
            try:
                services.fund_balance_save(region=own, by=user, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "基金累计结余已保存。")
                return redirect("monitoring:balances")
    records = FundBalance.objects.for_user(user).select_related("region", "entered_by")[:200]
    rows = [(record, rules.payable_months(record.balance, record.monthly_expenditure)) for record in records]
    return render(request, "monitoring/balances.html", {
        "rows": rows, "form": form, "own": own, "can_manage": can_manage, "warning": rules.PAYABLE_MONTHS_WARNING,
    })


# --- The analysis report -----------------------------------------------------------------


@role_required(*VIEWERS)
@require_http_methods(["GET", "POST"])
def reports(request):
    user = request.user
    can_start = user.has_role(Role.CLEARING_OFFICER) and user.sees_all_regions
    form = ReportForm(request.POST or None, initial={"period": selectors.latest_period() or ""})
    if request.method == "POST":
        if not can_start:
            raise PermissionDenied("运行分析报告由省级清算岗生成。")
        if form.is_valid():
            try:
                job = services.report_start(period=form.cleaned_data["period"], by=user)
            except DomainError as exc:
                form.add_error("period", exc.message)
            else:
                messages.success(request, "已提交生成运行分析报告的后台任务。")
                return redirect("job_detail", pk=job.pk)
    documents = Document.objects.for_user(user).filter(kind=REPORT_KIND).order_by("-period", "-version")
    versions = dict(documents.values("key").annotate(n=Count("pk")).values_list("key", "n"))
    latest = [(doc, versions.get(doc.key, 1)) for doc in documents.filter(is_latest=True)]
    return render(request, "monitoring/reports.html", {"latest": latest, "all": documents[:100], "form": form, "can_start": can_start})
