"""Finance pays through the bank: full accounts where it pays (every view audited), the
batch-payment file for the bank, and the bank's result file (preview, then confirm)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from core.audit import log_action
from core.decorators import role_required
from core.documents import download_response, latest_document
from core.errors import DomainError
from core.models import AuditLog, Role
from core.scoping import get_object_for_user
from core.tabular import read_table
from reimbursement import bank
from reimbursement.forms import DATE_WIDGET
from reimbursement.jobs import BANK_FILE_FORMATS, bank_file_key
from reimbursement.models import PaymentBatch

SESSION_KEY = "bank-result:{pk}"
MAX_RESULT_BYTES = 5 * 1024 * 1024


def shows_full_accounts(user) -> bool:
    """Finance pays, so finance sees whole accounts on its payment pages; everyone else the mask."""
    return user.has_role(Role.FINANCE)


def audit_full_accounts(request, claims, *, where: str, obj=None) -> None:
    """One audit record per page that showed whole account numbers, naming the claims."""
    numbers = [claim.number for claim in claims]
    if not numbers:
        return
    log_action(
        action=AuditLog.Action.VIEW_SENSITIVE,
        user=request.user,
        obj=obj,
        request=request,
        message=f"查看完整银行账号（{where}）：{len(numbers)} 笔",
        data={"claims": numbers},
    )


class BankResultForm(forms.Form):
    file = forms.FileField(label="银行返回的结果文件（XLSX 或 CSV）",
                           help_text="列：序号、收款账号、金额、结果（成功/失败）、失败原因")
    paid_on = forms.DateField(label="银行处理日期", widget=DATE_WIDGET, initial=timezone.localdate)
    reference = forms.CharField(label="支付凭证号", max_length=60, required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_RESULT_BYTES:
            raise forms.ValidationError("结果文件超过 5 MB，请确认是否选错了文件。")
        return upload


@role_required(Role.FINANCE)
@require_GET
def batch_bank_file(request, pk: int, fmt: str):
    batch = get_object_for_user(request.user, PaymentBatch, pk=pk)
    if fmt not in BANK_FILE_FORMATS:
        raise Http404("没有这种格式的银行代发文件。")
    document = latest_document(bank_file_key(batch, fmt))
    if document is None:
        raise Http404("银行代发文件尚未生成。")
    return download_response(document, user=request.user, request=request)


@role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def batch_bank_result(request, pk: int):
    batch = get_object_for_user(request.user, PaymentBatch, pk=pk)
    key = SESSION_KEY.format(pk=batch.pk)
    preview = None
    form = BankResultForm(initial={"paid_on": timezone.localdate()})
    if request.method == "POST" and "confirm" in request.POST:
        stored = request.session.get(key)
        if not stored:
            messages.error(request, "结果文件的预览已失效，请重新上传。")
            return redirect("reimbursement:batch_bank_result", pk=pk)
        try:
            preview = bank.read_result(batch, stored["rows"])
            paid, failed = bank.bank_result_apply(
                batch=batch, preview=preview, by=request.user,
                paid_on=date.fromisoformat(stored["paid_on"]), reference=stored["reference"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            request.session.pop(key, None)
            messages.success(request, f"已按银行结果登记：支付成功 {paid} 笔，退票 {failed} 笔。")
            return redirect("reimbursement:batch_detail", pk=pk)
    elif request.method == "POST":
        form = BankResultForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                rows = read_table(form.cleaned_data["file"])
                preview = bank.read_result(batch, rows)
            except DomainError as exc:
                form.add_error("file", exc.message)
            request.session.pop(key, None)  # only a clean preview can be confirmed
            if preview is not None and not preview.errors:
                request.session[key] = {
                    "rows": rows,
                    "paid_on": form.cleaned_data["paid_on"].isoformat(),
                    "reference": form.cleaned_data["reference"],
                }
    return render(request, "reimbursement/bank_result.html", {"batch": batch, "form": form, "preview": preview})
