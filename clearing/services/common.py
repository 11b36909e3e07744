"""What every clearing service shares: money constants, the home province's cities,
the audit-log helper and the key that names a notice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import DecimalField

from clearing import rules
from core.audit import log_action
from core.models import AuditLog, Region
from core.reference import home_province_code

ZERO = Decimal("0.00")
COMMAND_USER = "命令行"
SUM_FIELD = DecimalField(max_digits=20, decimal_places=2)


def home_cities() -> list[Region]:
    return list(Region.objects.cities_of(home_province_code()).select_related("agency").order_by("sort_order", "code"))


def home_city_codes() -> list[str]:
    return list(Region.objects.cities_of(home_province_code()).order_by("sort_order", "code").values_list("code", flat=True))


def areas() -> rules.Areas:
    return rules.Areas(home_province_code(), tuple(home_city_codes()))


def _who(by) -> dict[str, Any]:
    return {"user": by} if getattr(by, "pk", None) else {"username": COMMAND_USER}


def _log(obj, by, *, from_state: str = "", to_state: str = "", message: str, action=AuditLog.Action.TRANSITION, data=None):
    log_action(action=action, obj=obj, from_state=from_state, to_state=to_state, message=message, data=data, **_who(by))


def notice_key(scope: str, annex: str, region: str = "", extra: str = "") -> str:
    parts = ["clearing", scope, annex]
    if region:
        parts.append(region)
    if extra:
        parts.append(extra)
    return ":".join(parts)
