"""Pages for refunds and deductions in a later clearing month (第四十五、五十三条)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clearing import adjustments
from clearing.forms import DeductionForm, RefundForm
from clearing.models import ClearingAdjustment
from clearing.views import STAFF, province_officer_required
from core.decorators import role_required
from core.errors import DomainError


@role_required(*STAFF)
@require_GET
def adjustment_list(request):
    """Every adjustment the viewer's region is party to, newest first, with the month it lands in."""
    queryset = ClearingAdjustment.objects.for_user(request.user).select_related("period", "created_by").order_by("-id")
    kind = request.GET.get("kind", "")
    if kind in ClearingAdjustment.Kind.values:
        queryset = queryset.filter(kind=kind)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    _link_assists(page, request.user)
    return render(request, "clearing/adjustment_list.html", {
        "page": page, "kind": kind, "kinds": ClearingAdjustment.Kind.choices,
        "refund_form": RefundForm(), "deduction_form": DeductionForm(),
        "is_officer": request.user.sees_all_regions,
    })


def _link_assists(page, user) -> None:
    """A deduction booked from a 费用协查 result links back to it (its 来源单据号 is the 协查编号),
    when the viewer may open that request; one query for the page."""
    from cooperation.deductions import assists_by_number

    deductions = [item for item in page if item.kind == ClearingAdjustment.Kind.DEDUCTION]
    found = assists_by_number(user=user, numbers=[item.source_ref for item in deductions])
    for item in deductions:
        item.assist_pk = found.get(item.source_ref)


def _form_error(form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}：{errors[0]}" if label else errors[0]
    return "请检查填写的内容。"


@province_officer_required
@require_POST
def adjustment_import(request):
    from core.tabular import read_table

    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise DomainError("请选择退费/扣款文件。")
        stored, errors = adjustments.adjustments_import(rows=read_table(upload), by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if errors:
            shown = "；".join(errors[:10]) + ("……" if len(errors) > 10 else "")
            messages.error(request, f"文件有 {len(errors)} 处错误，未导入任何数据：{shown}")
        else:
            messages.success(request, f"已导入 {stored} 条退费/扣款，分别计入下一个尚未下达通知书的清算月。")
    return redirect("clearing:adjustment_list")


@province_officer_required
@require_POST
def adjustment_refund(request):
    form = RefundForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(_form_error(form))
        data = form.cleaned_data
        refund = adjustments.refund_create(
            settlement_id=data["settlement_id"], amount=data["amount"], refund_type=data["refund_type"],
            refunded_on=data["refunded_on"], reason=data["reason"], source_ref=data["source_ref"], by=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已登记{refund.label} {refund.amount} 元，计入{refund.period.label}清算。")
    return redirect("clearing:adjustment_list")


@province_officer_required
@require_POST
def adjustment_deduction(request):
    form = DeductionForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(_form_error(form))
        data = form.cleaned_data
        deduction = adjustments.deduction_create(
            insured_region=data["insured_region"].strip(), treatment_region=data["treatment_region"].strip(),
            insurance_type=data["insurance_type"], settlement_id=data["settlement_id"], amount=data["amount"],
            basis=data["basis"], source_ref=data["source_ref"], by=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已登记违规费用扣款 {deduction.amount} 元，计入{deduction.period.label}清算。")
    return redirect("clearing:adjustment_list")
