"""Settlement files uploaded on the import page: kept, checked and imported by a
background job, failed with a reason when the job cannot finish."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from clearing.models import ImportBatch
from clearing.services.common import _log
from core import safe_files
from core.audit import log_action
from core.errors import DomainError
from core.jobs import start_job
from core.models import AuditLog


def import_batch_create(*, upload, by, skip_invalid: bool = False) -> ImportBatch:
    """Keep an uploaded file and start checking it (a dry run) in the background."""
    import hashlib

    name = upload.name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    if not name.lower().endswith((".csv", ".txt", ".xlsx", ".xlsm")):
        raise DomainError("只能上传 CSV 或 XLSX 文件。")
    too_large = safe_files.upload_size_error(upload.size, safe_files.settlement_limits())
    if too_large:
        raise DomainError(too_large, code="too_large")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    region = by.region if by.region_code else None
    with transaction.atomic():
        batch = ImportBatch(
            filename=name, size=upload.size, sha256=digest.hexdigest(), created_by=by, region=region,
            source=ImportBatch.Source.UPLOAD, skip_invalid=skip_invalid,
        )
        batch.file.save(name, upload, save=False)
        batch.save()
        _log(batch, by, message=f"上传结算明细文件 {name}（{upload.size} 字节）", action=AuditLog.Action.IMPORT)
        import_batch_start(batch=batch, by=by, commit=False)
    return batch


def import_batch_start(*, batch: ImportBatch, by, commit: bool) -> Any:
    updated = ImportBatch.objects.filter(pk=batch.pk).exclude(status__in=[ImportBatch.Status.CHECKING, ImportBatch.Status.IMPORTING])
    if commit:
        if batch.status == ImportBatch.Status.IMPORTED:
            raise DomainError("这个文件已经导入。")
        if batch.status == ImportBatch.Status.REJECTED and not batch.skip_invalid:
            raise DomainError("文件校验未通过，不能导入；请修改后重新上传，或勾选“仅导入有效行”重新校验。")
        if batch.status not in (ImportBatch.Status.CHECKED, ImportBatch.Status.REJECTED, ImportBatch.Status.FAILED):
            raise DomainError("请先等待校验完成，查看预览后再确认导入。")
    status = ImportBatch.Status.IMPORTING if commit else ImportBatch.Status.CHECKING
    if not updated.update(status=status):
        raise DomainError("这个文件正在校验或导入，请稍候。")
    verb = "导入" if commit else "校验"
    job = start_job(
        kind="clearing.import_settlements",
        title=f"{verb}结算明细 {batch.filename}",
        by=by,
        params={"batch_id": batch.pk, "commit": commit},
        region=batch.region,
    )
    ImportBatch.objects.filter(pk=batch.pk).update(job=job)
    if commit:
        ImportBatch.objects.filter(pk=batch.pk).update(imported_by=by if getattr(by, "pk", None) else None)
    # After the job's dispatch (on_commit runs callbacks in order): a job that
    # could not be queued (broker down) fails its batch at once, with the reason.
    transaction.on_commit(lambda: import_batches_fail_lost_jobs(batch_id=batch.pk))
    return job


#: A batch in these states has a job at work on it (or about to have one).
IMPORT_BUSY = (ImportBatch.Status.UPLOADED, ImportBatch.Status.CHECKING, ImportBatch.Status.IMPORTING)
IMPORT_JOB_LOST = "后台任务已中断（服务重启、任务进程退出或超时），文件中的数据均未写入。请重新上传或重新确认导入。"


def import_batch_fail(*, batch_id: int, reason: str) -> bool:
    """Mark a settlement import that is being checked or imported as failed, with
    the reason its page shows. The one way an import job that cannot finish ends:
    the job's own failure (clearing.jobs), a job that could not be queued, and a
    job found dead or stale (`import_batches_fail_lost_jobs`) all come here.

    Runs in its own transaction: it holds even when the job's work was rolled
    back. False when the batch had already finished (nothing changes then)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id, status__in=IMPORT_BUSY).first()
        if batch is None:
            return False
        before = batch.status
        batch.status = ImportBatch.Status.FAILED
        batch.file_error = reason[:2000]
        batch.save(update_fields=["status", "file_error"])
        log_action(
            action=AuditLog.Action.TRANSITION, obj=batch, from_state=before, to_state=batch.status,
            message=f"结算明细文件 {batch.filename} 处理失败：{reason}"[:500], username="系统（后台任务）",
        )
    return True


def import_batches_fail_lost_jobs(*, batch_id: int | None = None) -> int:
    """Busy batches whose job has failed without finishing them (never queued: the
    broker was down; or marked failed as dead or stale) fail with the job's reason.
    One query when there is none (the import pages call it on every visit)."""
    from core.models import Job

    stuck = ImportBatch.objects.filter(status__in=IMPORT_BUSY, job__status=Job.Status.FAILED)
    if batch_id is not None:
        stuck = stuck.filter(pk=batch_id)
    failed = 0
    for pk, error in stuck.values_list("pk", "job__error"):
        failed += import_batch_fail(batch_id=pk, reason=error or IMPORT_JOB_LOST)
    return failed


def import_batch_apply_report(*, batch: ImportBatch, report, commit: bool) -> ImportBatch:
    """Store what the importer found on the batch."""
    from clearing.importers import ImportReport

    assert isinstance(report, ImportReport)
    now = timezone.now()
    batch.encoding = report.encoding
    batch.row_count = report.rows
    batch.error_count = report.error_count
    batch.file_error = report.file_error
    batch.errors = [error.as_json() for error in report.sorted_errors()[:2000]]
    batch.summary = report.summary_json()
    batch.preview = report.preview
    batch.seconds = round(report.seconds, 3)
    batch.inserted_count = report.inserted
    batch.skipped_count = report.skipped
    if commit:
        batch.status = ImportBatch.Status.IMPORTED if report.committed else ImportBatch.Status.REJECTED
        batch.imported_at = now if report.committed else None
    else:
        batch.status = ImportBatch.Status.CHECKED if report.ok else ImportBatch.Status.REJECTED
        batch.checked_at = now
    batch.save()
    if commit and report.committed:  # the import has committed: refresh the monitoring aggregates of its months
        from monitoring.services import summary_after_import

        summary_after_import(periods=[period for period, data in report.periods.items() if data.get("inserted")])
    return batch
