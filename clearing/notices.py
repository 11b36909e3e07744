"""The official forms of the clearing: 附件2–6 (advances) and 10–13 (monthly
clearing), rendered through core.pdf from one template each.

A function here only says which files a batch consists of and how each is
rendered (`NoticeFile.render() -> bytes`); the background jobs store them in
the document archive, `render_notices` writes them to a directory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from clearing import rules, selectors
from clearing.models import AdvanceYear, ClearingPeriod, CrossAdvance, EmergencyIncrease, IntraAdvance
from clearing.services import notice_key
from core.jurisdictions import city_agency_name, rules_for
from core.models import Region
from core.money import amount_in_words
from core.pdf import render_pdf
from core.reference import home_province_code
from core.workdays import add_working_days, previous_working_day

ZERO = Decimal("0.00")


@dataclass
class NoticeFile:
    kind: str
    key: str
    title: str
    filename: str
    region: object | None
    period: str
    render: Callable[[], bytes]


def _province_name() -> str:
    """The home province as the form titles print it: 江苏省, 江西省, 新疆维吾尔自治区."""
    return rules_for(None).province_name


def province_agency_name() -> str:
    from core.models import Region

    province = Region.objects.get(code=home_province_code())
    agency = getattr(province, "agency", None) if _has_agency(province) else None
    return agency.name if agency else rules_for(province).province_agency


def agency_name(region) -> str:
    """The recipient agency's full name (经办机构全称)."""
    if _has_agency(region):
        return region.agency.name
    return city_agency_name(region.name, rules_for(region))


def _has_agency(region) -> bool:
    from core.models import Agency

    try:
        return region.agency is not None
    except Agency.DoesNotExist:
        return False


def _signatures(preparer, when: date) -> dict:
    name = ""
    if preparer is not None:
        name = preparer.get_full_name() if hasattr(preparer, "get_full_name") else str(preparer)
    return {"preparer": name, "date": when}


def amount_font_pt(cells, scopes: tuple[str, ...], *, column_mm: float, base_pt: float) -> float:
    """The font size at which the widest amount of a table fits its column:
    `base_pt` for an ordinary month, smaller for an exceptionally big one. The
    widest is at most the sum over the table's cells (its 合计), so that bounds it."""
    bound = sum((abs(cell.amounts.total) for cell in cells if cell.scope in scopes), Decimal(0))
    chars = len(rules.money_text(bound)) + 1  # and a minus sign
    fitting = column_mm / (chars * 0.62 * 0.3528)  # a bold digit of Noto is about 0.6 em wide; 1 pt = 0.3528 mm
    return max(4.5, min(base_pt, int(fitting * 10) / 10))


def _today_stamp() -> date:
    """A form printed before it is issued (render_notices on a month not yet
    issued) is dated the last working day up to today, never a weekend."""
    return previous_working_day(timezone.localdate()).as_date()


def _deadline_text(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def deadline_context(stamp: date | None, days: int) -> dict:
    """The deadline a notice prints, `days` working days from its stamp date.

    A notice not yet issued (no stamp date) is a draft: it carries a visible
    草稿 mark and no binding date (the date is fixed when it is issued). A date
    that falls in a year whose holiday arrangement is unpublished is printed
    with the note the 受理回执 uses (`deadline_confirmed` False)."""
    if stamp is None:
        return {"draft": True, "deadline": None, "deadline_text": "", "deadline_confirmed": True, "deadline_days": days}
    due = add_working_days(stamp, days)
    return {
        "draft": False,
        "deadline": due,
        "deadline_text": _deadline_text(due),
        "deadline_confirmed": getattr(due, "confirmed", True),
        "deadline_days": days,
    }


# --- Monthly clearing: 附件10, 11, 12, 13 -------------------------------------------


def adjustment_context(lines) -> dict:
    """The rows of the adjustments table (pdf/_adjustments.html) and their total."""
    names = dict(Region.objects.filter(code__in={code for line in lines for code in (line.insured_area, line.treatment_area)})
                 .values_list("code", "name"))
    rows = [
        {"insured": names.get(line.insured_area, line.insured_area), "treatment": names.get(line.treatment_area, line.treatment_area),
         "employee": line.amounts.employee, "resident": line.amounts.resident, "total": line.amounts.total, "count": line.count}
        for line in lines
    ]
    total = {
        "employee": sum((row["employee"] for row in rows), ZERO), "resident": sum((row["resident"] for row in rows), ZERO),
        "total": sum((row["total"] for row in rows), ZERO), "count": sum(row["count"] for row in rows),
    }
    return {"adjustment_rows": rows, "adjustment_total": total}


def period_notice_files(period: ClearingPeriod, *, by=None) -> list[NoticeFile]:
    """附件10 and 11 for the month, and 附件12 and 13 for every city."""
    from clearing.adjustments import period_adjustment_lines

    cells = selectors.period_cells(period)
    lines = period_adjustment_lines(period)
    stamp = period.stamp_date or _today_stamp()
    issuer = province_agency_name()
    preparer = period.issued_by or by
    province = Region.objects.get(code=home_province_code())  # 附件10/11 go to every city of the province
    common = {
        "period": period,
        "period_label": period.label,
        "issuer": issuer,
        "signatures": _signatures(preparer, stamp),
        "seal_date": stamp,
        **deadline_context(period.stamp_date, rules.PAYMENT_WORKING_DAYS),
    }
    files = [
        NoticeFile(
            kind="clearing.annex10",
            key=notice_key(period.period, "annex10"),
            title=f"附件10 {_province_name()}异地就医医疗费用清算平衡总表（{period.label}）",
            filename=f"annex10-{period.period}.pdf",
            region=province,
            period=period.period,
            render=lambda: render_pdf(
                "pdf/annex10.html",
                {
                    **common,
                    "table": selectors.balance_table(period, cells=cells),
                    **adjustment_context([line for line in lines if line.scope == rules.SCOPE_INTRA]),
                    "amount_pt": amount_font_pt(cells, (rules.SCOPE_INTRA,), column_mm=26.0, base_pt=9),
                },
            ),
        ),
        NoticeFile(
            kind="clearing.annex11",
            key=notice_key(period.period, "annex11"),
            title=f"附件11 {_province_name()}跨省异地就医费用清算明细表（{period.label}）",
            filename=f"annex11-{period.period}.pdf",
            region=province,
            period=period.period,
            render=lambda: render_pdf(
                "pdf/annex11.html",
                {
                    **common,
                    "cities": selectors.cities(),
                    "blocks": selectors.cross_blocks(period, cells=cells),
                    **adjustment_context([line for line in lines if line.scope != rules.SCOPE_INTRA]),
                    "amount_pt": min(
                        amount_font_pt(cells, (scope,), column_mm=17.0, base_pt=7)
                        for scope in (rules.SCOPE_CROSS_OUT, rules.SCOPE_CROSS_IN)
                    ),
                },
            ),
        ),
    ]
    for city in selectors.cities():
        for annex, direction, label in (("annex12", "payable", "付款"), ("annex13", "receivable", "收款")):
            files.append(
                NoticeFile(
                    kind=f"clearing.{annex}",
                    key=notice_key(period.period, annex, city.code),
                    title=f"附件{annex[-2:]} {city.name}跨省异地就医清算费用{label}通知书（{period.label}）",
                    filename=f"{annex}-{period.period}-{city.code}.pdf",
                    region=city,
                    period=period.period,
                    render=_city_notice(annex, direction, period, city, cells, {
                        **common,
                        **adjustment_context([
                            line for line in lines
                            if (annex == "annex12" and line.scope == rules.SCOPE_CROSS_OUT and line.insured_area == city.code)
                            or (annex == "annex13" and line.scope == rules.SCOPE_CROSS_IN and line.treatment_area == city.code)
                        ]),
                    }),
                )
            )
    return files


def _city_notice(annex: str, direction: str, period, city, cells, common) -> Callable[[], bytes]:
    def render() -> bytes:
        rows = selectors.city_cross_rows(period, city.code, direction, cells=cells)
        total = sum((amount for _province, amount in rows), ZERO)
        return render_pdf(
            f"pdf/{annex}.html",
            {
                **common,
                "city": city,
                "recipient": agency_name(city),
                "rows": rows,
                "total": total,
                "total_words": amount_in_words(total),
            },
        )

    return render


# --- Advances: 附件2, 3 (intra) and 4, 5 (cross), 6 (emergency increase) --------------


def advance_notice_files(year: int, scope: str, *, by=None) -> list[NoticeFile]:
    record = AdvanceYear.objects.get(year=year)
    issuer = province_agency_name()
    if scope == "intra":
        stamp = record.intra_stamp_date or _today_stamp()
        preparer = record.intra_computed_by or by
        rows = list(IntraAdvance.objects.filter(year=year).select_related("region", "region__agency").order_by("region__sort_order"))
        listed = [row for row in rows if row.approved_amount or row.previous_amount or row.actual_amount]
        formula = record.intra_formula or rules.advance_formula_text(rules.METHOD_NET_OUTFLOW_SHARE, Decimal("0.2"))
        common = {
            "year": year,
            "issuer": issuer,
            "signatures": _signatures(preparer, stamp),
            "seal_date": stamp,
            **deadline_context(record.intra_stamp_date, rules.INTRA_ADVANCE_WORKING_DAYS),
            "formula": formula,
        }
        totals = {
            "previous": sum(row.previous_amount for row in listed),
            "approved": sum(row.approved_amount for row in listed),
            "actual": sum(row.actual_amount for row in listed),
        }
        files = [
            NoticeFile(
                kind="clearing.annex02",
                key=notice_key(str(year), "annex02"),
                title=f"附件2 {_province_name()}省内异地就医费用预付金明细表（{year}年）",
                filename=f"annex02-{year}.pdf",
                region=None,
                period="",
                render=lambda: render_pdf("pdf/annex02.html", {**common, "rows": listed, "totals": totals}),
            )
        ]
        for row in listed:
            if row.actual_amount <= 0:
                continue
            files.append(
                NoticeFile(
                    kind="clearing.annex03",
                    key=notice_key(str(year), "annex03", row.region_id),
                    title=f"附件3 {row.region.name}省内异地就医预付金付款通知书（{year}年）",
                    filename=f"annex03-{year}-{row.region_id}.pdf",
                    region=row.region,
                    period="",
                    render=_render_with("pdf/annex03.html", {**common, "row": row, "recipient": agency_name(row.region)}),
                )
            )
        return files

    stamp = record.cross_stamp_date or _today_stamp()
    preparer = record.cross_computed_by or by
    matrix = selectors.cross_matrix(year)
    common = {
        "year": year,
        "issuer": issuer,
        "signatures": _signatures(preparer, stamp),
        "seal_date": stamp,
        **deadline_context(record.cross_stamp_date, rules.CROSS_ADVANCE_WORKING_DAYS),
    }
    files = [
        NoticeFile(
            kind="clearing.annex04",
            key=notice_key(str(year), "annex04"),
            title=f"附件4 {_province_name()}跨省异地就医费用预付金明细表（{year}年）",
            filename=f"annex04-{year}.pdf",
            region=None,
            period="",
            render=lambda: render_pdf("pdf/annex04.html", {**common, **matrix}),
        )
    ]
    cells: dict[tuple[str, str], CrossAdvance] = matrix["cells"]
    provinces = selectors.other_provinces()
    for city in matrix["cities"]:
        rows = [(province, cells.get((city.code, province.code))) for province in provinces]
        actual = sum(advance.actual_amount for _p, advance in rows if advance)
        if actual <= 0:
            continue
        totals = {
            "previous": sum(advance.previous_amount for _p, advance in rows if advance),
            "approved": sum(advance.approved_amount for _p, advance in rows if advance),
            "actual": actual,
        }
        files.append(
            NoticeFile(
                kind="clearing.annex05",
                key=notice_key(str(year), "annex05", city.code),
                title=f"附件5 {city.name}跨省异地就医预付金额度调整付款通知书（{year}年）",
                filename=f"annex05-{year}-{city.code}.pdf",
                region=city,
                period="",
                render=_render_with(
                    "pdf/annex05.html", {**common, "city": city, "recipient": agency_name(city), "rows": rows, "totals": totals}
                ),
            )
        )
    return files


def emergency_notice_files(increase: EmergencyIncrease, *, by=None) -> list[NoticeFile]:
    common = {
        "increase": increase,
        "issuer": province_agency_name(),
        "seal_date": increase.stamp_date,
        **deadline_context(increase.stamp_date, rules.CROSS_ADVANCE_WORKING_DAYS),
        "rate_text": rules.percent_text(increase.usage_rate),
    }
    files = []
    for line in increase.lines.select_related("region", "region__agency").order_by("region__sort_order"):
        if line.amount <= 0:
            continue
        files.append(
            NoticeFile(
                kind="clearing.annex06",
                key=notice_key(str(increase.year), "annex06", line.region_id, str(increase.pk)),
                title=f"附件6 {line.region.name}跨省异地就医预付金额度紧急调增通知书（{increase.province.short_name}，{increase.year}年）",
                filename=f"annex06-{increase.year}-{increase.province_id}-{line.region_id}-{increase.pk}.pdf",
                region=line.region,
                period=increase.basis_period.period,
                render=_render_with("pdf/annex06.html", {**common, "line": line, "recipient": agency_name(line.region)}),
            )
        )
    return files


def _render_with(template: str, context: dict) -> Callable[[], bytes]:
    return lambda: render_pdf(template, context)
