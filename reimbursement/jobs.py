"""Background jobs: the printable forms of claims and the payment-notice batches.

Idempotent: a retried job finds the document it already stored (core.documents
stores a key once per job).
"""

from __future__ import annotations

from core.documents import store_document
from core.errors import DomainError
from core.jobs import job_handler
from reimbursement import bank, printing
from reimbursement.models import Claim, ClaimNotice, PaymentBatch

CLAIM_DOCUMENT = "reimbursement.claim_document"
PAYMENT_NOTICE = "reimbursement.payment_notice"

FORM_TITLES = {
    ClaimNotice.Kind.MISSING_MATERIALS: "一次性告知书",
    ClaimNotice.Kind.RECEIPT: "受理回执",
    ClaimNotice.Kind.DELAY: "延期办理告知书",
    "settlement": "异地就医住院结算单",
}
DOCUMENT_KINDS = {
    **{f"reimbursement_{form}": title for form, title in FORM_TITLES.items()},
    "reimbursement_payment_notice": "零星报销付款通知书",
    "reimbursement_bank_file": "银行代发文件",
}
BANK_FILE_FORMATS = {
    "xlsx": (bank.render_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": (bank.render_csv, "text/csv; charset=gb18030"),
}


def bank_file_key(batch: PaymentBatch, fmt: str) -> str:
    return f"{batch.document_key}:bank:{fmt}"
RENDERERS = {
    ClaimNotice.Kind.MISSING_MATERIALS: printing.render_missing_materials_notice,
    ClaimNotice.Kind.RECEIPT: printing.render_receipt,
    ClaimNotice.Kind.DELAY: printing.render_delay_notice,
}


def settlement_key(claim: Claim) -> str:
    return f"reimbursement:claim:{claim.pk}:settlement"


@job_handler(CLAIM_DOCUMENT)
def generate_claim_document(job, progress) -> dict:
    form = job.params.get("form")
    if form not in FORM_TITLES:
        raise DomainError(f"未知的打印表单：{form}")
    claim = Claim.objects.select_related("person", "region").filter(pk=job.params.get("claim_id")).first()
    if claim is None:
        raise DomainError("申请已不存在。")
    progress(0, 1, f"正在生成{FORM_TITLES[form]}")
    if form == "settlement":
        from reimbursement.services import check_settlement_printable

        check_settlement_printable(claim)
        content = printing.render_settlement_statement(claim)
        key = settlement_key(claim)
        notice = None
    else:
        notice = ClaimNotice.objects.filter(pk=job.params.get("notice_id"), claim=claim).first()
        if notice is None:
            raise DomainError("告知记录已不存在。")
        content = RENDERERS[form](notice)
        key = notice.document_key
    title = f"{FORM_TITLES[form]}（{claim.number} {claim.person.name}）"
    document = store_document(
        kind=f"reimbursement_{form}",
        key=key,
        title=title,
        filename=f"{claim.number}-{FORM_TITLES[form]}.pdf",
        content=content,
        by=job.created_by,
        region=claim.region,
        period=f"{claim.received_on:%Y-%m}",
        job=job,
    )
    if notice is not None and notice.document_id != document.pk:
        ClaimNotice.objects.filter(pk=notice.pk).update(document=document)
    progress(1, 1, "完成", force=True)
    return {"document": document.pk, "summary": f"{title}已生成"}


@job_handler(PAYMENT_NOTICE)
def generate_payment_notice(job, progress) -> dict:
    batch = PaymentBatch.objects.select_related("region", "created_by").filter(pk=job.params.get("batch_id")).first()
    if batch is None:
        raise DomainError("付款通知批次已不存在。")
    total = batch.claim_count + 1
    progress(0, total, "正在汇总付款明细")

    def step(done: int, _count: int) -> None:
        progress(done, total, f"已汇总 {done}/{batch.claim_count} 笔")

    content = printing.render_payment_notice(batch, progress=step)
    document = store_document(
        kind="reimbursement_payment_notice",
        key=batch.document_key,
        title=f"零星报销付款通知书 {batch.number}",
        filename=f"{batch.number}-付款通知书.pdf",
        content=content,
        by=job.created_by,
        region=batch.region,
        period=f"{batch.created_at:%Y-%m}",
        job=job,
    )
    files = _store_bank_files(batch, job)
    progress(total, total, "完成", force=True)
    summary = f"付款通知书 {batch.number}：{batch.claim_count} 笔，合计 {batch.total_amount} 元"
    if files:
        summary += f"；银行代发文件 {files} 笔"
    return {"document": document.pk, "summary": summary}


def _store_bank_files(batch: PaymentBatch, job) -> int:
    """The bank's batch-transfer file beside the notice, in both formats (none once every
    claim of the batch has come back as 退票)."""
    try:
        transfers = bank.batch_transfers(batch)
    except DomainError as exc:
        if exc.code == "empty":
            return 0
        raise
    for fmt, (render, content_type) in BANK_FILE_FORMATS.items():
        store_document(
            kind="reimbursement_bank_file",
            key=bank_file_key(batch, fmt),
            title=f"银行代发文件 {batch.number}（{fmt.upper()}）",
            filename=f"{batch.number}-银行代发.{fmt}",
            content=render(transfers),
            by=job.created_by,
            region=batch.region,
            period=f"{batch.created_at:%Y-%m}",
            job=job,
            content_type=content_type,
            sealed=True,  # whole bank accounts, as the bank needs them
        )
    return len(transfers)
