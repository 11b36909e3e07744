"""Upload to the provincial platform: the export of pending filings and the results read back."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core.audit import log_action
from core.errors import DomainError
from core.figures import figures_changed
from core.models import AuditLog, Region
from filings.models import (
    Filing,
    UploadAction,
    UploadBatch,
    UploadStatus,
)

# --- Provincial upload -------------------------------------------------------------------


def province_known(filing: Filing | None) -> Filing | None:
    """The filing of `filing`'s change chain (itself or an ancestor through `replaces`)
    that the provincial system knows: the nearest one that was uploaded. None when
    nothing of the chain ever reached the province."""
    seen = set()
    while filing is not None and filing.pk not in seen:
        seen.add(filing.pk)
        if filing.uploaded_at is not None or filing.upload_status in (UploadStatus.UPLOADED, UploadStatus.EXPORTED):
            return filing
        filing = filing.replaces
    return None


@transaction.atomic
def upload_export(*, by, file_format: str = "xlsx") -> list[UploadBatch]:
    """Export the filings waiting for the provincial system (new, changed, cancelled,
    补录) and mark them exported (已导出) until the province's result file says 已上传
    or 失败 (upload_result_apply): one batch and file per pooling region, so province-level
    staff exporting for every city get each city's own file. Rows are locked, so two
    clerks exporting at once never hand the same filing up twice."""
    from filings.resources import EXPORT_FORMATS

    if file_format not in EXPORT_FORMATS:
        raise DomainError("导出格式只能是 XLSX 或 CSV。", code="format")
    if by.region is None and not by.sees_all_regions:
        raise DomainError("您的账号没有所属经办机构，不能导出上传文件。", code="no_region")
    visible = Filing.objects.for_user(by).filter(upload_status=UploadStatus.PENDING).values_list("pk", flat=True)
    locked = list(
        Filing.objects.select_for_update()
        .filter(pk__in=list(visible), upload_status=UploadStatus.PENDING)
        .values_list("pk", "insured_region_id")
    )
    if not locked:
        raise DomainError("没有待上传省平台的备案。", code="nothing")
    by_region: dict[str, list[int]] = {}
    for pk, region_code in locked:
        by_region.setdefault(region_code, []).append(pk)
    regions = Region.objects.in_bulk(list(by_region))
    now = timezone.now()
    return [
        _export_batch(region=regions[code], pks=by_region[code], by=by, file_format=file_format, now=now)
        for code in sorted(by_region)
    ]


def _export_batch(*, region: Region, pks: list[int], by, file_format: str, now) -> UploadBatch:
    from core.documents import store_document
    from filings.resources import EXPORT_FORMATS, FilingUploadResource, upload_file_content

    filings = (
        Filing.objects.filter(pk__in=pks)
        .select_related("insured_person", "insured_region", "destination", "created_by",
                        "replaces__replaces__replaces")
        .order_by("upload_pending_since", "pk")
    )
    dataset = FilingUploadResource().export(queryset=filings)
    content = upload_file_content(dataset, file_format)
    counts = {action: 0 for action in UploadAction.values}
    for filing in filings:
        counts[filing.upload_action or UploadAction.NEW] += 1
    batch = UploadBatch.objects.create(
        region=region, created_by=by, file_format=file_format, count_new=counts[UploadAction.NEW],
        count_change=counts[UploadAction.CHANGE], count_cancel=counts[UploadAction.CANCEL],
        count_backfill=counts[UploadAction.BACKFILL],
    )
    stamp = timezone.localtime(now)
    batch.document = store_document(
        kind="filing_upload",
        key=f"filing-upload:{batch.pk}",
        title=f"{region.name}异地就医备案上传省平台 {stamp:%Y-%m-%d %H:%M}（{len(pks)}条）",
        filename=f"filing-upload-{region.code}-{stamp:%Y%m%d-%H%M%S}.{file_format}",
        content=content,
        by=by,
        region=region,
        period=f"{stamp:%Y-%m}",
        content_type=EXPORT_FORMATS[file_format]().get_content_type(),
        sealed=True,  # whole ID numbers, as the provincial platform needs them
    )
    batch.save(update_fields=["document"])
    updated = Filing.objects.filter(pk__in=pks, upload_status=UploadStatus.PENDING).update(
        upload_status=UploadStatus.EXPORTED, upload_batch=batch
    )
    if updated != len(pks):  # pragma: no cover - the rows were locked above
        raise DomainError("导出期间备案状态发生变化，请重试。", code="race")
    figures_changed("filings", region.code)  # a bulk update sends no save signals
    log_action(
        action=AuditLog.Action.EXPORT, user=by, obj=batch,
        message=f"导出上传省平台（{region.name}）：{batch.summary}",
        data={"filings": pks},
    )
    return batch


@dataclass(frozen=True)
class UploadResult:
    row: int
    number: str
    success: bool
    reason: str


def read_upload_results(rows: list[dict[str, str]]) -> tuple[list[UploadResult], list[tuple[int, str]]]:
    """The provincial system's result file: 备案编号, 结果 (成功/失败), 失败原因; spreadsheet row numbers."""
    if not rows:
        raise DomainError("结果文件没有数据行。", code="empty")
    if "备案编号" not in rows[0] or not {"结果", "上传结果", "处理结果"} & set(rows[0]):
        raise DomainError("结果文件须包含“备案编号”和“结果”两列（另可有“失败原因”）。", code="columns")
    results, errors, seen = [], [], set()
    for number, row in enumerate(rows, start=2):
        code = (row.get("备案编号") or "").strip().upper()
        outcome = next((row[name] for name in ("结果", "上传结果", "处理结果") if row.get(name)), "").strip()
        reason = (row.get("失败原因") or row.get("原因") or "").strip()
        if not code:
            errors.append((number, "备案编号为空"))
        elif code in seen:
            errors.append((number, f"备案编号 {code} 重复出现"))
        elif outcome not in ("成功", "失败"):
            errors.append((number, f"结果“{outcome}”无法识别，应为“成功”或“失败”"))
        elif outcome == "失败" and len(reason) < 2:
            errors.append((number, "失败的一条须写明失败原因"))
        else:
            seen.add(code)
            results.append(UploadResult(number, code, outcome == "成功", reason[:300]))
    return results, errors


@transaction.atomic
def upload_result_apply(*, rows: list[dict[str, str]], by) -> tuple[int, int]:
    """Record the province's answer to exported filings: 成功 → 已上传; 失败 → back in the
    upload queue with the reason, to be corrected and exported again. All rows or none."""
    results, errors = read_upload_results(rows)
    numbers = [result.number for result in results]
    exported = {
        filing.number: filing
        for filing in Filing.objects.for_user(by).select_for_update()
        .filter(number__in=numbers, upload_status=UploadStatus.EXPORTED)
    }
    errors += [(r.row, f"备案编号 {r.number} 不在已导出待回执的备案中（已处理过、未导出或不属于本统筹区）")
               for r in results if r.number not in exported]
    if errors:
        raise DomainError(
            "结果文件有错误，未登记任何一条：\n" + "\n".join(f"第 {row} 行：{why}" for row, why in sorted(errors)),
            code="errors",
        )
    now = timezone.now()
    for result in results:
        filing = exported[result.number]
        if result.success:
            filing.upload_status, filing.uploaded_at, filing.upload_error = UploadStatus.UPLOADED, now, ""
            message = "省平台回执：上传成功"
        else:
            filing.upload_status, filing.upload_error = UploadStatus.PENDING, result.reason
            message = f"省平台回执：上传失败（{result.reason}），退回待上传"
        filing.save(update_fields=["upload_status", "uploaded_at", "upload_error"])
        log_action(action=AuditLog.Action.TRANSITION, user=by, obj=filing, from_state=UploadStatus.EXPORTED,
                   to_state=filing.upload_status, message=message)
    ok = sum(1 for r in results if r.success)
    return ok, len(results) - ok
