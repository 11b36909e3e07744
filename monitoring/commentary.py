"""The generated commentary of the 运行分析报告: short sentences from the figures
("次均费用环比上升x%，主要来自…"). Plain functions over plain values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from monitoring import rules
from monitoring.rules import Totals

WAN = Decimal(10000)


def wan(value: Decimal) -> str:
    return f"{rules.half_up(Decimal(value) / WAN, rules.CENT):,.2f}"


def yuan(value: Decimal | None) -> str:
    return "—" if value is None else f"{rules.half_up(value, rules.CENT):,.2f}"


def change_text(value: Decimal | None) -> str:
    """"上升12.3%" / "下降4.0%" / "持平"."""
    if value is None:
        return ""
    shown = rules.half_up(abs(value) * rules.HUNDRED, rules.TENTH)
    if not shown:
        return "基本持平"
    return f"{'上升' if value > 0 else '下降'}{shown:.1f}%"


@dataclass(frozen=True)
class Part:
    label: str
    current: Totals
    previous: Totals


def main_driver(parts: list[Part], current: Totals, previous: Totals) -> tuple[str, Decimal] | None:
    """The category that moved the average cost most in the direction it moved.

    次均费用 = Σ 总费用_c ÷ 人次, so its change splits exactly into each category's
    总费用_c ÷ 人次 (this period) − 总费用_c ÷ 人次 (before): volume and price together."""
    if not current.visits or not previous.visits:
        return None
    change = current.avg_cost - previous.avg_cost
    if not change:
        return None
    contributions = [
        (part.label.replace(" · ", ""), part.current.total / current.visits - part.previous.total / previous.visits)
        for part in parts
    ]
    label, amount = max(contributions, key=lambda item: item[1] if change > 0 else -item[1])
    if (amount > 0) != (change > 0):
        return None
    return label, amount


def direction_paragraph(*, subject: str, spec: rules.PeriodSpec, current: Totals, previous: Totals | None,
                        year_ago: Totals | None, parts: list[Part], regions: list[tuple[str, Decimal | None]]) -> str:
    if not current.visits:
        return f"{spec.label}，{subject}无直接结算记录。"
    text = (
        f"{spec.label}，{subject}直接结算{current.visits:,}人次，医疗总费用{wan(current.total)}万元，"
        f"基金支付{wan(current.fund)}万元，次均费用{yuan(current.avg_cost)}元，报销比例{rules.percent_text(current.fund_ratio)}。"
    )
    mom = rules.growth(current, previous)
    yoy = rules.growth(current, year_ago)
    if mom is not None:
        text += f"次均费用环比{change_text(mom)}"
        driver = main_driver(parts, current, previous)
        if driver and rules.half_up(abs(mom) * rules.HUNDRED, rules.TENTH):
            label, amount = driver
            text += f"，主要来自{label}（{'拉高' if amount > 0 else '拉低'}次均费用{yuan(abs(amount))}元）"
        text += f"；同比{change_text(yoy)}。" if yoy is not None else "；上年同期无数据，不计算同比。"
    elif yoy is not None:
        text += f"次均费用同比{change_text(yoy)}。"
    moved = [(name, value) for name, value in regions if value is not None]
    if len(moved) >= 2:
        top = max(moved, key=lambda item: item[1])
        low = min(moved, key=lambda item: item[1])
        word = "环比" if spec.previous is not None else "同比"
        text += f"分地区看，{top[0]}次均费用{word}{change_text(top[1])}，幅度最大"
        text += f"；{low[0]}{change_text(low[1])}。" if low[0] != top[0] else "。"
    return text


def flags_paragraph(flags: list[tuple[str, rules.Flag]]) -> str:
    if not flags:
        return "本期各地区各项监测指标均在预警值以内。"
    regions = {name for name, _flag in flags}
    examples = "；".join(f"{name}{flag.reason}" for name, flag in flags[:3])
    more = "等" if len(flags) > 3 else ""
    return f"本期共有{len(regions)}个地区的{len(flags)}项指标超过预警值：{examples}{more}。请相关地区分析原因，加强费用审核和基金运行监测。"
