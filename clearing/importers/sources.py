"""Reading settlement files: CSV (encoding sniffed, read in chunks of whole
lines) and XLSX, each giving the header and numbered rows; the file checksum."""

from __future__ import annotations

import codecs
import csv
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from clearing.importers.columns import ALIASES, COLUMNS, LABELS, Abandon, FileProblem
from core.safe_files import big5_refusal

logger = logging.getLogger(__name__)

CHUNK = 1 << 20
#: One CSV line (a settlement row is ~150 bytes): a file without line breaks is refused, not buffered.
MAX_RECORD = 1 << 20


@dataclass
class Header:
    positions: list[int]  # index in the file's row of each COLUMNS entry
    width: int
    passthrough: bool  # the file has exactly our columns (any order)
    file_columns: list[str]  # our column names in the file's order (for COPY)
    ignored: list[str]


def parse_header(cells: list[str]) -> Header:
    names: list[str | None] = []
    ignored: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells):
        raw = (cell or "").strip().lstrip("\ufeff").strip()
        key = raw.lower()
        name = key if key in COLUMNS else ALIASES.get(raw)
        if name is None:
            if raw:
                ignored.append(raw)
            names.append(None)
            continue
        if name in seen:
            raise FileProblem(f"表头中“{LABELS[name]}（{name}）”列出现了不止一次（第 {seen[name] + 1} 列和第 {index + 1} 列）。")
        seen[name] = index
        names.append(name)
    missing = [column for column in COLUMNS if column not in seen]
    if missing:
        if not seen:
            raise FileProblem(
                "没有找到表头：文件第 1 行应为列名 " + "、".join(COLUMNS) + "（顺序不限）。"
            )
        listed = "、".join(f"{column}（{LABELS[column]}）" for column in missing)
        raise FileProblem(f"缺少必需的列：{listed}。表头必须包含 {'、'.join(COLUMNS)}（顺序不限）。")
    trailing_blank = all(name is None and not (cells[i] or "").strip() for i, name in enumerate(names) if name is None)
    return Header(
        positions=[seen[column] for column in COLUMNS],
        width=len(cells),
        passthrough=not ignored and trailing_blank and len(seen) == len(cells),
        file_columns=[name for name in names if name],
        ignored=ignored,
    )


class EncodingRestart(Exception):
    pass


class CsvSource:
    """A CSV file on disk: sniffs the encoding, reads the header, then yields rows."""

    file_format = "CSV"

    def __init__(self, path: Path, display_name: str) -> None:
        self.path = Path(path)
        self.display_name = display_name
        self.size = self.path.stat().st_size
        self.encoding = ""
        self.pg_encoding = ""
        self.header: Header | None = None
        self.data_offset = 0
        self.failed_encodings: set[str] = set()
        #: Old Mac files (Excel "CSV (Macintosh)") end their lines with CR alone: read as LF.
        self.cr_only = False

    def open(self) -> None:
        with self.path.open("rb") as handle:
            head = handle.read(64 * 1024)
        if not head.strip():
            raise FileProblem("文件是空的：第 1 行应为表头，其后为数据行。")
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            raise FileProblem("文件是 UTF-32 编码：请另存为“CSV UTF-8（逗号分隔）”或 CSV（GB18030），或直接上传 XLSX。")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise FileProblem("文件是 UTF-16 编码（Excel 的“Unicode 文本”）：请另存为“CSV UTF-8（逗号分隔）”或 CSV（GB18030），或直接上传 XLSX。")
        if head[:4] == b"PK\x03\x04":
            raise FileProblem("这是 XLSX/ZIP 文件，但文件名不是 .xlsx：请确认文件类型。")
        self.cr_only = b"\r" in head and b"\n" not in head
        if self.cr_only:
            head = head.replace(b"\r", b"\n")
        self.encoding = self._sniff(head)
        if self.encoding == "gb18030":
            # The head may end inside a character: judge its whole lines.
            refusal = big5_refusal(head if len(head) >= self.size else head[: head.rfind(b"\n") + 1])
            if refusal:
                raise FileProblem(refusal)
        self._read_header()

    def _sniff(self, head: bytes) -> str:
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        for encoding in ("utf-8", "gb18030"):
            if encoding in self.failed_encodings:
                continue
            try:
                codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            except UnicodeDecodeError:
                continue
            return encoding
        raise self._undecodable(head, 0)

    def _undecodable(self, data: bytes, line_offset: int) -> FileProblem:
        try:
            data.decode("gb18030")
            position = None
        except UnicodeDecodeError as exc:
            position = exc.start
        if position is None:
            return FileProblem("无法识别文件编码：请保存为 UTF-8 或 GB18030 编码的 CSV，或 XLSX。")
        line = line_offset + data[:position].count(b"\n") + 1
        byte = data[position : position + 1].hex().upper()
        return FileProblem(
            f"无法识别文件编码：第 {line} 行含有既不是 UTF-8 也不是 GB18030 的字节（0x{byte}）。"
            "请用 Excel“另存为”CSV UTF-8 或 CSV（GB18030），或 XLSX 后重新导入。"
        )

    def _read_header(self) -> None:
        with self.path.open("rb") as handle:
            if self.cr_only:
                head = handle.read(MAX_RECORD)
                cut = head.find(b"\r")
                line = head[: cut + 1] if cut >= 0 else head
                self.data_offset = len(line)
            else:
                line = handle.readline(MAX_RECORD)
                self.data_offset = handle.tell()
        if len(line) >= MAX_RECORD and not line.endswith((b"\n", b"\r")):
            raise FileProblem(f"第 1 行（表头）超过 {MAX_RECORD // 1048576} MB：请确认这是结算明细的 CSV 文件。")
        try:
            text = line.decode(self.encoding)
        except UnicodeDecodeError as exc:
            raise self._undecodable(line, 0) from exc
        cells = next(csv.reader([text]), [])
        self.header = parse_header(cells)
        self.pg_encoding = "UTF8" if self.encoding.startswith("utf-8") else "GB18030"

    @property
    def encoding_label(self) -> str:
        return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）", "gb18030": "GB18030"}.get(self.encoding, self.encoding)

    def byte_chunks(
        self, *, sink: Callable[[bytes], None] | None = None, progress: Callable[[int], None] = lambda _: None
    ) -> Iterator[tuple[int, bytes]]:
        """(physical lines before it, raw bytes of whole lines) — every piece ends with
        a newline, so it decodes on its own: a newline byte never occurs inside a
        multibyte UTF-8 or GB18030 character. Every byte read is also handed to
        `sink` (the COPY)."""
        line_no = 1  # the header is line 1
        pending = b""
        position = self.data_offset
        with self.path.open("rb") as handle:
            handle.seek(self.data_offset)
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    if pending:
                        yield line_no, pending + b"\n"
                    return
                if self.cr_only:
                    chunk = chunk.replace(b"\r", b"\n")  # one byte for one: offsets stay true
                if sink is not None:
                    sink(chunk)
                position += len(chunk)
                progress(position)
                data = pending + chunk
                cut = data.rfind(b"\n") + 1
                pending = data[cut:]
                if len(pending) > MAX_RECORD:
                    long_line = line_no + data[:cut].count(b"\n") + 1
                    raise FileProblem(
                        f"第 {long_line} 行超过 {MAX_RECORD // 1048576} MB 仍没有换行：请确认这是结算明细的 CSV 文件。"
                    )
                if cut:
                    piece = data[:cut]
                    yield line_no, piece
                    line_no += piece.count(b"\n")

    def decode(self, line_no: int, piece: bytes) -> str:
        encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        try:
            return piece.decode(encoding)
        except UnicodeDecodeError as exc:
            if self.encoding == "utf-8":
                # The first 64 KB were plain ASCII or UTF-8 but the rest is not: try GB18030.
                self.failed_encodings.add("utf-8")
                raise EncodingRestart from exc
            raise self._undecodable_at(line_no + piece[: exc.start].count(b"\n") + 1) from exc

    def chunks(self, *, sink=None, progress: Callable[[int], None] = lambda _: None) -> Iterator[str]:
        """The data decoded in pieces of whole lines."""
        for line_no, piece in self.byte_chunks(sink=sink, progress=progress):
            yield self.decode(line_no, piece)

    def rows(self, *, sink=None, progress: Callable[[int], None] = lambda _: None, passthrough: bool = False) -> Iterator[tuple[int, list[str]]]:
        parser = LineParser(passthrough=passthrough)
        for text in self.chunks(sink=sink, progress=progress):
            yield from parser.rows(text)
        parser.close()

    def _undecodable_at(self, line: int) -> FileProblem:
        return FileProblem(
            f"无法识别文件编码：约第 {line} 行起含有无法按 {self.encoding_label} 解码的字节。"
            "请用 Excel“另存为”CSV UTF-8 或 CSV（GB18030），或 XLSX 后重新导入。"
        )


class LineParser:
    """CSV records from chunks of whole lines, numbered as the user sees them
    (the header is row 1; a blank line is a row too).

    Lines without a quote are split on commas (exactly what the csv module
    does with them, several times faster); a line with quotes goes through the
    csv module, joined with the following lines while a quoted field is open.
    With `passthrough` a value that itself contains a quote stops the byte
    pass-through (PostgreSQL and Python read stray quotes differently)."""

    def __init__(self, *, passthrough: bool = False) -> None:
        self.passthrough = passthrough
        self.row_no = 1
        self.open_record: list[str] | None = None
        self.open_since = 0

    def skip(self, lines: int) -> None:
        """`lines` plain lines were handled without parsing (the chunk matcher)."""
        self.row_no += lines

    def rows(self, text: str) -> Iterator[tuple[int, list[str]]]:
        lines = text.split("\n")
        lines.pop()  # after the final newline
        for line in lines:
            if line and line[-1] == "\r":
                line = line[:-1]
            if self.open_record is not None:
                self.open_record.append(line)
                if line.count('"') % 2 == 0:
                    continue
                line = "\n".join(self.open_record)
                self.open_record = None
            elif '"' in line or "\r" in line:
                if line.count('"') % 2 == 1:
                    self.open_record = [line]
                    self.open_since = self.row_no + 1
                    continue
            else:
                self.row_no += 1
                yield self.row_no, line.split(",")
                continue
            try:
                values = next(csv.reader([line]), [])
            except csv.Error as exc:
                raise FileProblem(_csv_problem(self.row_no + 1, exc)) from exc
            if self.passthrough and any('"' in value for value in values):
                raise Abandon("noncanonical")
            self.row_no += 1
            yield self.row_no, values

    def close(self) -> None:
        if self.open_record is not None:
            raise FileProblem(f"第 {self.open_since} 行起的引号没有闭合，直到文件结尾：请检查该行的引号是否成对。")


def _csv_problem(row_no: int, exc: csv.Error) -> str:
    if "new-line" in str(exc):
        return (
            f"第 {row_no} 行中间有单独的回车符（CR），与其他行的换行方式不同：请在 Excel 中另存为 CSV UTF-8 或 XLSX 后重新导入。"
        )
    return f"第 {row_no} 行 CSV 格式错误：请检查引号是否成对，或在 Excel 中另存为 CSV 后重新导入。"


class XlsxSource:
    """The first worksheet of an XLSX workbook, read with python-calamine."""

    file_format = "XLSX"
    encoding_label = "XLSX"
    pg_encoding = "UTF8"

    def __init__(self, path: Path, display_name: str) -> None:
        self.path = Path(path)
        self.display_name = display_name
        self.size = self.path.stat().st_size
        self.header: Header | None = None
        self._first_row = 0

    def open(self) -> None:
        from core.errors import DomainError
        from core.safe_files import SETTLEMENT_TABLE, inspect_xlsx

        try:
            # Before calamine: it builds the whole sheet in memory, and a crafted
            # file (zip bomb, one cell at XFD1048576) would kill the process.
            inspect_xlsx(self.path, SETTLEMENT_TABLE)
        except DomainError as exc:
            raise FileProblem(exc.message) from None
        sheet = self._sheet()
        for index, row in enumerate(sheet.iter_rows()):
            if any(_cell_text(cell, None) for cell in row):
                self._first_row = index
                self.header = parse_header([_cell_text(cell, None) for cell in row])
                return
        raise FileProblem("工作表是空的：第 1 行应为表头，其后为数据行。")

    def _sheet(self):
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_path(str(self.path))
            return workbook.get_sheet_by_index(0)
        except Exception as exc:
            logger.info("calamine could not read %s: %s", self.display_name, exc)
            raise FileProblem("无法读取 XLSX 文件：请确认文件没有损坏、不是加密文件，或在 Excel 中“另存为”后重新导入。") from exc

    def rows(self, *, sink=None, progress: Callable[[int], None] = lambda _: None, passthrough: bool = False) -> Iterator[tuple[int, list[str]]]:
        sheet = self._sheet()
        start_row = (sheet.start or (0, 0))[0]
        positions = self.header.positions
        width = self.header.width
        kinds = {positions[COLUMNS.index("period")]: "period", positions[COLUMNS.index("settled_on")]: "date"}
        total = max(sheet.height, 1)
        for index, row in enumerate(sheet.iter_rows()):
            if index <= self._first_row:
                continue
            if index % 10000 == 0:
                progress(int(self.size * index / total))
            values = [_cell_text(cell, kinds.get(position)) for position, cell in enumerate(row[:width])]
            if len(values) < width:
                values += [""] * (width - len(values))
            yield start_row + index + 1, values


def _cell_text(cell, kind: str | None) -> str:
    from datetime import datetime

    if cell is None:
        return ""
    if isinstance(cell, datetime):
        cell = cell.date()
    if isinstance(cell, date):
        return f"{cell:%Y-%m}" if kind == "period" else cell.isoformat()
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float):
        if cell.is_integer():
            return str(int(cell))
        return repr(cell)
    if isinstance(cell, int):
        return str(cell)
    return str(cell)


def open_source(path: Path, display_name: str | None = None):
    path = Path(path)
    name = display_name or path.name
    if name.lower().endswith((".xlsx", ".xlsm")):
        return XlsxSource(path, name)
    if name.lower().endswith(".xls"):
        raise FileProblem("不支持旧版 Excel 97-2003（.xls）文件：请另存为 XLSX 或 CSV。")
    return CsvSource(path, name)


def file_checksum(path: Path | str) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
