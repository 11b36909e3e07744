from django import template

from filings.models import Filing

register = template.Library()

_LABELS = dict(Filing.Status.choices) | {"deleted": "已删除"}


@register.filter
def filing_status_label(value: str) -> str:
    """The Chinese label of a filing status code kept in the audit log."""
    return _LABELS.get(value, value or "—")
