from django import template

from filings.models import Filing
from filings.models import destination_label as _destination_label

register = template.Library()

_LABELS = dict(Filing.Status.choices) | {"deleted": "已删除"}


@register.filter
def filing_status_label(value: str) -> str:
    """The Chinese label of a filing status code kept in the audit log."""
    return _LABELS.get(value, value or "—")


@register.filter
def destination_label(region) -> str:
    """北京市（全市）, 浙江省（全省）, 广西壮族自治区（全区）, or a city's name."""
    return _destination_label(region) if region is not None else ""
