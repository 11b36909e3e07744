"""XLSX exports of lists, safe to open in a spreadsheet.

Text a clerk or an applicant typed (names, invoice numbers, bank names …) may start with
= + - @ or a control character; a spreadsheet would run such a cell as a formula (CSV/formula
injection). django-import-export's IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only strips a
leading "=" and turns every cell into text, so these fields neutralise text cells themselves
(a leading apostrophe, as OWASP recommends) and keep amounts numeric and dates as date cells.
Every export is audited by the view that serves it (`xlsx_response`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from import_export import fields

from core.audit import log_action
from core.models import AuditLog

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: One sheet stays usable (and the request short): narrow the list with its filters beyond this.
MAX_EXPORT_ROWS = 100_000


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SafeField(fields.Field):
    def export(self, instance, **kwargs):
        value = self.get_value(instance)
        if value is None:
            return ""
        if isinstance(value, Decimal | int | float | date):
            return value  # numbers and dates stay typed cells (a date cell, not text)
        return neutralise(str(value) if not isinstance(value, str) else value)


def export_xlsx(resource, queryset, *, title: str) -> tuple[bytes, int]:
    """The rows as XLSX bytes and their number."""
    dataset = resource.export(queryset=queryset)
    dataset.title = title[:31]
    return dataset.export("xlsx"), dataset.height


def xlsx_response(request, resource, queryset, *, title: str, filename: str) -> HttpResponse:
    """Serve a list as XLSX (audited), or say in Chinese that it is too long for one sheet."""
    from django.contrib import messages
    from django.shortcuts import redirect
    from django.utils.http import url_has_allowed_host_and_scheme

    count = queryset.count()
    if count > MAX_EXPORT_ROWS:
        messages.error(request, f"共 {count} 条，超过一次导出的上限 {MAX_EXPORT_ROWS} 条，请先用筛选条件缩小范围。")
        back = request.META.get("HTTP_REFERER") or ""
        safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure())
        return redirect(back if safe else "/")  # back to the list, never to another site
    content, rows = export_xlsx(resource, queryset, title=title)
    log_action(action=AuditLog.Action.EXPORT, user=request.user, request=request, message=f"导出{title} {rows} 条")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}-{timezone.localdate():%Y%m%d}.xlsx"'
    return response
