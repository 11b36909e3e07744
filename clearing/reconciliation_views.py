"""The 三方对账 page: results per city and day, mismatches with their 冲正, the 3rd's status."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clearing import reconciliation, rules
from clearing.models import ReconciliationResult
from clearing.views import STAFF, province_officer_required
from core.decorators import role_required
from core.errors import DomainError
from core.models import Role
from core.scoping import get_object_for_user
from core.tabular import read_table


class ReconciliationUploadForm(forms.Form):
    file = forms.FileField(label="对账结果文件（CSV/XLSX）")


class CorrectionForm(forms.Form):
    corrected_on = forms.DateField(label="冲正日期", initial=timezone.localdate)
    reason = forms.CharField(label="原因及处理", max_length=300)


def _period(value: str | None) -> str:
    if value:
        try:
            rules.parse_period(value)
            return value
        except DomainError:
            pass
    today = timezone.localdate()
    return rules.period_of(*rules.add_months(today.year, today.month, -1))


@role_required(*STAFF)
@require_GET
def reconciliation_overview(request):
    period = _period(request.GET.get("period"))
    return render(request, "clearing/reconciliation.html", {
        "period": period,
        "due": reconciliation.monthly_due(period),
        "statuses": reconciliation.city_statuses(period=period, user=request.user),
        "mismatches": reconciliation.mismatches(period=period, user=request.user),
        "upload_form": ReconciliationUploadForm(),
        "is_province": request.user.sees_all_regions and request.user.has_role(Role.CLEARING_OFFICER),
        "may_correct": request.user.has_role(Role.CLEARING_OFFICER, Role.FINANCE),
        "today": timezone.localdate(),
    })


@province_officer_required
@require_POST
def reconciliation_import(request):
    form = ReconciliationUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择对账结果文件。")
        return redirect("clearing:reconciliation")
    upload = form.cleaned_data["file"]
    try:
        report = reconciliation.reconciliation_import(rows=read_table(upload), filename=upload.name, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("clearing:reconciliation")
    if report.errors:
        shown = "；".join(report.errors[:10]) + ("……" if len(report.errors) > 10 else "")
        messages.error(request, f"文件有 {len(report.errors)} 处错误，未导入任何数据：{shown}")
    else:
        messages.success(request, f"已导入 {report.rows} 行对账结果（新增 {report.created}，更新 {report.replaced}）。")
    return redirect("clearing:reconciliation")


@role_required(Role.CLEARING_OFFICER, Role.FINANCE)
@require_POST
def reconciliation_correct(request, pk: int):
    result = get_object_for_user(request.user, ReconciliationResult, pk=pk)
    form = CorrectionForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("请填写冲正日期和原因。")
        reconciliation.reconciliation_correct(result=result, reason=form.cleaned_data["reason"],
                                              corrected_on=form.cleaned_data["corrected_on"], by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已登记 {result.region.short_name} {result.recon_date:%Y-%m-%d} 的冲正。")
    return redirect(f"{reverse('clearing:reconciliation')}?period={result.period}")


def close_data_warning(period: str) -> str:
    """第四十七条(二): only reconciled records are uploaded by the 20th."""
    open_by_city = reconciliation.unreconciled_by_city(period)
    if not open_by_city:
        return ""
    from core.models import Region

    names = dict(Region.objects.filter(code__in=open_by_city).values_list("code", "short_name"))
    listed = "、".join(f"{names.get(code, code)} {count} 条" for code, count in sorted(open_by_city.items()))
    return f"注意：{period} 仍有三方对账不符且未冲正的记录（{listed}），只有对账成功的明细才能纳入清算。"


