"""Background jobs of the clearing (ids in, idempotent: a redelivered job
finds its documents already stored and stores nothing twice)."""

from __future__ import annotations

import copy

from django.db import connection
from django.db.utils import load_backend

from clearing import notices, services
from clearing.models import ClearingPeriod, EmergencyIncrease, ImportBatch
from core.document_batches import Batch, document_batch
from core.errors import DomainError
from core.jobs import job_handler
from core.models import Job
from core.storage import local_path

#: The forms this app archives, as the document list names them.
DOCUMENT_KINDS = {
    "clearing.annex02": "附件2 省内异地就医费用预付金明细表",
    "clearing.annex03": "附件3 省内异地就医预付金付款通知书",
    "clearing.annex04": "附件4 跨省异地就医费用预付金明细表",
    "clearing.annex05": "附件5 跨省异地就医预付金额度调整付款通知书",
    "clearing.annex06": "附件6 跨省异地就医预付金额度紧急调增通知书",
    "clearing.annex10": "附件10 异地就医医疗费用清算平衡总表",
    "clearing.annex11": "附件11 跨省异地就医费用清算明细表",
    "clearing.annex12": "附件12 跨省异地就医清算费用付款通知书",
    "clearing.annex13": "附件13 跨省异地就医清算费用收款通知书",
}


@job_handler("clearing.compute_period")
def compute_period(job, progress) -> dict:
    period = ClearingPeriod.objects.get(pk=job.params["period_id"])
    progress(0, 1, "正在汇总结算明细", force=True)
    period = services.clearing_compute(period=period, by=job.created_by)
    progress(1, 1, "完成", force=True)
    return {"summary": f"{period.label}清算已生成：{period.settlement_count} 条结算明细，基金支付合计 {period.fund_total} 元"}


@document_batch("clearing.render_period_notices")
def period_notices(job) -> Batch:
    period = ClearingPeriod.objects.get(pk=job.params["period_id"])
    if period.status not in (ClearingPeriod.Status.NOTICES_ISSUED, ClearingPeriod.Status.SETTLED, ClearingPeriod.Status.CLOSED):
        raise DomainError(f"{period.label}清算尚未下达通知书。")
    return Batch(notices.period_notice_files(period, by=job.created_by), what=f"{period.label}清算表和通知书")


@document_batch("clearing.render_advance_notices")
def advance_notices(job) -> Batch:
    year, scope = int(job.params["year"]), job.params["scope"]
    what = "省内预付金明细表和付款通知书" if scope == "intra" else "跨省预付金明细表和额度调整付款通知书"
    return Batch(notices.advance_notice_files(year, scope, by=job.created_by), what=f"{year}年{what}")


@document_batch("clearing.render_emergency_notices")
def emergency_notices(job) -> Batch:
    increase = EmergencyIncrease.objects.select_related("province", "basis_period").get(pk=job.params["increase_id"])
    return Batch(notices.emergency_notice_files(increase, by=job.created_by), what="紧急调增通知书")


class _SideChannelProgress:
    """Progress written over a second database connection, so the page sees it
    while the import's own transaction is still open (PostgreSQL). SQLite has
    one writer at a time: there the importer stages rows outside its final
    transaction and progress goes through the normal connection."""

    def __init__(self, job, progress) -> None:
        self.job = job
        self.progress = progress
        self.side = None
        if connection.vendor == "postgresql":
            # The settings of the live connection (under pytest: the test database).
            wrapper = load_backend(connection.settings_dict["ENGINE"]).DatabaseWrapper
            self.side = wrapper(copy.deepcopy(connection.settings_dict), alias="clearing_progress")

    def __call__(self, done: int, total: int, message: str) -> None:
        if self.side is None:
            if not connection.in_atomic_block:
                self.progress(done, total, message)
            return
        import time

        now = time.monotonic()
        if now - getattr(self, "_last", 0) < 0.5 and done < total:
            return
        self._last = now
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Job._meta.db_table} SET progress_done = %s, progress_total = %s, progress_message = %s,"
                " progress_in_bytes = TRUE WHERE id = %s",
                [done, total, message[:200], self.job.pk],
            )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def release_import_batch(job, reason: str) -> None:
    """on_failure of an import job (crash, lost worker, broker down, timeout): its batch
    ends “导入失败” with the reason, never “校验中”/“导入中”, and may be tried again. Nothing
    of the file was written (the import commits in one transaction)."""
    from core.jobs import BROKER_DOWN

    batch_id = job.params.get("batch_id")
    if reason == BROKER_DOWN:  # never started: the page says which step could not start
        services.import_batch_fail(batch_id=batch_id, reason=reason)
        return
    status = ImportBatch.objects.filter(pk=batch_id).values_list("status", flat=True).first()
    verb = "导入" if status == ImportBatch.Status.IMPORTING else "校验"
    written = "" if "未写入" in reason else "，文件中的数据均未写入"
    services.import_batch_fail(batch_id=batch_id, reason=f"{verb}未完成{written}：{reason}")


@job_handler("clearing.import_settlements", on_failure=release_import_batch, queue="imports")
def import_settlements(job, progress) -> dict:
    """Check (a dry run) or commit an uploaded settlement file. Whatever stops the
    work, the batch ends failed with the reason (never left 校验中 / 导入中)."""
    try:
        return _import_settlements(job, progress)
    except Exception as exc:
        release_import_batch(job, _import_failure(job, exc))
        raise


def _import_failure(job, exc: Exception) -> str:
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, SoftTimeLimitExceeded):
        return "处理超时，已停止，文件中的数据均未写入。请分批导入，或联系系统管理员。"
    return (
        f"处理时发生意外错误（{type(exc).__name__}），文件中的数据均未写入。"
        f"请联系系统管理员并告知任务编号 {job.pk}。"
    )


def _import_settlements(job, progress) -> dict:
    from clearing.importers import ImportOptions, import_file

    batch = ImportBatch.objects.select_related("created_by").get(pk=job.params["batch_id"])
    commit = bool(job.params.get("commit"))
    if commit and batch.status == ImportBatch.Status.IMPORTED:
        return {"summary": f"已导入（新增 {batch.inserted_count} 行）"}  # a redelivered job
    restrict = None
    if batch.region_id and batch.region.level == batch.region.Level.CITY:
        restrict = batch.region_id
    Job.objects.filter(pk=job.pk).update(progress_in_bytes=True)  # the importer counts the bytes it has read
    reporter = _SideChannelProgress(job, progress)
    try:
        # The uploaded file itself on local disk; a temporary copy on this host from shared storage.
        with local_path(batch.file) as path:
            report = import_file(
                path,
                display_name=batch.filename,
                options=ImportOptions(dry_run=not commit, skip_invalid=batch.skip_invalid, restrict_to=restrict,
                                      progress=reporter, by=batch.created_by),
            )
    finally:
        reporter.close()
    services.import_batch_apply_report(batch=batch, report=report, commit=commit)
    progress(1, 1, "完成", force=True)
    if report.refused:
        first = report.file_error or f"{report.error_count} 行有错误"
        return {"summary": f"校验未通过：{first}（文件中的数据均未写入）", "ok": False}
    if commit:
        return {"summary": f"已导入 {report.rows} 行：新增 {report.inserted} 行，已存在 {report.skipped} 行", "ok": True}
    return {"summary": f"校验通过：{report.rows} 行，将新增 {report.inserted} 行，已存在 {report.skipped} 行；请在预览页确认导入", "ok": True}
