"""Settlement-record import (domain.md §6): CSV (UTF-8, UTF-8 with BOM, GB18030)
or XLSX, header required, column order free.

Guarantees: every bad row is reported with its row number as the user sees it
(header = row 1) and the reason; nothing from a file with a bad row is written
(unless the user explicitly asked for the valid rows only); a settlement id
already in the database with the same content is skipped, so importing a file
twice adds nothing; the same id with different content is a bad row.

How it is fast (a month of 1,000,000 rows in about the time of PostgreSQL's
own COPY of the file):

* PostgreSQL, fast path: the file's bytes go unchanged into one
  ``COPY clearing_settlement FROM STDIN`` (the database decodes GB18030
  itself) while this process validates the same bytes, so validation runs
  beside the database's work instead of before it. Validation is chunked: a
  megabyte of lines is checked by one anchored regular expression built from
  the region table and the periods seen (codes, city pairs, types, dates in
  the period's window, amounts, lengths), in C; a chunk that does not match
  as a whole is checked row by row (`RowValidator`), which names every
  problem. What the expression cannot say (fund ≤ total) the table's CHECK
  constraint says, and its primary key catches duplicate ids. The fast path
  is abandoned (savepoint rolled back) for the staging path below at the
  first doubt: a bad row, a row not byte-for-byte what would be stored
  (spaces around values; then the cleaned values are sent instead), a row for
  a period whose notices are issued, or any error from the COPY. XLSX rows
  take the fast path with their cleaned values.
* Staging path (always on SQLite): the validated rows go into a temporary
  table; set-based SQL finds duplicates inside the file, ids already imported
  with different content and new rows for locked periods, then one
  ``INSERT … SELECT … ON CONFLICT (settlement_id) DO NOTHING``.

Row rules live in one place (`RowValidator`), so both paths and both
databases give the same messages.

The package: `columns` (what a file holds), `report`, `rows` (what a row may
contain), `sources` (reading CSV and XLSX) and `load` (the two paths). Callers
import from here; a test that changes a limit (CHUNK, MAX_RECORD) patches the
module that reads it (`sources`).
"""

from .columns import (
    ALIASES,
    CARE_TYPES,
    COLUMNS,
    INSURANCE_TYPES,
    LABELS,
    MAX_ID,
    MAX_INSTITUTION,
    Abandon,
    FileProblem,
)
from .load import PREVIEW_ROWS, ImportOptions, import_file
from .report import MAX_REPORTED_ERRORS, ImportReport, RowError
from .rows import ChunkMatcher, RegionBook, RowValidator
from .sources import (
    CsvSource,
    EncodingRestart,
    Header,
    LineParser,
    XlsxSource,
    file_checksum,
    open_source,
    parse_header,
)

__all__ = [
    "ALIASES",
    "CARE_TYPES",
    "COLUMNS",
    "INSURANCE_TYPES",
    "LABELS",
    "MAX_ID",
    "MAX_INSTITUTION",
    "MAX_REPORTED_ERRORS",
    "PREVIEW_ROWS",
    "Abandon",
    "ChunkMatcher",
    "CsvSource",
    "EncodingRestart",
    "FileProblem",
    "Header",
    "ImportOptions",
    "ImportReport",
    "LineParser",
    "RegionBook",
    "RowError",
    "RowValidator",
    "XlsxSource",
    "file_checksum",
    "import_file",
    "open_source",
    "parse_header",
]
