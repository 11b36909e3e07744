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
"""

from __future__ import annotations

import codecs
import csv
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction

from clearing import rules
from core.jurisdictions import rules_for
from core.reference import home_province_code
from core.safe_files import big5_refusal, to_halfwidth

logger = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = (
    "settlement_id",
    "period",
    "insured_region",
    "treatment_region",
    "insurance_type",
    "care_type",
    "settled_on",
    "total_amount",
    "fund_amount",
    "institution",
)
LABELS = {
    "settlement_id": "结算流水号",
    "period": "清算所属期",
    "insured_region": "参保地",
    "treatment_region": "就医地",
    "insurance_type": "险种类型",
    "care_type": "医疗类别",
    "settled_on": "结算日期",
    "total_amount": "总费用",
    "fund_amount": "基金支付合计",
    "institution": "定点医药机构",
}
#: The Chinese column names are accepted too (files exported from the provincial system).
ALIASES = {label: column for column, label in LABELS.items()} | {
    "结算流水号": "settlement_id",
    "清算月份": "period",
    "所属期": "period",
    "参保地代码": "insured_region",
    "就医地代码": "treatment_region",
    "险种": "insurance_type",
    "医疗类型": "care_type",
    "基金支付": "fund_amount",
    "医疗机构": "institution",
}
INSURANCE_TYPES = {"310": "职工", "390": "城乡居民"}
CARE_TYPES = {"inpatient": "住院", "outpatient": "门诊", "chronic": "门诊慢特病"}
MAX_INSTITUTION = 200
MAX_ID = 40
#: How many row errors a report keeps (the count is always exact).
MAX_REPORTED_ERRORS = 100_000
PREVIEW_ROWS = 10
CHUNK = 1 << 20
#: One CSV line (a settlement row is ~150 bytes): a file without line breaks is refused, not buffered.
MAX_RECORD = 1 << 20
STAGING = "clearing_import_staging"
TARGET = "clearing_settlement"

#: No spaces, NUL, byte-order marks or zero-width and direction marks in an id.
_ID_OK = re.compile(r"[^\s\x00\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]{1," + str(MAX_ID) + "}").fullmatch
#: One settlement is at most 999,999,999.99 yuan (nine digits before the point).
MAX_AMOUNT_DIGITS = 9
AMOUNT_PATTERN = r"\d{1," + str(MAX_AMOUNT_DIGITS) + r"}(?:\.\d{1,2})?"
# ASCII digits only: Python's \d also matches other scripts' digits, which the
# database cannot read as numbers (full-width ones are turned half-width first).
_AMOUNT_OK = re.compile(AMOUNT_PATTERN, re.ASCII).fullmatch
_TOO_BIG = re.compile(r"\d+(?:\.\d{1,2})?", re.ASCII).fullmatch
_NEGATIVE = re.compile(r"-\s*\d+(?:\.\d+)?", re.ASCII).fullmatch
_DATE_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII).fullmatch
_CODE_SHAPE = re.compile(r"\d{6}", re.ASCII).fullmatch


class Abandon(Exception):
    """Leave the fast path (its savepoint is rolled back) for the staging path."""


class FileProblem(Exception):
    """The file as a whole cannot be read (encoding, header, format)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Report ------------------------------------------------------------------------


@dataclass
class RowError:
    row: int
    message: str

    def as_json(self) -> list:
        return [self.row, self.message]


@dataclass
class ImportReport:
    filename: str
    encoding: str = ""
    file_format: str = ""
    rows: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    inserted: int = 0
    skipped: int = 0
    periods: dict[str, dict[str, Any]] = field(default_factory=dict)
    preview: list[list[str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    #: lines about what the import did besides inserting (demo data a real file replaced)
    notes: list[str] = field(default_factory=list)
    path: str = ""
    seconds: float = 0.0
    committed: bool = False
    dry_run: bool = False
    skip_invalid: bool = False

    @property
    def ok(self) -> bool:
        return not self.file_error and (self.error_count == 0 or self.skip_invalid)

    @property
    def refused(self) -> bool:
        return not self.ok

    def add_error(self, row: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, message))

    def sorted_errors(self) -> list[RowError]:
        return sorted(self.errors, key=lambda error: error.row)

    @property
    def errors_truncated(self) -> bool:
        return self.error_count > len(self.errors)

    def summary_line(self) -> str:
        name = self.filename
        if self.file_error:
            return f"{name}：未导入。{self.file_error}"
        if self.refused:
            return f"{name}：未导入（本文件的数据均未写入）。共 {self.rows} 行数据，其中 {self.error_count} 行有错误："
        verb = "校验通过，可以导入" if self.dry_run else "已导入"
        parts = [f"{name}：{verb} {self.rows} 行"]
        if self.dry_run:
            parts.append(f"（将新增 {self.inserted} 行，已存在 {self.skipped} 行）")
        else:
            parts.append(f"（新增 {self.inserted} 行，已存在未重复导入 {self.skipped} 行）")
        if self.skip_invalid and self.error_count:
            parts.append(f"；按要求跳过有错误的 {self.error_count} 行")
        parts.append(f"；编码 {self.encoding}；用时 {self.seconds:.2f} 秒")
        return "".join(parts)

    def text(self) -> str:
        """The row-numbered report the command prints."""
        lines = [self.summary_line()]
        if self.error_count:
            lines += [f"  第 {error.row} 行：{error.message}" for error in self.sorted_errors()]
            if self.errors_truncated:
                lines.append(f"  ……另有 {self.error_count - len(self.errors)} 行错误未逐条列出。")
        if self.ignored_columns:
            lines.append(f"  （已忽略不认识的列：{'、'.join(self.ignored_columns)}）")
        if self.committed or (self.dry_run and self.ok):
            lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)

    def summary_json(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "format": self.file_format,
            "path": self.path,
            "periods": self.periods,
            "ignored_columns": self.ignored_columns,
            "notes": self.notes,
            "dry_run": self.dry_run,
        }


# --- What a row may contain --------------------------------------------------------


@dataclass(frozen=True)
class RegionBook:
    """Which region codes a settlement may name (decided here, tested in test_importers):

    * a code of our province must be one of its cities (320000 itself or an
      unknown 32xxxx code is an unknown region);
    * a code of another province is accepted when its first two digits are one of
      the 31 provinces (330100 杭州, 440300 深圳, 110000 北京); clearing folds it into
      its province;
    * anything else is an unknown region.
    """

    home_province: str
    cities: dict[str, str]  # code -> name
    provinces: dict[str, str]  # two-digit prefix -> short name

    @classmethod
    def load(cls) -> RegionBook:
        from core.models import Region

        cities = dict(Region.objects.cities_of(home_province_code()).values_list("code", "name"))
        provinces = {code[:2]: name for code, name in Region.objects.provinces().values_list("code", "short_name")}
        return cls(home_province=home_province_code(), cities=cities, provinces=provinces)

    @property
    def home_name(self) -> str:
        return self.provinces.get(self.home_province[:2], self.home_province)

    def check(self, code: str, label: str) -> tuple[str | None, str]:
        """(area code, "") or (None, message)."""
        if not code:
            return None, f"{label}代码为空"
        if not _CODE_SHAPE(code):
            return None, f"{label}代码“{code}”格式不正确，应为6位数字的地区代码（GB/T 2260）"
        if code in self.cities:
            return code, ""
        prefix = code[:2]
        if prefix == self.home_province[:2]:
            if code == self.home_province:
                return None, f"{label}代码“{code}”为未知地区：{self.home_name}省内结算应填写设区市代码，不能填写省级代码"
            return None, f"{label}代码“{code}”为未知地区：不是{self.home_name}的设区市代码"
        if prefix not in self.provinces:
            return None, f"{label}代码“{code}”为未知地区：前两位“{prefix}”不是省级行政区划代码"
        return rules.province_of(code), ""


class RowValidator:
    """Checks one row at a time and names every problem of a bad row.

    Values that repeat (periods, regions, dates, types) are checked once and
    remembered, so the common row costs two lookups and three short regular
    expressions."""

    def __init__(
        self,
        book: RegionBook,
        *,
        locked_periods: set[str],
        restrict_to: str | None = None,
        strict: bool = False,
        require_canonical: bool = False,
    ) -> None:
        self.book = book
        self.locked_periods = locked_periods
        self.restrict_to = restrict_to
        #: Fast path: give up (raise Abandon) at the first bad row or row of a locked period.
        self.strict = strict
        #: Byte pass-through: also give up at a row that is not byte-for-byte what would be stored.
        self.require_canonical = require_canonical
        self.areas = rules.Areas(book.home_province, tuple(book.cities))
        #: (period, settled_on, insurance_type, care_type) as given -> (valid and in stored form, locked period)
        self._rest: dict[tuple[str, str, str, str], tuple[bool, bool]] = {}
        #: (insured_region, treatment_region) as given -> valid and in stored form
        self._pairs: dict[tuple[str, str], bool] = {}
        #: period -> rows (valid rows only)
        self.period_rows: dict[str, int] = {}
        #: periods that were valid and not locked, for the chunk matcher
        self.good_periods: set[str] = set()
        self.locked_rows = 0
        self.canonical = True

    # Each helper returns (clean value, message); the clean value equals the raw
    # one unless surrounding spaces were removed.

    def _period(self, raw: str) -> tuple[str, str]:
        value = to_halfwidth(raw).strip()
        if not value.isascii():
            return value, f"清算所属期“{value}”格式不正确，应为 YYYY-MM（如 2026-03），数字请用半角"
        try:
            rules.parse_period(value)
        except ValueError as exc:
            return value, str(exc)
        return value, ""

    def _pair(self, insured_raw: str, treatment_raw: str) -> tuple[str, str, str, str]:
        insured, treatment = to_halfwidth(insured_raw).strip(), to_halfwidth(treatment_raw).strip()
        insured_area, insured_error = self.book.check(insured, "参保地")
        treatment_area, treatment_error = self.book.check(treatment, "就医地")
        messages = [message for message in (insured_error, treatment_error) if message]
        scope = ""
        if not messages:
            scope = self.areas.scope_of(insured_area, treatment_area) or ""
            if not scope:
                if insured_area == treatment_area and insured_area in self.book.cities:
                    name = self.book.cities[insured_area]
                    messages.append(f"参保地与就医地是同一设区市（{insured} {name}），不属于异地就医结算")
                else:
                    messages.append(
                        f"参保地（{insured}）与就医地（{treatment}）都不在{self.book.home_name}，不属于本省清算范围"
                    )
            elif self.restrict_to and self.restrict_to not in (insured, treatment):
                name = self.book.cities.get(self.restrict_to, self.restrict_to)
                messages.append(f"参保地（{insured}）与就医地（{treatment}）都不是{name}，本单位只能导入涉及{name}的结算明细")
        return insured, treatment, scope, "；".join(messages)

    def _date(self, raw: str, period: str, period_ok: bool) -> tuple[str, str]:
        value = to_halfwidth(raw).strip()
        if not value:
            return value, "结算日期为空"
        if not _DATE_SHAPE(value):
            return value, f"结算日期“{value}”格式不正确，应为 YYYY-MM-DD（如 2026-03-14）"
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value, f"结算日期“{value}”不是有效日期"
        if not period_ok:
            return value, ""
        lag = rules.late_months(day, period)
        if lag < 0:
            return value, f"结算日期 {value} 晚于清算所属期 {period}，不能纳入该期清算"
        if lag > rules.MAX_LATE_MONTHS:
            return (
                value,
                f"结算日期 {value} 早于清算所属期 {period} 超过{rules.MAX_LATE_MONTHS}个月"
                f"（{_delay_article()}清算延期最长不超过{rules.MAX_LATE_MONTHS}个月）",
            )
        return value, ""

    @staticmethod
    def _choice(raw: str, allowed: dict[str, str], what: str) -> tuple[str, str]:
        value = to_halfwidth(raw).strip()
        if value in allowed:
            return value, ""
        options = "、".join(f"{code}（{label}）" for code, label in allowed.items())
        if not value:
            return value, f"{what}为空，应为 {options}"
        return value, f"{what}“{value}”不正确，应为 {options}"

    @staticmethod
    def _amount(raw: str, label: str) -> tuple[str, int | None, str]:
        value = raw
        if not _AMOUNT_OK(value):
            value = to_halfwidth(raw).strip()
            if not _AMOUNT_OK(value):
                if not value:
                    return value, None, f"{label}为空"
                if "\x00" in value:
                    return value, None, f"{label}含有不可见的空字符，请检查文件"
                if any(char.isdigit() and not char.isascii() for char in value):
                    return value, None, f"{label}“{value}”含有无法识别的数字字符，应为半角数字的金额（元），如 12345.67"
                if _NEGATIVE(value):
                    return value, None, f"{label}不能为负数（{value}）"
                if _TOO_BIG(value):
                    return value, None, f"{label} {value} 元超过单笔结算金额上限 999,999,999.99 元，请核对金额"
                return value, None, f"{label}“{value}”格式不正确，应为不超过两位小数的金额（元），如 12345.67"
        point = value.find(".")
        if point < 0:
            cents = int(value) * 100
        elif len(value) - point == 3:
            cents = int(value[:point] + value[point + 1 :])
        else:
            cents = int(value[:point] + value[point + 1 :]) * 10
        return value, cents, ""

    def check(self, values: list[str]) -> tuple[list[str] | tuple[str, ...] | None, str]:
        """(clean values in COLUMNS order, "") for a good row, (None, reasons) for a bad one.

        The common case (every value valid and already in its stored form) is
        decided with two cached lookups and three regular expressions; anything
        else goes through `_check_in_detail`."""
        sid, period, insured, treatment, insurance, care, settled_on, total, fund, inst = values
        rest = self._rest.get((period, settled_on, insurance, care))
        if (
            rest is not None
            and rest[0]
            and self._pairs.get((insured, treatment))
            and _AMOUNT_OK(total)
            and _AMOUNT_OK(fund)
            and _ID_OK(sid)
            and inst
            and len(inst) <= MAX_INSTITUTION
            and not inst[0].isspace()
            and not inst[-1].isspace()
            and "\x00" not in inst
            # Exact for amounts below 10**13 yuan (the expression allows 12 integer digits).
            and float(fund) <= float(total)
        ):
            if rest[1]:
                if self.strict:
                    raise Abandon("locked")
                self.locked_rows += 1
            self.period_rows[period] = self.period_rows.get(period, 0) + 1
            return values, ""
        return self._check_in_detail(values)

    def _learn(self, values: list[str]) -> None:
        """Fill the caches the common case reads."""
        sid, period_raw, insured_raw, treatment_raw, insurance_raw, care_raw, date_raw, *_ = values
        key = (period_raw, date_raw, insurance_raw, care_raw)
        if key not in self._rest:
            period, period_error = self._period(period_raw)
            settled_on, date_error = self._date(date_raw, period, not period_error)
            insurance, insurance_error = self._choice(insurance_raw, INSURANCE_TYPES, "险种类型")
            care, care_error = self._choice(care_raw, CARE_TYPES, "医疗类别")
            ok = not (period_error or date_error or insurance_error or care_error) and (
                period == period_raw and settled_on == date_raw and insurance == insurance_raw and care == care_raw
            )
            locked = period in self.locked_periods
            self._rest[key] = (ok, locked)
            if not period_error and period == period_raw and not locked:
                self.good_periods.add(period)
        pair_key = (insured_raw, treatment_raw)
        if pair_key not in self._pairs:
            insured, treatment, _scope, pair_error = self._pair(insured_raw, treatment_raw)
            self._pairs[pair_key] = not pair_error and insured == insured_raw and treatment == treatment_raw

    def _check_in_detail(self, values: list[str]) -> tuple[tuple[str, ...] | None, str]:
        self._learn(values)
        sid_raw, period_raw, insured_raw, treatment_raw, insurance_raw, care_raw, date_raw, total_raw, fund_raw, inst = values
        messages: list[str] = []
        canonical = True

        sid = sid_raw
        if not _ID_OK(sid):
            sid = sid_raw.strip()
            canonical = False
            if not sid:
                messages.append("结算流水号为空")
            elif len(sid) > MAX_ID:
                messages.append(f"结算流水号“{sid[:MAX_ID]}…”超过{MAX_ID}个字符")
            elif not _ID_OK(sid):
                messages.append(f"结算流水号“{sid}”含有空格或不可见字符")

        period, period_error = self._period(period_raw)
        if period_error:
            messages.append(period_error)
        elif period != period_raw:
            canonical = False

        insured, treatment, _scope, pair_error = self._pair(insured_raw, treatment_raw)
        if pair_error:
            messages.append(pair_error)
        elif insured != insured_raw or treatment != treatment_raw:
            canonical = False

        insurance, insurance_error = self._choice(insurance_raw, INSURANCE_TYPES, "险种类型")
        if insurance_error:
            messages.append(insurance_error)
        elif insurance != insurance_raw:
            canonical = False

        care, care_error = self._choice(care_raw, CARE_TYPES, "医疗类别")
        if care_error:
            messages.append(care_error)
        elif care != care_raw:
            canonical = False

        settled_on, date_error = self._date(date_raw, period, not period_error)
        if date_error:
            messages.append(date_error)
        elif settled_on != date_raw:
            canonical = False

        total, total_cents, total_error = self._amount(total_raw, "总费用")
        fund, fund_cents, fund_error = self._amount(fund_raw, "基金支付合计")
        if total_error:
            messages.append(total_error)
        if fund_error:
            messages.append(fund_error)
        if total_cents is not None and fund_cents is not None:
            if fund_cents > total_cents:
                messages.append(f"基金支付合计（{_yuan(fund_cents)}）大于总费用（{_yuan(total_cents)}）")
            if total != total_raw or fund != fund_raw:
                canonical = False

        if not inst or len(inst) > MAX_INSTITUTION or "\x00" in inst or inst[0].isspace() or inst[-1].isspace():
            inst = inst.strip()
            canonical = False
            if not inst:
                messages.append("定点医药机构为空")
            elif len(inst) > MAX_INSTITUTION:
                messages.append(f"定点医药机构名称超过{MAX_INSTITUTION}个字符")
            elif "\x00" in inst:
                messages.append("定点医药机构名称含有不可见的空字符")
        if messages:
            if self.strict:
                raise Abandon("bad")
            return None, "；".join(messages)
        if not canonical:
            if self.require_canonical:
                raise Abandon("noncanonical")
            self.canonical = False
        if period in self.locked_periods:
            if self.strict:
                raise Abandon("locked")
            self.locked_rows += 1
        self.period_rows[period] = self.period_rows.get(period, 0) + 1
        return (sid, period, insured, treatment, insurance, care, settled_on, total, fund, inst), ""


def _delay_article() -> str:
    """"第四十九条：" where the home province's rules have the article (江苏), else ""."""
    article = rules_for(None).article("clearing_delay")
    return f"{article}：" if article else ""


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class ChunkMatcher:
    """One anchored regular expression for a whole chunk of lines in the
    canonical column order: each line a valid settlement of one of the known
    periods, byte-for-byte in its stored form. Built from the region table, so
    it accepts exactly what `RowValidator` accepts, except fund ≤ total (left
    to the table's CHECK constraint in the fast path).

    Files in another column order are checked row by row (still beside the
    COPY): the same rules written as per-field lookaheads measured no faster."""

    def __init__(self, book: RegionBook, periods: set[str]) -> None:
        self.periods = sorted(periods)
        home = "|".join(sorted(book.cities))
        others = "|".join(sorted(prefix for prefix in book.provinces if prefix != book.home_province[:2]))
        # Any field may come in double quotes (spreadsheet exports quote all or
        # some fields); COPY's csv format takes them off. A quoted value with a
        # comma, a quote or spaces inside goes the row-by-row way instead. The
        # plain pattern is tried first; the quote-tolerant one only on chunks with quotes.
        self.pattern = self._compile(home, others, lambda pattern: pattern)
        self.quoted_pattern = self._compile(home, others, lambda pattern: f'(?:{pattern}|"{pattern}")')
        # The period is the only field that can read ,YYYY-MM, (quoted or not).
        self.markers = [(period, (f",{period},".encode("ascii"), f',"{period}",'.encode("ascii"))) for period in self.periods]

    def _compile(self, home: str, others: str, q: Callable[[str], str]) -> re.Pattern:
        city = q(f"(?:{home})")
        other = q(rf"(?:(?:{others})\d{{4}})")
        # Same city on both ends is refused (the lookahead), neither end at home too.
        pair = rf'(?!"?(\d{{6}})"?,"?\1"?,)(?:{city},(?:{city}|{other})|{other},{city})'
        windows = "|".join(
            rf'"?{re.escape(period)}"?,(?:[^,\n]*,){{4}}"?{self._dates(period)}"?,' for period in self.periods
        )
        # Printable ASCII ids only here; any other id is checked row by row (_ID_OK).
        sid = q(r'[\x21\x23-\x2b\x2d-\x7e]{1,' + str(MAX_ID) + "}")
        amount = q(AMOUNT_PATTERN)
        # Bytes, not characters: up to four per character; the column's varchar(200) keeps the real limit.
        name = q(r'[^\s,"\x00](?:[^,"\r\n\x00]{0,' + str(MAX_INSTITUTION * 4 - 2) + r'}[^\s,"\x00])?')
        month, day = q(r"\d{4}-\d{2}"), q(r"\d{4}-\d{2}-\d{2}")
        insurance, care = q("(?:310|390)"), q("(?:inpatient|outpatient|chronic)")
        line = (
            rf"(?=[^,\n]*,(?:{windows}))"
            rf"{sid},{month},{pair},{insurance},{care},{day},{amount},{amount},{name}\r?\n"
        )
        # Matched against the raw bytes (ASCII delimiters never occur inside a
        # multibyte UTF-8 or GB18030 character), so a good chunk is never decoded.
        return re.compile(rf"(?:{line})*+".encode("ascii"))

    @staticmethod
    def _dates(period: str) -> str:
        """Every calendar date from two months before the period to its end (第四十九条)."""
        year, month = rules.parse_period(period)
        parts = []
        for back in range(rules.MAX_LATE_MONTHS, -1, -1):
            y, m = rules.add_months(year, month, -back)
            last = rules.period_end(rules.period_of(y, m)).day
            days = "|".join(f"{day:02d}" for day in range(1, last + 1))
            parts.append(f"{y:04d}-{m:02d}-(?:{days})")
        return "(?:" + "|".join(parts) + ")"

    def match(self, data: bytes) -> dict[str, int] | None:
        """Rows per period when every line of `data` is good, else None."""
        if not self.periods:
            return None
        if not self.pattern.fullmatch(data) and not (b'"' in data and self.quoted_pattern.fullmatch(data)):
            return None
        # The period is the only field that can read ",YYYY-MM," (ids come first,
        # dates go on with "-", the institution ends the line).
        return {period: data.count(plain) + data.count(quoted) for period, (plain, quoted) in self.markers}


# --- Reading files -------------------------------------------------------------------


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


# --- The import ----------------------------------------------------------------------


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
            next_report[0] = position + CHUNK * 4
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


def file_checksum(path: Path | str) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


