from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html

from core.money import format_yuan
from monitoring import rules

register = template.Library()


@register.filter
def pct(value: Decimal | None) -> str:
    """0.61234 -> 61.23%; None -> —"""
    return rules.percent_text(value)


@register.filter
def spct(value: Decimal | None) -> str:
    """Growth with its sign: +12.34% / -3.10% / —"""
    return rules.signed_percent_text(value)


@register.filter
def money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return format_yuan(rules.half_up(Decimal(value), rules.CENT))


@register.filter
def months(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.1f}个月"


@register.simple_tag
def flagged(item, indicator: str, direction: str = "", text: str = ""):
    """`text` in red with the reason as its title when `item` has a flag on the indicator."""
    flag = item.flag_for(indicator, direction) if item is not None else None
    if flag is None:
        return text
    return format_html('<span class="text-danger fw-semibold" title="{}"><i class="bi bi-exclamation-triangle-fill"></i> {}</span>',
                       flag.reason, text)


@register.filter
def growth_of(item, arg: str):
    direction, which = arg.split(":")
    return item.growth(direction, which)


@register.filter
def totals_of(item, direction: str):
    return item.totals(direction)


@register.filter
def direct_rate_of(item, direction: str):
    return item.direct_rate(direction)


@register.filter
def deduction_rate_of(item, direction: str):
    return item.deduction_rate(direction)


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def flag_class(item, indicator: str) -> bool:
    """Whether `item` has a region-wide flag on `indicator`."""
    return item.flag_for(indicator, "") is not None
