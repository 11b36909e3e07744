"""XLSX export of the monitoring tables. Text cells are written as text and
prefixed when they would start a formula (= + - @), so a crafted institution
name cannot run in Excel/WPS; figures are plain numbers."""

from __future__ import annotations

import io
from decimal import Decimal

from monitoring import rules


def safe_text(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _ratio(value: Decimal | None):
    return None if value is None else float(rules.half_up(value, rules.RATIO))


def _money(value: Decimal | None):
    return None if value is None else rules.half_up(value, rules.CENT)


def workbook_bytes(*, spec, region_name: str, figures: list, breakdowns: dict, places: dict, institutions: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook()
    sheets = []

    def sheet(title: str, header: list[str], rows: list[list]):
        ws = workbook.active if not sheets else workbook.create_sheet()
        sheets.append(ws)
        ws.title = title
        ws.append([f"{region_name} {spec.label} {title}"])
        ws["A1"].font = Font(bold=True)
        ws.append(header)
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for values in rows:
            ws.append([None] * len(values))
            for column, value in enumerate(values, start=1):
                cell = ws.cell(row=ws.max_row, column=column)
                if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                    cell.value = value
                    cell.number_format = "0.0000" if isinstance(value, float) else ("#,##0.00" if isinstance(value, Decimal) else "0")
                elif value is not None:
                    cell.value = ILLEGAL_CHARACTERS_RE.sub("", safe_text(value))
                    cell.data_type = "s"
        for column in ws.columns:
            ws.column_dimensions[column[1].column_letter].width = 16
        ws.column_dimensions["A"].width = 28
        ws.freeze_panes = "B3"

    header = ["地区", "方向", "人次", "总费用（元）", "基金支付（元）", "次均费用（元）", "报销比例", "次均费用环比", "次均费用同比",
              "直接结算率", "审核扣款率", "预付金使用率", "可支付月数", "预警"]
    rows = []
    for item in figures:
        for direction, label in (("outflow", "差出"), ("inflow", "差进")):
            totals = item.totals(direction)
            rows.append([
                item.name, label, totals.visits, _money(totals.total), _money(totals.fund), _money(totals.avg_cost),
                _ratio(totals.fund_ratio), _ratio(item.growth(direction, "previous")), _ratio(item.growth(direction, "year_ago")),
                _ratio(item.direct_rate(direction)), _ratio(item.deduction_rate(direction)),
                _ratio(item.advance_usage) if direction == "outflow" else None,
                float(item.payable_months) if item.payable_months is not None and direction == "outflow" else None,
                "；".join(flag.reason for flag in item.flags if flag.direction == direction or (direction == "outflow" and not flag.direction)),
            ])
    sheet("指标概览", header, rows)
    for direction, label in (("outflow", "差出分类"), ("inflow", "差进分类")):
        sheet(label, ["类别", "人次", "总费用（元）", "基金支付（元）", "次均费用（元）", "报销比例", "次均费用环比", "次均费用同比"], [
            [row.label, row.current.visits, _money(row.current.total), _money(row.current.fund), _money(row.current.avg_cost),
             _ratio(row.current.fund_ratio), _ratio(row.mom), _ratio(row.yoy)]
            for row in breakdowns[direction]
        ])
    for direction, label in (("outflow", "差出就医地排名"), ("inflow", "差进参保地排名")):
        sheet(label, ["地区", "人次", "总费用（元）", "基金支付（元）", "次均费用（元）"], [
            [row.label, row.totals.visits, _money(row.totals.total), _money(row.totals.fund), _money(row.totals.avg_cost)]
            for row in places[direction]
        ])
    for direction, label in (("outflow", "差出机构排名"), ("inflow", "差进机构排名")):
        sheet(label, ["定点医药机构（所在地）", "人次", "总费用（元）", "基金支付（元）", "次均费用（元）"], [
            [row.label, row.totals.visits, _money(row.totals.total), _money(row.totals.fund), _money(row.totals.avg_cost)]
            for row in institutions[direction]
        ])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

