"""Reading small uploaded tables (CSV in UTF-8/UTF-8 BOM/GB18030, or XLSX) into dicts,
through the checks of core.safe_files (size, zip bombs, encoding, bounded records)."""

from __future__ import annotations

from datetime import date, datetime

from core import safe_files
from core.errors import DomainError


def decode_text(data: bytes) -> str:
    return safe_files.decode_text(data)[0]


def read_table(upload, *, limits: safe_files.TableLimits = safe_files.SMALL_TABLE) -> list[dict[str, str]]:
    """Rows of an upload under its header row, as {header: text}; the n-th dict is row n + 1."""
    name = getattr(upload, "name", "") or ""
    size = getattr(upload, "size", None)
    if size is not None:
        message = safe_files.upload_size_error(size, limits)
        if message:
            raise DomainError(message, code="too_large")
    data = upload.read(limits.max_upload_bytes + 1)
    records = safe_files.read_table_rows(data, name, limits)
    while records and not any(_cell_text(cell) for cell in records[0][1]):
        records.pop(0)
    if not records:
        raise DomainError("文件是空的，或缺少表头行。", code="empty")
    header = [_cell_text(cell) for cell in records[0][1]]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise DomainError("文件是空的，或缺少表头行。", code="empty")
    rows = []
    for number, cells in records[1:]:
        values = [_cell_text(cell) for cell in cells]
        # A blank line stays (as empty values): callers number rows by position
        # and skip empty ones, so the numbers match what Excel shows.
        if any(values[len(header):]):
            raise DomainError(f"第{number}行：列数多于表头，请检查是否有多余的逗号。", code="columns")
        rows.append({header[i]: values[i] if i < len(values) else "" for i in range(len(header))})
    return rows


def _cell_text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()
