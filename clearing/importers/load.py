"""The import itself: validate every row, then the PostgreSQL COPY fast path or
the staging table, the set-based checks and the insert, in one transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction

from clearing.importers import sources
from clearing.importers.columns import COLUMNS, LABELS, Abandon, FileProblem
from clearing.importers.report import ImportReport
from clearing.importers.rows import ChunkMatcher, RegionBook, RowValidator
from clearing.importers.sources import CsvSource, EncodingRestart, LineParser, open_source

PREVIEW_ROWS = 10
STAGING = "clearing_import_staging"
TARGET = "clearing_settlement"


@dataclass
class ImportOptions:
    dry_run: bool = False
    skip_invalid: bool = False
    restrict_to: str | None = None  # a city-level uploader may only bring its own city's rows
    progress: Callable[[int, int, str], None] | None = None
    by: Any = None  # the user who imports (the audit trail names them); None on the command line


class _Finish(Exception):
    """Roll the whole import back: refused, or a dry run."""


def import_file(path: Path | str, *, display_name: str | None = None, options: ImportOptions | None = None) -> ImportReport:
    """Import one settlement file; the report says what happened (never raises for bad data)."""
    options = options or ImportOptions()
    started = time.monotonic()
    report = ImportReport(filename=display_name or Path(path).name, dry_run=options.dry_run, skip_invalid=options.skip_invalid)
    try:
        source = open_source(Path(path), display_name)
        for _attempt in range(2):
            try:
                source.open()
                _import(source, report, options)
                break
            except EncodingRestart:
                _reset(report)
                continue
    except FileProblem as exc:
        _reset(report)
        report.file_error = exc.message
        report.committed = False
    report.seconds = time.monotonic() - started
    return report


def _reset(report: ImportReport) -> None:
    report.rows = report.error_count = report.inserted = report.skipped = 0
    report.errors.clear()
    report.preview.clear()
    report.periods.clear()
    report.notes.clear()
    report.path = ""


def _import(source, report: ImportReport, options: ImportOptions) -> None:
    from clearing.models import ClearingPeriod

    report.encoding = source.encoding_label
    report.file_format = source.file_format
    report.ignored_columns = list(source.header.ignored)
    book = RegionBook.load()
    # A month holding only demo data is never locked: real rows replace the demo (services.period_yield_demo).
    locked = set(
        ClearingPeriod.objects.exclude(status__in=ClearingPeriod.EDITABLE).exclude(is_demo=True).values_list("period", flat=True)
    )
    say = _progress_reporter(source, options)
    if connection.vendor == "postgresql" and not options.skip_invalid and not _imported_before(source):
        passthrough = isinstance(source, CsvSource) and source.header.passthrough
        while True:
            validator = RowValidator(
                book, locked_periods=locked, restrict_to=options.restrict_to, strict=True, require_canonical=passthrough
            )
            outcome = _pg_fast_path(source, validator, report, options, say, passthrough=passthrough)
            if outcome == "done":
                return
            _reset(report)
            if outcome == "noncanonical" and passthrough:
                passthrough = False  # same fast path, cleaned values instead of the raw bytes
                continue
            break
    validator = RowValidator(book, locked_periods=locked, restrict_to=options.restrict_to)
    _staging_path(source, validator, report, options, say)


def _imported_before(source, sample: int = 20) -> bool:
    """Whether the file's first rows are already in the table (a re-import): then
    the COPY would only fail on the first duplicate id at its very end, so go
    straight to the staging path."""
    ids = []
    for _row_no, values in source.rows():
        if len(values) == source.header.width and values[source.header.positions[0]].strip():
            ids.append(values[source.header.positions[0]].strip())
        if len(ids) >= sample:
            break
    if not ids:
        return False
    from clearing.models import Settlement

    return Settlement.objects.filter(pk__in=ids).exists()


def _progress_reporter(source, options: ImportOptions) -> Callable[[int, str], None]:
    total = max(source.size, 1)
    callback = options.progress

    def say(done_bytes: int, message: str) -> None:
        if callback is not None:
            callback(min(done_bytes, total), total, message)

    return say


def _validate_rows(source, validator: RowValidator, report: ImportReport, *, sink=None, on_row=None, say) -> None:
    """Run every row through the validator; good rows go to `on_row` (if any)."""
    header = source.header
    width = header.width
    positions = header.positions
    identity = positions == list(range(len(COLUMNS))) and width == len(COLUMNS)
    check = validator.check
    add_error = report.add_error
    preview = report.preview
    strict = validator.strict
    rows = 0
    next_report = [0]

    def progress(position: int) -> None:
        if position >= next_report[0]:
            next_report[0] = position + sources.CHUNK * 4
            say(position, f"正在校验：已读 {position / 1048576:.0f} MB")

    def each_row(numbered_rows) -> None:
        nonlocal rows
        for row_no, values in numbered_rows:
            if len(values) != width or not values[0]:
                if not values or not any(value.strip() for value in values):
                    if strict and sink is not None:
                        raise Abandon("noncanonical")  # COPY would read a blank line as a row of NULLs
                    continue  # a blank line (or a row of empty cells): skipped, still counted
                if len(values) != width:
                    if strict:
                        raise Abandon("bad")
                    rows += 1
                    add_error(row_no, f"本行有 {len(values)} 列，与表头的 {width} 列不一致")
                    continue
            rows += 1
            clean, message = check(values if identity else [values[i] for i in positions])
            if clean is None:
                add_error(row_no, message)
                continue
            if len(preview) < PREVIEW_ROWS:
                preview.append(list(clean))
            if on_row is not None:
                on_row(row_no, clean)

    if isinstance(source, CsvSource):
        parser = LineParser(passthrough=sink is not None)
        # Whole chunks at once where that is exact: the canonical column order,
        # nothing to hand on row by row, no city restriction.
        chunked = identity and on_row is None and validator.restrict_to is None
        matcher: ChunkMatcher | None = None
        for line_no, piece in source.byte_chunks(sink=sink, progress=progress):
            if chunked and parser.open_record is None:
                if matcher is None or set(matcher.periods) != validator.good_periods:
                    matcher = ChunkMatcher(validator.book, validator.good_periods) if validator.good_periods else None
                counts = matcher.match(piece) if matcher is not None else None
                lines = piece.count(b"\n")
                if counts is not None and sum(counts.values()) == lines:
                    rows += lines
                    parser.skip(lines)
                    for period, count in counts.items():
                        if count:
                            validator.period_rows[period] = validator.period_rows.get(period, 0) + count
                    continue
            each_row(parser.rows(source.decode(line_no, piece)))
        parser.close()
    else:
        each_row(source.rows(sink=sink, progress=progress))
    report.rows = rows


def _pg_fast_path(source, validator: RowValidator, report: ImportReport, options: ImportOptions, say, *, passthrough: bool) -> str:
    """COPY straight into the settlement table while validating the same rows.

    "done" when the import is finished (committed, or a dry run rolled back);
    otherwise why the file needs another path (nothing was kept).
    """
    header = source.header
    if passthrough:
        columns = header.file_columns
        sql = f"COPY {TARGET} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, ENCODING '{source.pg_encoding}')"
    else:
        sql = f"COPY {TARGET} ({', '.join(COLUMNS)}) FROM STDIN"
    try:
        with transaction.atomic(), _quiet_psycopg():
            with connection.cursor() as cursor, cursor.copy(sql) as copy:
                write_row = copy.write_row
                _validate_rows(
                    source,
                    validator,
                    report,
                    sink=copy.write if passthrough else None,
                    on_row=None if passthrough else (lambda _row_no, clean: write_row(clean)),
                    say=say,
                )
            report.path = "copy"
            report.inserted = report.rows
            _summarise(validator, report)
            _finish(report, options)
    except Abandon as exc:
        return str(exc) or "bad"
    except _Finish:
        return "done"
    except (DatabaseError, _psycopg_error()):
        # An id already imported or twice in the file, or anything else the
        # database refused: the staging path finds and reports it row by row.
        return "refused"
    return "done"


@contextmanager
def _quiet_psycopg():
    """A COPY the database refuses (a duplicate id, fund > total) is expected
    here: the staging path then reports it in Chinese, row by row. psycopg would
    also log the refusal in English as "error ignored terminating Copy"."""
    logger = logging.getLogger("psycopg")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _finish(report: ImportReport, options: ImportOptions) -> None:
    """Inside the import's transaction: refuse, register the periods, or roll back a dry run."""
    if report.rows == 0 and not report.error_count:
        raise FileProblem("文件只有表头，没有数据行。")
    if report.refused:
        raise _Finish
    _register_periods(report, options)
    if options.dry_run:
        raise _Finish
    report.committed = True


def _psycopg_error():
    try:
        import psycopg

        return psycopg.Error
    except ImportError:  # pragma: no cover - SQLite-only installs
        return DatabaseError


def _staging_path(source, validator: RowValidator, report: ImportReport, options: ImportOptions, say) -> None:
    """Validated rows into a temporary table, set-based checks, one INSERT … SELECT.

    On SQLite the rows are staged before the final transaction opens, so the
    progress the job writes stays visible (one writer at a time there); the
    checks, the insert and the period bookkeeping run in one transaction. On
    PostgreSQL (progress goes over a second connection) everything runs in one
    savepoint, so a COPY broken off half-way leaves the caller's transaction
    usable, temporary table included.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic():
            _stage_and_insert(source, validator, report, options, say, drop_on_error=False)
    else:
        _stage_and_insert(source, validator, report, options, say, drop_on_error=True)


def _stage_and_insert(source, validator, report, options, say, *, drop_on_error: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} (row_no integer NOT NULL, settlement_id varchar(40) NOT NULL, "
            "period varchar(7) NOT NULL, insured_region varchar(6) NOT NULL, treatment_region varchar(6) NOT NULL, "
            "insurance_type varchar(3) NOT NULL, care_type varchar(10) NOT NULL, settled_on date NOT NULL, "
            "total_amount numeric(14, 2) NOT NULL, fund_amount numeric(14, 2) NOT NULL, institution varchar(200) NOT NULL)"
        )
        succeeded = False
        try:
            _stage_rows(cursor, source, validator, report, say)
            say(source.size, "正在核对结算流水号（文件内重复、已导入记录）")
            try:
                with transaction.atomic():
                    _set_checks(cursor, report, options, validator.locked_periods)
                    if not report.refused:
                        say(source.size, "正在写入结算明细")
                        _insert_from_staging(cursor, report)
                    report.path = "staging"
                    _summarise(validator, report)
                    _finish(report, options)
            except _Finish:
                pass
            succeeded = True
        finally:
            if succeeded or drop_on_error:
                cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")


def _stage_rows(cursor, source, validator: RowValidator, report: ImportReport, say) -> None:
    if connection.vendor == "postgresql":
        with cursor.copy(f"COPY {STAGING} FROM STDIN") as copy:
            write_row = copy.write_row
            _validate_rows(source, validator, report, on_row=lambda row_no, clean: write_row((row_no, *clean)), say=say)
        return

    insert = f"INSERT INTO {STAGING} VALUES ({', '.join(['%s'] * (len(COLUMNS) + 1))})"
    batch: list[tuple] = []

    def on_row(row_no: int, clean: tuple[str, ...]) -> None:
        batch.append((row_no, *clean))
        if len(batch) >= 5000:
            cursor.executemany(insert, batch)
            batch.clear()

    _validate_rows(source, validator, report, on_row=on_row, say=say)
    if batch:
        cursor.executemany(insert, batch)


COMPARED = ("period", "insured_region", "treatment_region", "insurance_type", "care_type", "settled_on", "total_amount", "fund_amount", "institution")


def _set_checks(cursor, report: ImportReport, options: ImportOptions, locked: set[str]) -> None:
    rejected: list[int] = []
    # A settlement id twice in the file: the later rows are bad.
    cursor.execute(
        f"SELECT s.row_no, s.settlement_id, f.first_row FROM {STAGING} s "
        f"JOIN (SELECT settlement_id, MIN(row_no) AS first_row FROM {STAGING} GROUP BY settlement_id HAVING COUNT(*) > 1) f "
        "ON f.settlement_id = s.settlement_id WHERE s.row_no > f.first_row ORDER BY s.row_no"
    )
    for row_no, settlement_id, first_row in cursor.fetchall():
        report.add_error(row_no, f"结算流水号“{settlement_id}”与第 {first_row} 行重复")
        rejected.append(row_no)
    # Already imported with different content (the same content is skipped quietly).
    differs = " OR ".join(f"s.{column} <> t.{column}" for column in COMPARED)
    selected = ", ".join(f"s.{column}, t.{column}" for column in COMPARED)
    cursor.execute(
        f"SELECT s.row_no, s.settlement_id, {selected} FROM {STAGING} s "
        f"JOIN {TARGET} t ON t.settlement_id = s.settlement_id WHERE {differs} ORDER BY s.row_no"
    )
    for record in cursor.fetchall():
        row_no, settlement_id, *pairs = record
        fields = [LABELS[column] for index, column in enumerate(COMPARED) if not _same(pairs[2 * index], pairs[2 * index + 1])]
        if not fields:
            continue
        report.add_error(row_no, f"结算流水号“{settlement_id}”已存在且内容不同（{'、'.join(fields)}与已导入的记录不一致）")
        rejected.append(row_no)
    # New rows for a period whose notices are out.
    if locked:
        marks = ", ".join(["%s"] * len(locked))
        cursor.execute(
            f"SELECT s.row_no, s.settlement_id, s.period FROM {STAGING} s WHERE s.period IN ({marks}) "
            f"AND NOT EXISTS (SELECT 1 FROM {TARGET} t WHERE t.settlement_id = s.settlement_id) ORDER BY s.row_no",
            sorted(locked),
        )
        for row_no, settlement_id, period in cursor.fetchall():
            report.add_error(
                row_no,
                f"清算所属期 {period} 的清算通知书已下达，不能再导入新的结算明细（结算流水号“{settlement_id}”），"
                "请以后续月份为清算所属期申报",
            )
            rejected.append(row_no)
    if rejected and options.skip_invalid:
        for start in range(0, len(rejected), 900):
            chunk = rejected[start : start + 900]
            cursor.execute(f"DELETE FROM {STAGING} WHERE row_no IN ({', '.join(['%s'] * len(chunk))})", chunk)


def _same(left, right) -> bool:
    if isinstance(left, (int, float, Decimal)) or isinstance(right, (int, float, Decimal)):
        try:
            return Decimal(str(left)) == Decimal(str(right))
        except ArithmeticError:
            return False
    return str(left) == str(right)


def _insert_from_staging(cursor, report: ImportReport) -> None:
    cursor.execute(f"SELECT COUNT(*) FROM {STAGING}")
    staged = cursor.fetchone()[0]
    cursor.execute(
        f"SELECT s.period, COUNT(*) FROM {STAGING} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {TARGET} t WHERE t.settlement_id = s.settlement_id) GROUP BY s.period"
    )
    new_by_period = dict(cursor.fetchall())
    inserted = 0
    if new_by_period:  # a file imported before has nothing new: no insert at all
        columns = ", ".join(COLUMNS)
        cursor.execute(
            f"INSERT INTO {TARGET} ({columns}) SELECT {columns} FROM {STAGING} WHERE true "
            "ON CONFLICT (settlement_id) DO NOTHING"
        )
        inserted = cursor.rowcount if cursor.rowcount is not None and cursor.rowcount >= 0 else sum(new_by_period.values())
    report.inserted = inserted
    report.skipped = staged - inserted
    report.periods = {period: {"inserted": count} for period, count in new_by_period.items()}


def _summarise(validator: RowValidator, report: ImportReport) -> None:
    inserted_by_period = {period: data.get("inserted", 0) for period, data in report.periods.items()}
    report.periods = {
        period: {
            "rows": count,
            "inserted": count if report.path == "copy" else inserted_by_period.get(period, 0),
        }
        for period, count in sorted(validator.period_rows.items())
    }


def _register_periods(report: ImportReport, options: ImportOptions) -> None:
    """Every period the file names exists afterwards; a computed one that got new
    rows is marked as needing recomputation."""
    from clearing.services import period_register_import

    report.notes = period_register_import(
        periods={period: data["inserted"] for period, data in report.periods.items()}, by=options.by, dry_run=options.dry_run
    )
