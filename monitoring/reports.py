"""The 异地就医直接结算运行分析报告 (第五十四条): a monthly or quarterly PDF with
the key tables, charts as inline SVG drawn here, the flagged regions and a
generated commentary. `render_report` returns bytes; the job archives them."""

from __future__ import annotations

from django.utils import timezone

from clearing.notices import province_agency_name
from core.models import Region
from core.pdf import render_pdf
from core.reference import home_province_code
from monitoring import commentary, rules, selectors, svg


def report_context(spec: rules.PeriodSpec) -> dict:
    province_code = home_province_code()
    province = Region.objects.get(code=province_code)
    figures = selectors.region_figures(spec)
    total = figures[province_code]
    cities = [item for code, item in figures.items() if code != province_code]
    directions = (selectors.OUTFLOW, selectors.INFLOW)
    breakdowns = {d: selectors.breakdown(spec, province_code, d) for d in directions}
    months = rules.months_ending(spec.last_month, 13)
    trend = selectors.trend(province_code, months)
    places = {d: selectors.top_places(spec, province_code, d) for d in directions}
    cross_places = [row for row in selectors.top_places(spec, province_code, selectors.OUTFLOW, limit=40)
                    if not row.code.startswith(province_code[:2])][:10]
    institutions = {d: selectors.top_institutions(spec, province_code, d) for d in directions}
    flags = [(item.name, flag) for item in [total, *cities] for flag in item.flags]
    word = "环比" if spec.previous is not None else "同比"
    compare = "previous" if spec.previous is not None else "year_ago"
    paragraphs = []
    for direction, subject in ((selectors.OUTFLOW, f"{province.short_name}参保人员异地就医（差出）"),
                               (selectors.INFLOW, f"异地参保人员在{province.short_name}就医（差进）")):
        parts = [commentary.Part(row.label, row.current, row.previous or rules.Totals()) for row in breakdowns[direction] if row.level == 0]
        paragraphs.append(commentary.direction_paragraph(
            subject=subject, spec=spec, current=total.totals(direction),
            previous=getattr(total, direction).get("previous") if spec.previous else None,
            year_ago=getattr(total, direction).get("year_ago"),
            parts=parts, regions=[(item.name, item.growth(direction, compare)) for item in cities if item.totals(direction).visits],
        ))
    direct = total.direct_rate(selectors.OUTFLOW)
    if direct is not None:
        paragraphs.append(
            f"差出直接结算率{rules.percent_text(direct)}（直接结算{total.totals(selectors.OUTFLOW).visits:,}人次，"
            f"零星报销{total.manual_out:,}件）；跨省预付金使用率{rules.percent_text(total.advance_usage)}。"
        )
    paragraphs.append(commentary.flags_paragraph(flags))
    charts = {
        "trend": svg.trend_chart(
            months,
            [("差出次均费用", trend["outflow_avg"], svg.BLUE), ("差进次均费用", trend["inflow_avg"], svg.GREEN)],
            [("差出人次", trend["outflow_visits"], svg.BLUE), ("差进人次", trend["inflow_visits"], svg.GREEN)],
        ),
        "cities": svg.column_chart(
            [item.name for item in cities],
            [("差出次均费用", [item.totals("outflow").avg_cost for item in cities], svg.BLUE),
             ("差进次均费用", [item.totals("inflow").avg_cost for item in cities], svg.GREEN)],
        ),
        "cross": svg.bar_ranking([row.label for row in cross_places], [row.totals.total for row in cross_places]),
        "inflow_sources": svg.bar_ranking([row.label for row in places[selectors.INFLOW]], [row.totals.total for row in places[selectors.INFLOW]],
                                          color=svg.GREEN),
    }
    return {
        "city_tables": {d: _city_table(spec, cities, total, d) for d in directions},
        "fund_rows": [
            {"name": item.name, "total": item is total,
             "cells": [
                 (rules.percent_text(item.advance_usage), item.flag_for("advance_usage") is not None),
                 (commentary.yuan(item.balance.balance) if item.balance else "—", False),
                 (commentary.yuan(item.balance.monthly_expenditure) if item.balance else "—", False),
                 (item.balance.period if item.balance else "—", False),
                 (f"{item.payable_months:.1f}" if item.payable_months is not None else "—", item.flag_for("payable_months") is not None),
             ]}
            for item in [*cities, total]
        ],
        "spec": spec,
        "province": province,
        "issuer": province_agency_name(),
        "generated_on": timezone.localdate(),
        "total": total,
        "cities": cities,
        "breakdowns": breakdowns,
        "cross_places": cross_places,
        "places": places,
        "institutions": institutions,
        "flags": flags,
        "paragraphs": paragraphs,
        "charts": charts,
        "word": word,
        "compare": compare,
        "directions": selectors.DIRECTIONS,
        "deductions_connected": total.deducted is not None,
    }


def _city_table(spec: rules.PeriodSpec, cities: list, total, direction: str) -> list[dict]:
    """Rows of a city table: (text, flagged) cells, the province last."""
    compare = "previous" if spec.previous is not None else "year_ago"
    rows = []
    for item in [*cities, total]:
        t = item.totals(direction)
        flagged = {(flag.indicator, flag.direction) for flag in item.flags}
        rows.append({"name": "全省" if item is total else item.name, "total": item is total, "cells": [
            (f"{t.visits:,}", False), (commentary.yuan(t.total), False), (commentary.yuan(t.fund), False),
            (commentary.yuan(t.avg_cost), False), (rules.percent_text(t.fund_ratio), ("fund_ratio", direction) in flagged),
            (rules.signed_percent_text(item.growth(direction, compare)),
             (("avg_cost_mom" if compare == "previous" else "avg_cost_yoy"), direction) in flagged),
            (rules.signed_percent_text(item.growth(direction, "year_ago")), ("avg_cost_yoy", direction) in flagged),
            (rules.percent_text(item.direct_rate(direction)), ("direct_rate", direction) in flagged),
        ]})
    return rows


def render_report(spec: rules.PeriodSpec) -> bytes:
    return render_pdf("pdf/monitoring_report.html", report_context(spec))


def report_title(spec: rules.PeriodSpec) -> str:
    province = Region.objects.get(code=home_province_code())
    return f"{province.short_name}异地就医直接结算运行分析报告（{spec.label}）"
