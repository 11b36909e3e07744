"""外省预付金 (第三十一条(三)): the advances other provinces keep in our finance account."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clearing import advance_ledger
from clearing.models import ClearingPeriod, ForeignAdvanceEntry
from clearing.views import province_officer_required
from core.decorators import role_required
from core.errors import DomainError
from core.models import Region, Role
from core.reference import home_province_code


def _other_provinces():
    return Region.objects.provinces().exclude(code=home_province_code()).order_by("sort_order", "code")


class ForeignAdvanceForm(forms.Form):
    province = forms.ModelChoiceField(label="预付省份", queryset=Region.objects.none())
    amount = forms.DecimalField(label="到账金额（元）", max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    received_on = forms.DateField(label="到账日期", initial=timezone.localdate)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].queryset = _other_provinces()


class ForeignClearingForm(ForeignAdvanceForm):
    period = forms.CharField(label="清算所属期（YYYY-MM）", max_length=7)


@role_required(Role.CLEARING_OFFICER, Role.FINANCE)
@require_GET
def foreign_advances(request, year: int):
    if not request.user.sees_all_regions:  # held in the province's finance account
        from django.http import Http404

        raise Http404("没有找到该记录，或您无权查看。")
    entries = ForeignAdvanceEntry.objects.for_user(request.user).filter(year=year).select_related(
        "province", "period", "payment__region", "recorded_by").order_by("-entry_date", "-id")[:200]
    return render(request, "clearing/foreign_advances.html", {
        "year": year, "summary": advance_ledger.foreign_advance_summary(year), "entries": entries,
        "advance_form": ForeignAdvanceForm(), "clearing_form": ForeignClearingForm(),
    })


@province_officer_required
@require_POST
def foreign_advance_receive(request, year: int):
    form = ForeignAdvanceForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("请选择省份并填写到账金额和日期。")
        data = form.cleaned_data
        advance_ledger.foreign_advance_receive(year=year, province=data["province"], amount=data["amount"],
                                               on=data["received_on"], by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已登记{data['province'].short_name}预付金到账 {data['amount']} 元。")
    return redirect("clearing:foreign_advances", year=year)


@province_officer_required
@require_POST
def foreign_clearing_receive(request, year: int):
    form = ForeignClearingForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("请选择省份并填写清算所属期、到账金额和日期。")
        data = form.cleaned_data
        period = get_object_or_404(ClearingPeriod, period=data["period"].strip())
        topped = advance_ledger.foreign_clearing_receive(period=period, province=data["province"], amount=data["amount"],
                                                         on=data["received_on"], by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已登记{data['province'].short_name}{period.label}清算费用到账，补足外省预付金 {topped} 元。")
    return redirect("clearing:foreign_advances", year=year)
