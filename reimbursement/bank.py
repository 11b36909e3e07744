"""Paying through the bank: the batch-payment file (代发/批量转账) and the bank's result file.

The payment notice tells finance what to pay; the bank wants a file it can load into its
batch-transfer screen. Every common Chinese bank's template has the same six columns, so one
layout serves (序号, 收款人户名, 收款账号, 开户行, 金额, 用途), as XLSX and as CSV (GB18030,
what a bank's Windows client opens). The file carries the full account numbers: it is archived
like the PDFs, downloadable by finance only, and every download is audited.

When the bank has run the batch it returns a result file: one row per transfer, 成功 or 失败 with
a reason. Importing it records the successful rows as paid (已支付) and the failed ones as
returned (退票) through the same services finance uses by hand, all or nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction

from core.errors import DomainError
from core.exports import neutralise
from core.money import format_yuan
from reimbursement.formatting import normalize_bank_account
from reimbursement.models import Claim, PaymentBatch

COLUMNS = ("序号", "收款人户名", "收款账号", "开户行", "金额", "用途")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Transfer:
    sequence: int
    payee: str
    account: str
    bank: str
    amount: Decimal
    purpose: str
    claim_id: int
    claim_number: str


def batch_transfers(batch: PaymentBatch) -> list[Transfer]:
    """One transfer per claim still on the notice (a returned claim has left it), in the
    notice's order; the sum must equal what the notice asks finance to pay."""
    claims = list(
        batch.claims.filter(status__in=(Claim.Status.PAYMENT_NOTIFIED, Claim.Status.PAID))
        .only("pk", "number", "payee_name", "bank_account", "bank_name", "fund_payment")
        .order_by("number")
    )
    transfers = [
        Transfer(
            sequence=index,
            payee=claim.payee_name,
            account=claim.bank_account,
            bank=claim.bank_name,
            amount=claim.fund_payment or ZERO,
            purpose=f"异地就医零星报销 {claim.number}",
            claim_id=claim.pk,
            claim_number=claim.number,
        )
        for index, claim in enumerate(claims, start=1)
    ]
    check_totals(batch, transfers)
    return transfers


def check_totals(batch: PaymentBatch, transfers: list[Transfer]) -> None:
    """The file's rows add up to the notice: its total less the payments the bank sent back."""
    returned = sum((r.amount for r in batch.returns.all()), ZERO)
    expected = batch.total_amount - returned
    total = sum((t.amount for t in transfers), ZERO)
    if total != expected or any(t.amount <= 0 for t in transfers):
        raise DomainError(
            f"付款通知 {batch.number} 的金额合计 {format_yuan(expected)} 元与明细之和 {format_yuan(total)} 元不符，"
            "不能生成银行代发文件，请联系系统管理员核对。",
            code="totals",
        )
    if not transfers:
        raise DomainError(f"付款通知 {batch.number} 已没有待付款的申请，不需要银行代发文件。", code="empty")


def _cells(transfer: Transfer) -> list:
    return [transfer.sequence, neutralise(transfer.payee), transfer.account, neutralise(transfer.bank),
            transfer.amount, neutralise(transfer.purpose)]


def render_xlsx(transfers: list[Transfer]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("代发明细")
    sheet.append(list(COLUMNS))
    for transfer in transfers:
        row = _cells(transfer)
        row[4] = float(transfer.amount)  # a number cell; two decimals survive a float
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def render_csv(transfers: list[Transfer]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for transfer in transfers:
        row = _cells(transfer)
        row[4] = f"{transfer.amount:.2f}"
        writer.writerow(row)
    return out.getvalue().encode("gb18030")


# --- The bank's result file ----------------------------------------------------------------------

SUCCESS = {"成功", "交易成功", "已成功", "success", "ok"}
FAILURE = {"失败", "交易失败", "退票", "failed", "fail"}


@dataclass(frozen=True)
class ResultRow:
    row: int
    claim: Claim
    success: bool
    reason: str


@dataclass
class ResultPreview:
    rows: list[ResultRow]
    errors: list[tuple[int, str]]

    @property
    def paid(self) -> list[ResultRow]:
        return [r for r in self.rows if r.success]

    @property
    def failed(self) -> list[ResultRow]:
        return [r for r in self.rows if not r.success]


def _column(row: dict[str, str], *names: str) -> str:
    for name in names:
        if name in row:
            return (row.get(name) or "").strip()
    return ""


def read_result(batch: PaymentBatch, rows: list[dict[str, str]]) -> ResultPreview:
    """Match the bank's rows to the notice by 序号 and account and check the amount; every
    mismatch is a row-numbered error (spreadsheet rows: the header is row 1)."""
    if not rows:
        raise DomainError("结果文件没有数据行。", code="empty")
    header = set(rows[0])
    missing = [name for name in ("收款账号", "金额") if name not in header]
    if missing or not header & {"结果", "处理结果", "交易状态", "状态"}:
        raise DomainError(
            "结果文件缺少必需的列：" + "、".join(missing + ([] if header & {"结果", "处理结果", "交易状态", "状态"} else ["结果"]))
            + "。应包含：序号、收款账号、金额、结果（成功/失败）、失败原因。",
            code="columns",
        )
    transfers = {t.sequence: t for t in batch_transfers(batch)}
    by_account: dict[str, list[Transfer]] = {}
    for transfer in transfers.values():
        by_account.setdefault(transfer.account, []).append(transfer)
    claims = {claim.pk: claim for claim in batch.claims.all()}
    result, errors, seen = [], [], set()
    for number, row in enumerate(rows, start=2):
        account = normalize_bank_account(_column(row, "收款账号"))
        sequence_text = _column(row, "序号")
        transfer = None
        if sequence_text.isdigit():
            transfer = transfers.get(int(sequence_text))
            if transfer is not None and transfer.account != account:
                errors.append((number, f"序号 {sequence_text} 的收款账号与付款通知不符"))
                continue
        elif len(by_account.get(account, [])) == 1:
            transfer = by_account[account][0]
        if transfer is None:
            errors.append((number, "在本付款通知中找不到该笔（序号或收款账号不符）"))
            continue
        try:
            amount = Decimal(_column(row, "金额").replace(",", ""))
        except InvalidOperation:
            errors.append((number, f"金额“{_column(row, '金额')}”不是有效的数字"))
            continue
        if amount != transfer.amount:
            errors.append((number, f"金额 {format_yuan(amount)} 元与付款通知中 {transfer.claim_number} 的 {format_yuan(transfer.amount)} 元不符"))
            continue
        if transfer.sequence in seen:
            errors.append((number, f"{transfer.claim_number} 在结果文件中出现了不止一次"))
            continue
        seen.add(transfer.sequence)
        outcome = _column(row, "结果", "处理结果", "交易状态", "状态").lower()
        reason = _column(row, "失败原因", "备注", "原因")
        if outcome in SUCCESS:
            result.append(ResultRow(number, claims[transfer.claim_id], True, ""))
        elif outcome in FAILURE:
            if len(reason) < 2:
                errors.append((number, "失败的一笔须写明失败原因"))
                continue
            result.append(ResultRow(number, claims[transfer.claim_id], False, reason))
        else:
            errors.append((number, f"结果“{outcome}”无法识别，应为“成功”或“失败”"))
    return ResultPreview(rows=result, errors=errors)


def bank_result_apply(*, batch: PaymentBatch, preview: ResultPreview, by, paid_on: date, reference: str = "") -> tuple[int, int]:
    """Record the bank's result: successful transfers paid, failed ones returned (退票) with the
    bank's reason. All rows or none: a refusal of any of them leaves everything as it was."""
    from reimbursement.services import payment_record, payment_return_record

    if preview.errors:
        raise DomainError(f"结果文件有 {len(preview.errors)} 行错误，请改正后重新导入。", code="errors")
    if not preview.rows:
        raise DomainError("结果文件没有可登记的行。", code="empty")
    pending = [r for r in preview.rows if r.claim.status == Claim.Status.PAYMENT_NOTIFIED]
    if len(pending) != len(preview.rows):
        done = "、".join(r.claim.number for r in preview.rows if r.claim.status != Claim.Status.PAYMENT_NOTIFIED)
        raise DomainError(f"以下申请已登记过支付或退票：{done}。结果文件未导入。", code="wrong_status")
    with transaction.atomic():
        for row in preview.failed:
            payment_return_record(claim=row.claim, by=by, reason=f"银行代发失败：{row.reason}", returned_on=paid_on)
        if preview.paid:
            payment_record(claims=[r.claim for r in preview.paid], by=by, paid_on=paid_on, reference=reference)
    return len(preview.paid), len(preview.failed)
