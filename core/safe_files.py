"""Uploaded tables read safely: every import (settlements, online filings, the
working calendar, cross-province allotments) goes through here.

A crafted spreadsheet must never cost more than a refusal:

* each import has `TableLimits`: the upload's size, data rows, columns, the
  cells a reader allocates, the cell text once expanded, the archive's
  unpacked size;
* an XLSX is a zip archive. Before python-calamine opens it, `inspect_xlsx`
  checks the member count, each part's declared unpacked size and
  compression ratio, then inflates every part itself (declared sizes can
  lie) counting the real bytes, and scans the worksheets for their extent:
  calamine builds the whole sheet as one dense rows × columns block, and a
  process that runs out of memory there dies instead of raising (a 1.5 KB
  file with one cell at XFD1048576 is seventeen billion cells);
* a CSV is decoded as UTF-8, UTF-8 with BOM or GB18030 (domain.md §6), with
  Big5 recognised and refused rather than imported as mojibake; old Mac line
  endings (CR only) are read; records, rows and columns are capped.

Every refusal is a `DomainError` with a Chinese message the clerk can act on.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.errors import DomainError

MiB = 1024 * 1024


@dataclass(frozen=True)
class TableLimits:
    """What one import accepts. Rows are data rows (the header not counted)."""

    max_upload_bytes: int
    max_rows: int
    max_columns: int
    #: rows × columns of the block a spreadsheet reader allocates
    max_cells: int
    #: all cell text of a workbook, a shared string counted once per cell that uses it
    max_text_bytes: int
    #: every part of an XLSX archive unpacked, together
    max_unpacked_bytes: int
    max_members: int = 500
    #: unpacked ÷ packed for a part over `RATIO_FLOOR`; real sheets stay far below
    max_ratio: int = 200
    #: one CSV record
    max_record_bytes: int = 1 * MiB

    @property
    def upload_label(self) -> str:
        return _size_label(self.max_upload_bytes)


#: The small imports of the web pages: online filings, the calendar, allotments.
SMALL_TABLE = TableLimits(
    max_upload_bytes=5 * MiB,
    max_rows=20_000,
    max_columns=100,
    max_cells=1_000_000,
    max_text_bytes=50 * MiB,
    max_unpacked_bytes=100 * MiB,
)

#: Settlement records (domain.md §6): a province's month, up to Excel's last row.
SETTLEMENT_TABLE = TableLimits(
    max_upload_bytes=1024 * MiB,
    max_rows=1_048_575,
    max_columns=64,
    max_cells=16_000_000,
    max_text_bytes=1024 * MiB,
    max_unpacked_bytes=2048 * MiB,
)



def settlement_limits() -> TableLimits:
    """SETTLEMENT_TABLE with the upload size of this deployment (YIDI_SETTLEMENT_UPLOAD_MAX_MB)."""
    from dataclasses import replace

    from django.conf import settings

    megabytes = getattr(settings, "YIDI_SETTLEMENT_UPLOAD_MAX_MB", SETTLEMENT_TABLE.max_upload_bytes // MiB)
    return replace(SETTLEMENT_TABLE, max_upload_bytes=int(megabytes) * MiB)


RATIO_FLOOR = 1 * MiB
NOT_XLSX = "文件不是有效的 XLSX（可能是其他格式改了扩展名）：请在 Excel 或 WPS 中“另存为”Excel 工作簿（.xlsx）或 CSV 后重新上传。"
OLD_XLS = "这是旧版 Excel（.xls）文件：请在 Excel 或 WPS 中另存为 .xlsx 或 CSV 后重新上传。"


def _size_label(size: int) -> str:
    if size >= MiB:
        return f"{size / MiB:.0f} MB"
    return f"{max(size / 1024, 0.1):.1f} KB" if size < 1024 * 100 else f"{size / 1024:.0f} KB"


def _refuse(message: str, code: str = "unsafe_file") -> DomainError:
    return DomainError(message, code=code)


# --- Upload size --------------------------------------------------------------------


def upload_size_error(size: int, limits: TableLimits) -> str:
    """The refusal for an upload of `size` bytes, or "" when it may be read."""
    if size > limits.max_upload_bytes:
        return f"文件大小 {_size_label(size)}，超过本导入允许的 {limits.upload_label}：请分批导入。"
    return ""


def check_upload_size(upload, limits: TableLimits) -> None:
    """For forms' clean_file(): raises ValidationError with the Chinese refusal."""
    from django.core.exceptions import ValidationError

    message = upload_size_error(getattr(upload, "size", 0) or 0, limits)
    if message:
        raise ValidationError(message, code="too_large")


# --- XLSX: the archive and the worksheet's extent --------------------------------------


@dataclass
class XlsxExtent:
    """What the checks found (the tests and the refusals read it)."""

    members: int = 0
    unpacked_bytes: int = 0
    rows: int = 0  # the highest row number a worksheet uses (header included)
    columns: int = 0  # the highest column number
    cells: int = 0
    shared_text_bytes: int = 0


_TAG = re.compile(
    rb"<(?:[A-Za-z_][\w.\-]*:)?(row|c)(?=[\s/>])([^<>]*)>|<(?:[A-Za-z_][\w.\-]*:)?v>\s*(\d+)"
)
_REF = re.compile(rb'\br\s*=\s*["\']([A-Za-z]*)(\d*)["\']')
_SHARED = re.compile(rb'\bt\s*=\s*["\']s["\']')
_SI = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?si(?=[\s/>])(?:[^<>]*/>|.*?</(?:[A-Za-z_][\w.\-]*:)?si\s*>)", re.S)
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_READ = 1 * MiB


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + (letter - 64)
    return number


class _ArchiveReader:
    """Inflates a member from its raw bytes, so the real unpacked size is counted
    whatever the archive declares (a reader that believes a lying header
    would be inflating a bomb)."""

    def __init__(self, handle, limits: TableLimits, extent: XlsxExtent) -> None:
        self.handle = handle
        self.limits = limits
        self.extent = extent

    def chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        handle = self.handle
        handle.seek(info.header_offset)
        header = handle.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise _refuse(NOT_XLSX, "unreadable")
        fields = _LOCAL_HEADER.unpack(header)
        handle.seek(info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1])
        left = info.compress_size
        inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        member_bytes = 0
        while left > 0 or (inflater is not None and inflater.unconsumed_tail):
            if inflater is not None and inflater.unconsumed_tail:
                raw = inflater.unconsumed_tail
            else:
                raw = handle.read(min(_READ, left))
                if not raw:
                    raise _refuse(NOT_XLSX, "unreadable")
                left -= len(raw)
            if inflater is None:
                data = raw
            else:
                try:
                    data = inflater.decompress(raw, _READ)
                except zlib.error:
                    raise _refuse(NOT_XLSX, "unreadable") from None
            member_bytes += len(data)
            self.extent.unpacked_bytes += len(data)
            self._check_growth(info, member_bytes)
            if data:
                yield data
            if inflater is not None and inflater.eof:
                break

    def _check_growth(self, info: zipfile.ZipInfo, member_bytes: int) -> None:
        limits = self.limits
        if self.extent.unpacked_bytes > limits.max_unpacked_bytes:
            raise _refuse(
                f"XLSX 文件解压后超过 {_size_label(limits.max_unpacked_bytes)}，超出本导入的上限"
                "（可能是“压缩炸弹”类的异常文件）：请确认文件来源，或分批导入。"
            )
        if member_bytes > RATIO_FLOOR and member_bytes > limits.max_ratio * max(info.compress_size, 1):
            raise _refuse(
                f"XLSX 文件中的“{info.filename[:60]}”压缩比异常（解压后是压缩前的 {limits.max_ratio} 倍以上），"
                "不是正常的 Excel 表格，已拒绝读取。请确认文件来源，或在 Excel 中重新“另存为”后上传。"
            )


def inspect_xlsx(source: bytes | str | Path, limits: TableLimits) -> XlsxExtent:
    """Refuse (DomainError) an XLSX a reader could not open within `limits`."""
    handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(source, "rb")  # noqa: SIM115
    try:
        return _inspect(handle, limits)
    finally:
        handle.close()


def _inspect(handle, limits: TableLimits) -> XlsxExtent:
    try:
        archive = zipfile.ZipFile(handle)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise _refuse(NOT_XLSX, "unreadable") from None
    extent = XlsxExtent(members=len(infos))
    if len(infos) > limits.max_members:
        raise _refuse(f"XLSX 文件内含 {len(infos)} 个部件，超过 {limits.max_members} 个，不是正常的 Excel 表格，已拒绝读取。")
    names = {info.filename.lower() for info in infos}
    if "xl/workbook.xml" not in names:
        if "xl/workbook.bin" in names:
            raise _refuse("这是 Excel 二进制工作簿（.xlsb）：请另存为 .xlsx 或 CSV 后重新上传。", "unreadable")
        raise _refuse(NOT_XLSX, "unreadable")
    declared = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise _refuse("XLSX 文件已加密（设置了打开密码）：请取消密码后另存，再重新上传。", "unreadable")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse(NOT_XLSX, "unreadable")
        declared += info.file_size
        if declared > limits.max_unpacked_bytes:
            raise _refuse(
                f"XLSX 文件声明的解压后大小超过 {_size_label(limits.max_unpacked_bytes)}，超出本导入的上限"
                "（可能是“压缩炸弹”类的异常文件）：请确认文件来源，或分批导入。"
            )
        if info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise _refuse(
                f"XLSX 文件中的“{info.filename[:60]}”压缩比异常（解压后是压缩前的 {limits.max_ratio} 倍以上），"
                "不是正常的 Excel 表格，已拒绝读取。请确认文件来源，或在 Excel 中重新“另存为”后上传。"
            )
    reader = _ArchiveReader(handle, limits, extent)
    # Shared strings first (their lengths price the cells that use them); every
    # other part is inflated and scanned as a possible worksheet, duplicates too.
    shared = array("Q")
    ordered = sorted(infos, key=lambda info: not info.filename.lower().endswith("sharedstrings.xml"))
    for info in ordered:
        if info.filename.lower().endswith("sharedstrings.xml"):
            _scan_shared_strings(reader.chunks(info), shared, limits)
        elif info.filename.lower().endswith(".xml") or "/worksheets/" in info.filename.lower():
            _scan_cells(reader.chunks(info), shared, limits, extent)
        else:
            for _chunk in reader.chunks(info):
                pass
    return extent


def _pieces(chunks: Iterator[bytes], limits: TableLimits) -> Iterator[bytes]:
    """The XML in pieces that end just before a "<", so no tag and no <v> value is cut."""
    tail = b""
    for chunk in chunks:
        data = tail + chunk
        cut = data.rfind(b"<")
        if cut <= 0:
            tail = data
        else:
            yield data[:cut]
            tail = data[cut:]
        if len(tail) > limits.max_record_bytes:
            end = tail.find(b">")
            if end < 0:
                raise _refuse("XLSX 文件中的 XML 内容异常（一个标签超过 1 MB），不是正常的 Excel 表格，已拒绝读取。")
            yield tail[: end + 1]
            tail = b""  # text content without markup: nothing to count in it
    if tail:
        yield tail


def _scan_shared_strings(chunks: Iterator[bytes], shared: array, limits: TableLimits) -> None:
    # The bytes of an <si> element bound its text from above (entities only shrink).
    tail = b""
    for chunk in chunks:
        data = tail + chunk
        end = 0
        for match in _SI.finditer(data):
            shared.append(match.end() - match.start())
            end = match.end()
        tail = data[end:]
        if len(tail) > limits.max_text_bytes:
            raise _refuse(f"XLSX 文件中单个文字内容超过 {_size_label(limits.max_text_bytes)}，超出本导入的上限，已拒绝读取。")


class _CellScan:
    """The extent of one worksheet, piece by piece. The common piece (every
    <row> and <c> with its r="..." first, no namespace prefix) is measured
    with C-speed counts and findall; anything else is walked tag by tag."""

    def __init__(self, shared: array, limits: TableLimits, extent: XlsxExtent) -> None:
        self.shared = shared
        self.longest_shared = max(shared) if shared else 0
        self.limits = limits
        self.extent = extent
        self.row = 0  # the current row (for rows and cells without r="...")
        self.column = 0
        self.shared_cell = False

    def over(self) -> bool:
        extent, limits = self.extent, self.limits
        return (
            extent.rows > limits.max_rows + 1
            or extent.columns > limits.max_columns
            or extent.rows * extent.columns > limits.max_cells
            or extent.shared_text_bytes > limits.max_text_bytes
        )

    def piece(self, piece: bytes) -> None:
        if not self._quick(piece):
            self._exact(piece)

    def _quick(self, piece: bytes) -> bool:
        if b":c " in piece or b":row " in piece or b":c>" in piece or b":row>" in piece:
            return False
        cells = piece.count(b"<c ") + piece.count(b"<c>")
        rows = piece.count(b"<row ") + piece.count(b"<row>")
        letters = _QUICK_LETTERS.findall(piece)
        row_refs = _QUICK_ROW.findall(piece)
        if len(letters) != cells or len(row_refs) != rows:
            return False
        shared_cells = piece.count(b't="s"') if cells else 0
        extent = self.extent
        if shared_cells and extent.shared_text_bytes + shared_cells * self.longest_shared > self.limits.max_text_bytes:
            return False  # priced exactly, cell by cell
        extent.shared_text_bytes += shared_cells * self.longest_shared if shared_cells else 0
        extent.cells += cells
        if letters:
            extent.columns = max(extent.columns, max(map(_column_number, set(letters))))
            extent.rows = max(extent.rows, max(map(int, _QUICK_CELL_ROW.findall(piece))))
            self.column = _column_number(letters[-1])
        if row_refs:
            extent.rows = max(extent.rows, max(map(int, row_refs)))
            self.row = int(row_refs[-1])
        self.shared_cell = False
        return True

    def _exact(self, piece: bytes) -> None:
        extent, shared = self.extent, self.shared
        count = len(shared)
        for match in _TAG.finditer(piece):
            name = match.group(1)
            if name is None:  # <v>n</v>
                if self.shared_cell:
                    index = int(match.group(3)[:12])
                    if index < count:
                        extent.shared_text_bytes += shared[index]
                    self.shared_cell = False
                continue
            attributes = match.group(2)
            ref = _REF.search(attributes) if b"r" in attributes else None
            if name == b"row":
                self.row = int(ref.group(2)[:9]) if ref and ref.group(2) else self.row + 1
                self.column = 0
                extent.rows = max(extent.rows, self.row)
                continue
            extent.cells += 1
            if ref and ref.group(1):
                self.column = _column_number(ref.group(1)[:4])
                if ref.group(2):
                    extent.rows = max(extent.rows, int(ref.group(2)[:9]))
            else:
                self.column += 1
            extent.columns = max(extent.columns, self.column)
            self.shared_cell = not attributes.endswith(b"/") and bool(_SHARED.search(attributes))
            if extent.rows > self.limits.max_rows + 1:
                return


_QUICK_LETTERS = re.compile(rb'<c r="([A-Z]{1,3})\d{1,7}"')
_QUICK_CELL_ROW = re.compile(rb'<c r="[A-Z]{1,3}(\d{1,7})"')
_QUICK_ROW = re.compile(rb'<row r="(\d{1,7})"')


def _scan_cells(chunks: Iterator[bytes], shared: array, limits: TableLimits, extent: XlsxExtent) -> None:
    scan = _CellScan(shared, limits, extent)
    for piece in _pieces(chunks, limits):
        scan.piece(piece)
        if scan.over():
            break
    max_row, max_column, text = extent.rows, extent.columns, extent.shared_text_bytes
    if max_row > limits.max_rows + 1:
        raise _refuse(
            f"XLSX 工作表用到了第 {max_row} 行，超过本导入允许的 {limits.max_rows} 行数据：请删除多余的行，或分批导入。"
        )
    if max_column > limits.max_columns:
        raise _refuse(
            f"XLSX 工作表用到了第 {max_column} 列，超过本导入允许的 {limits.max_columns} 列：请删除多余的列（包括远处的空白格式单元格）后重新上传。"
        )
    if max_row * max_column > limits.max_cells:
        raise _refuse(
            f"XLSX 工作表的使用范围（{max_row} 行 × {max_column} 列）超过本导入允许的 {limits.max_cells} 个单元格："
            "请删除多余的行列（包括远处的空白格式单元格），或分批导入。"
        )
    if text > limits.max_text_bytes:
        raise _refuse(
            f"XLSX 工作表中的文字展开后超过 {_size_label(limits.max_text_bytes)}，超出本导入的上限，已拒绝读取。"
        )


def read_xlsx_rows(source: bytes | str | Path, limits: TableLimits) -> list[tuple[int, list]]:
    """(row number as the sheet shows it, cells) of the first worksheet, checked first."""
    inspect_xlsx(source, limits)
    from python_calamine import CalamineWorkbook

    try:
        if isinstance(source, (bytes, bytearray)):
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(source))
        else:
            workbook = CalamineWorkbook.from_path(str(source))
        sheet = workbook.get_sheet_by_index(0)
        start_row = (sheet.start or (0, 0))[0]
        return [(start_row + index + 1, list(row)) for index, row in enumerate(sheet.iter_rows())]
    except Exception:  # noqa: BLE001 - whatever the damage, the same advice, never a library's English
        raise _refuse(NOT_XLSX, "unreadable") from None


# --- Values typed with a Chinese input method ----------------------------------------

#: Full-width ASCII forms (１２３.４５, ２０２６－０３, ＡＢＣ) and the ideographic space.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def to_halfwidth(text: str) -> str:
    """Full-width digits, letters and signs as their ASCII forms. Only these:
    other scripts' digits or superscripts stay as they are and fail validation."""
    return text if text.isascii() else text.translate(_HALFWIDTH)


# --- CSV: encoding, line endings, bounded records ----------------------------------------

ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）", "gb18030": "GB18030"}


def _gb2312_common(char: str) -> bool:
    """A character Chinese text in GB18030 is mostly made of: ASCII, the GB2312
    punctuation rows and its 6,763 hanzi."""
    if char < "\x80":
        return True
    try:
        lead = char.encode("gb2312")[0]
    except UnicodeEncodeError:
        return False
    return lead in (0xA1, 0xA3) or 0xB0 <= lead <= 0xF7


def _big5_common(char: str) -> bool:
    """Big5's punctuation and its 5,401 frequent hanzi (A440–C67E)."""
    if char < "\x80":
        return True
    try:
        code = int.from_bytes(char.encode("big5"), "big")
    except UnicodeEncodeError:
        return False
    return 0xA140 <= code <= 0xA3BF or 0xA440 <= code <= 0xC67E


def big5_refusal(sample: bytes) -> str:
    """A refusal when `sample` (whole lines) reads as mojibake in GB18030 but as
    ordinary text in Big5, else "". Real GB18030 text is mostly GB2312 hanzi and
    rarely decodes as Big5 at all; Big5 bytes read as GB18030 give rare
    characters, kana and private-use code points."""
    try:
        as_gb = sample.decode("gb18030")
        as_big5 = sample.decode("big5")
    except UnicodeDecodeError:
        return ""
    gb_chars = [char for char in as_gb if char >= "\x80"]
    big5_chars = [char for char in as_big5 if char >= "\x80"]
    if len(big5_chars) < 2:
        return ""
    gb_share = sum(map(_gb2312_common, gb_chars)) / len(gb_chars)
    big5_share = sum(map(_big5_common, big5_chars)) / len(big5_chars)
    if big5_share < 0.9 or gb_share >= 0.8 or gb_share >= big5_share:
        return ""
    garbled, meant = _example(sample)
    return (
        f"文件看起来是 Big5（繁体中文）编码，不是系统接受的 UTF-8 或 GB18030：按 GB18030 读出来是乱码（如“{garbled}”，"
        f"按 Big5 应为“{meant}”）。为免导入乱码，已拒绝。请在 Excel 或记事本中“另存为”CSV UTF-8 后重新导入。"
    )


def _example(sample: bytes) -> tuple[str, str]:
    """(as read in GB18030, as meant in Big5) of the first line with a run of
    four or more non-ASCII characters (a name, not a two-character header)."""

    def longest_run(text: str) -> str:
        runs = re.findall(r"[^\x00-\x7f]+", text)
        return max(runs, key=len)[:12] if runs else ""

    best = ("", "")
    for line in sample.splitlines():
        try:
            pair = (longest_run(line.decode("gb18030")), longest_run(line.decode("big5")))
        except UnicodeDecodeError:
            continue
        if len(pair[1]) >= 4:
            return pair
        if len(pair[1]) > len(best[1]):
            best = pair
    return best


def whole_lines(data: bytes, size: int) -> bytes:
    """The first `size` bytes of `data` cut after a newline (no character split)."""
    if len(data) <= size:
        return data
    head = data[:size]
    cut = max(head.rfind(b"\n"), head.rfind(b"\r"))
    return head[: cut + 1] if cut >= 0 else b""


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a whole small file; refuses other encodings with the reason."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise _refuse("文件是 UTF-32 编码：请另存为“CSV UTF-8（逗号分隔）”或 CSV（GB18030），或 XLSX 后重新上传。", "encoding")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _refuse("文件是 UTF-16 编码（Excel 的“Unicode 文本”）：请另存为“CSV UTF-8（逗号分隔）”或 CSV（GB18030），或 XLSX 后重新上传。", "encoding")
    encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding == "utf-8-sig":
            raise _refuse(_undecodable(data, "utf-8-sig"), "encoding") from None
        refusal = big5_refusal(whole_lines(data, 256 * 1024))
        if refusal:
            raise _refuse(refusal, "encoding") from None
        encoding = "gb18030"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise _refuse(_undecodable(data, "gb18030"), "encoding") from None
    return text.lstrip("\ufeff"), encoding


def _undecodable(data: bytes, encoding: str) -> str:
    try:
        data.decode(encoding)
        return "无法识别文件编码：请保存为 UTF-8 或 GB18030（Excel“CSV”格式）的 CSV，或 XLSX。"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return (
            f"无法识别文件编码：第 {line} 行含有既不是 UTF-8 也不是 GB18030 的字节（0x{data[exc.start:exc.start + 1].hex().upper()}）。"
            "请用 Excel“另存为”CSV UTF-8 或 CSV（GB18030），或 XLSX 后重新上传。"
        )


def normalise_newlines(text: str) -> str:
    """Old Mac files (Excel "CSV (Macintosh)") end lines with CR alone."""
    if "\r" in text and "\n" not in text:
        return text.replace("\r", "\n")
    return text


def read_csv_rows(data: bytes, limits: TableLimits) -> list[tuple[int, list[str]]]:
    """(record number, header = 1, cells) of every record, blank ones included."""
    text, _encoding = decode_text(data)
    text = normalise_newlines(text)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise _refuse(f"第 {line} 行含有不可见的空字符（NUL），文件可能已损坏或不是文本文件：请在 Excel 中另存为 CSV 或 XLSX 后重新上传。", "unreadable")
    records: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(limits.max_record_bytes)
    try:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise _refuse(_csv_refusal(number + 1, exc), "unreadable") from None
            number += 1
            if number > limits.max_rows + 1:
                raise _refuse(f"文件超过本导入允许的 {limits.max_rows} 行数据：请分批导入。", "too_large")
            if len(cells) > limits.max_columns:
                raise _refuse(f"第 {number} 行有 {len(cells)} 列，超过本导入允许的 {limits.max_columns} 列：请检查是否有多余的逗号。", "columns")
            records.append((number, cells))
    finally:
        csv.field_size_limit(previous_limit)
    return records


def _csv_refusal(number: int, exc: csv.Error) -> str:
    text = str(exc)
    if "field larger" in text:
        return f"第 {number} 行有一格内容超过 1 MB，或引号没有成对（从引号处一直读到了文件末尾）：请检查该行。"
    if "new-line" in text:
        return f"第 {number} 行中间有单独的回车符：请在 Excel 中另存为 CSV 或 XLSX 后重新上传。"
    return f"第 {number} 行 CSV 格式有误（引号不成对或含有无法识别的内容）：请在 Excel 中另存为 CSV 或 XLSX 后重新上传。"


def read_table_rows(data: bytes, filename: str, limits: TableLimits) -> list[tuple[int, list]]:
    """A small upload, CSV or XLSX, as (row number, cells): every check above first."""
    message = upload_size_error(len(data), limits)
    if message:
        raise _refuse(message, "too_large")
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise _refuse(OLD_XLS, "unreadable")
    if (filename or "").lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return read_xlsx_rows(data, limits)
    return read_csv_rows(data, limits)
