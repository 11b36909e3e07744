"""Reading small uploaded tables (CSV in UTF-8/UTF-8 BOM/GB18030, or XLSX) into dicts."""

from __future__ import annotations

import csv
import io

from core.errors import DomainError

ENCODINGS = ("utf-8-sig", "gb18030")


def decode_text(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError("无法识别文件编码：请保存为 UTF-8 或 GB18030（Excel“CSV”格式）的 CSV，或 XLSX。", code="encoding")


def read_table(upload) -> list[dict[str, str]]:
    name = (getattr(upload, "name", "") or "").lower()
    data = upload.read()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        return _read_xlsx(data)
    text = decode_text(data)
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise DomainError("文件是空的，或缺少表头行。", code="empty")
    rows = []
    for row in reader:
        if None in row:  # DictReader files cells beyond the header under None
            raise DomainError(f"第{reader.line_num}行：列数多于表头，请检查是否有多余的逗号。", code="columns")
        rows.append({(k or "").strip(): (v or "").strip() for k, v in row.items()})
    return rows


def _read_xlsx(data: bytes) -> list[dict[str, str]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=True)
    except Exception as exc:
        raise DomainError(f"无法读取 XLSX 文件：{exc}", code="xlsx") from None
    if not rows:
        raise DomainError("文件是空的，或缺少表头行。", code="empty")
    header = [str(cell).strip() for cell in rows[0]]
    return [
        {header[i]: _cell_text(cell) for i, cell in enumerate(row) if i < len(header)}
        for row in rows[1:]
    ]


def _cell_text(cell) -> str:
    from datetime import date, datetime

    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()
