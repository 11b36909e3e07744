"""What a row may contain: region codes (RegionBook), one row's checks and
messages (RowValidator), and whole chunks checked at once (ChunkMatcher)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from clearing import rules
from clearing.importers.columns import CARE_TYPES, INSURANCE_TYPES, MAX_ID, MAX_INSTITUTION, Abandon
from core.jurisdictions import rules_for
from core.reference import home_province_code
from core.safe_files import to_halfwidth

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
