"""Hostile spreadsheets built at test time (each a few KB): zip bombs and the
like that a reader without core.safe_files would choke on."""

from __future__ import annotations

import io
import struct
import zipfile

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
_SHEET = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{}</sheetData></worksheet>'
HEADER_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>日期</t></is></c><c r="B1" t="inlineStr"><is><t>类型</t></is></c></row>'


def workbook(sheet_data: str, *, shared: list[str] | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", _SHEET.format(sheet_data))
        strings = "".join(f"<si><t>{text}</t></si>" for text in shared or [])
        archive.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{strings}</sst>',
        )
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def far_cell() -> bytes:
    """~1.5 KB: a header and one cell at XFD1048576. python-calamine would
    allocate 1,048,576 × 16,384 cells and the process would die."""
    return workbook(HEADER_ROW + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')


def far_cell_without_refs() -> bytes:
    """The same extent reached without r="..." attributes: 20,001 cells in one row."""
    return workbook(HEADER_ROW + "<row>" + "<c><v>1</v></c>" * 20_001 + "</row>")


def deflate_bomb(rows: int = 200_000) -> bytes:
    """~10 KB that inflate to ~10 MB of rows (ratio ~1000: real sheets stay near 10)."""
    return workbook(HEADER_ROW + "<row><c><v>1</v></c></row>" * rows)


def lying_deflate_bomb() -> bytes:
    """The deflate bomb with its sheet declaring 1 KB unpacked in both zip headers
    (a reader that believes headers would inflate it all)."""
    data = bytearray(deflate_bomb())
    name = b"xl/worksheets/sheet1.xml"
    local = 0
    while True:
        local = data.find(b"PK\x03\x04", local)
        length = struct.unpack_from("<H", data, local + 26)[0]
        if bytes(data[local + 30 : local + 30 + length]) == name:
            break
        local += 4
    struct.pack_into("<L", data, local + 22, 1024)
    central = data.find(b"PK\x01\x02")
    while True:
        length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + length]) == name:
            break
        central = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<L", data, central + 24, 1024)
    return bytes(data)


def shared_string_bomb(*, text_bytes: int = 20_000, cells: int = 3_000) -> bytes:
    """One long shared string used by every cell: small on disk, `text_bytes × cells` in memory."""
    import random

    chooser = random.Random(14)
    text = "".join(chooser.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(text_bytes))
    rows = "".join(f'<row r="{row}"><c r="A{row}" t="s"><v>0</v></c></row>' for row in range(2, cells + 2))
    return workbook(HEADER_ROW + rows, shared=[text])


def many_members(count: int = 600) -> bytes:
    return workbook(HEADER_ROW, extra={f"xl/media/p{i}.xml": b"<a/>" for i in range(count)})


BOMBS = {
    "far_cell": far_cell,
    "far_cell_without_refs": far_cell_without_refs,
    "deflate_bomb": deflate_bomb,
    "lying_deflate_bomb": lying_deflate_bomb,
    "many_members": many_members,
}
