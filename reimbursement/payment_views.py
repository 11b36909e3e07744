"""Finance's payment notices (付款通知): the approved claims waiting for one, a notice made of the
chosen claims, its page, its payment and its regenerated PDF. The bank files are bank_views."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.audit import entries_for
from core.decorators import role_required
from core.errors import DomainError
from core.models import Role
from core.scoping import get_object_for_user
from reimbursement import bank_views, selectors, services
from reimbursement.forms import PaymentRecordForm
from reimbursement.models import Claim, PaymentBatch
from reimbursement.views import _fail

#: Claims a page of the payments queue lists (and a notice can be made of at once).
PAYMENTS_PER_PAGE = 50


@role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def payments(request):
    waiting = selectors.approved_for_payment(user=request.user)
    if request.method == "POST":
        ids = {int(value) for value in request.POST.getlist("claim") if value.isdigit()}
        chosen = list(waiting.filter(pk__in=ids))
        if len(chosen) != len(ids):
            messages.error(request, "所选申请中有的已不是“已审批（待付款）”状态，请刷新后重新选择。")
            return redirect("reimbursement:payments")
        try:
            batch = services.payment_batch_create(claims=chosen, by=request.user)
        except DomainError as exc:
            _fail(request, exc)
            return redirect("reimbursement:payments")
        messages.success(request, f"付款通知 {batch.number} 已建立，正在后台生成通知书。")
        return redirect("reimbursement:batch_detail", pk=batch.pk)
    # The notices' rows show no job (its parameters and result are JSON, decoded for every row).
    batches = selectors.payment_batches(user=request.user).select_related(None).select_related("created_by")
    batches = Paginator(batches, 20).get_page(request.GET.get("page"))
    # A big city's backlog is thousands of claims: one page of them at a time, the totals kept.
    totals = selectors.awaiting_payment_totals(user=request.user)
    rows = selectors.queue_rows(waiting, "payee_name", "bank_name", "bank_account", "decided_at")
    paginator = Paginator(rows, PAYMENTS_PER_PAGE)
    paginator.count = totals["count"]  # known already: no second COUNT
    approved = paginator.get_page(request.GET.get("claims_page"))
    full = bank_views.shows_full_accounts(request.user)
    if full:
        bank_views.audit_full_accounts(request, approved, where="付款管理·待出付款通知")
    return render(request, "reimbursement/payments.html",
                  {"approved": approved, "page": batches, "approved_count": totals["count"],
                   "approved_total": totals["amount"], "full_accounts": full})


@role_required(Role.FINANCE)
@require_GET
def payments_export(request):
    from core.exports import xlsx_response
    from reimbursement.resources import PaymentBatchResource

    batches = selectors.payment_batches(user=request.user).select_related("region", "created_by")
    return xlsx_response(request, PaymentBatchResource(), batches, title="零星报销付款通知", filename="payment-batches")


@role_required(Role.FINANCE, Role.ADMINISTRATOR)
@require_GET
def batch_detail(request, pk: int):
    batch = get_object_for_user(request.user, PaymentBatch.objects.select_related("job", "created_by", "region"), pk=pk)
    from core.documents import latest_document

    claims = list(batch.claims.select_related("person").order_by("number"))
    full = bank_views.shows_full_accounts(request.user)
    if full:
        bank_views.audit_full_accounts(request, claims, where=f"付款通知 {batch.number}", obj=batch)
    from reimbursement.jobs import bank_file_key

    return render(
        request,
        "reimbursement/batch_detail.html",
        {
            "batch": batch,
            "claims": claims,
            "returns": list(batch.returns.select_related("claim").order_by("pk")),
            "claims_total": sum((claim.fund_payment or Decimal("0.00") for claim in claims), Decimal("0.00")),
            "document": latest_document(batch.document_key),
            "payment_form": PaymentRecordForm(),
            "history": entries_for(batch),
            "full_accounts": full,
            "bank_files": {fmt: latest_document(bank_file_key(batch, fmt)) for fmt in ("xlsx", "csv")},
        },
    )


@role_required(Role.FINANCE)
@require_POST
def batch_pay(request, pk: int):
    batch = get_object_for_user(request.user, PaymentBatch, pk=pk)
    form = PaymentRecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写有效的支付日期。")
        return redirect("reimbursement:batch_detail", pk=pk)
    claims = list(batch.claims.filter(status=Claim.Status.PAYMENT_NOTIFIED))
    try:
        services.payment_record(claims=claims, by=request.user, **form.cleaned_data)
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, f"已登记 {len(claims)} 笔支付，相关申请已办结。")
    return redirect("reimbursement:batch_detail", pk=pk)


@role_required(Role.FINANCE)
@require_POST
def batch_regenerate(request, pk: int):
    batch = get_object_for_user(request.user, PaymentBatch, pk=pk)
    services.payment_batch_regenerate(batch=batch, by=request.user)
    messages.info(request, "正在重新生成付款通知书（保留旧版本）。")
    return redirect("reimbursement:batch_detail", pk=pk)
