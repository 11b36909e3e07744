"""Number formats of the clearing forms and pages.

The official tables print amounts without thousands separators ("53811.14"),
as the provincial system's tables do; 万元 amounts are whole numbers.
"""

from __future__ import annotations

from decimal import Decimal

from django import template

from clearing import rules
from core.money import amount_in_words, quantize_yuan

register = template.Library()


@register.filter
def plain(value) -> str:
    """Decimal('53811.1') -> '53811.10' (no grouping)."""
    if value is None or value == "":
        return ""
    return rules.money_text(quantize_yuan(value))


@register.filter
def plain_or_blank(value) -> str:
    """As `plain`, but an empty cell for zero (dense matrices)."""
    if value is None or value == "" or Decimal(value) == 0:
        return ""
    return plain(value)


@register.filter
def wan(value) -> str:
    """Whole 万元."""
    if value is None or value == "":
        return ""
    return str(int(value))


@register.filter
def wan_or_blank(value) -> str:
    if not value:
        return ""
    return str(int(value))


@register.filter
def daxie_wan(value) -> str:
    """A whole-万元 amount in 大写 (350 -> 叁佰伍拾万元整)."""
    if value is None or value == "":
        return ""
    return amount_in_words(Decimal(int(value)) * 10000)


@register.filter
def percent(value) -> str:
    return rules.percent_text(value)


@register.filter
def spaced(name: str) -> str:
    """Two-character names are spread as the forms print them (北  京)."""
    return f"{name[0]}\u3000{name[1]}" if name and len(name) == 2 else name


@register.filter
def get_item(mapping, key):
    if mapping is None:
        return None
    return mapping.get(key)


@register.filter
def state_label(value: str) -> str:
    """A stored state code in the timeline, in Chinese."""
    from clearing.models import ClearingPeriod, ImportBatch, PaymentDue

    for choices in (ClearingPeriod.Status, PaymentDue.Status, ImportBatch.Status):
        if value in choices.values:
            return str(choices(value).label)
    return {"intra_issued": "省内通知书已下达", "cross_issued": "跨省通知书已下达"}.get(value, value)


@register.filter
def negate(value):
    return -value if value is not None else value
