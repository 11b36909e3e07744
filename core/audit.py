"""The audit trail: every state change, login and download leaves a record."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from core import audit_chain
from core.models import AuditLog
from core.request_context import current_request


def client_ip(request) -> str | None:
    """The client's address; behind our own proxy (DJANGO_BEHIND_PROXY=1) the one it forwarded.
    Without a request, the one being served (core.request_context), if any."""
    if request is None:
        request = current_request()
    if request is None:
        return None
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def audit_entry(
    *,
    action: str,
    user=None,
    obj: models.Model | None = None,
    message: str = "",
    from_state: str = "",
    to_state: str = "",
    data: dict[str, Any] | None = None,
    request=None,
    username: str = "",
) -> AuditLog:
    """An unsaved audit record: give it to `log_actions` with others of the same change."""
    entry = AuditLog(
        action=action,
        user=user if getattr(user, "pk", None) else None,
        username=username or (getattr(user, "username", "") or ""),
        message=message[:500],
        from_state=from_state or "",
        to_state=to_state or "",
        data=data or {},
        ip=client_ip(request),
    )
    if obj is not None:
        entry.content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        entry.object_id = str(obj.pk)
        entry.object_repr = str(obj)[:200]
    return entry


def log_action(
    *,
    action: str,
    user=None,
    obj: models.Model | None = None,
    message: str = "",
    from_state: str = "",
    to_state: str = "",
    data: dict[str, Any] | None = None,
    request=None,
    username: str = "",
) -> AuditLog:
    """Record one state change, login or download."""
    entry = audit_entry(
        action=action, user=user, obj=obj, message=message, from_state=from_state, to_state=to_state,
        data=data, request=request, username=username,
    )
    return audit_chain.append(entry)


def log_actions(entries: list[AuditLog]) -> list[AuditLog]:
    """Record the audit entries of one change to many objects (a payment batch of 500 claims)
    at once: chained in order under one lock and inserted together, all stamped now."""
    now = timezone.now()
    for entry in entries:
        entry.at = now
    audit_chain.append_many(entries)
    return entries


def entries_for(obj: models.Model):
    """The audit trail of one object, newest first, with the acting user."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return AuditLog.objects.filter(content_type=content_type, object_id=str(obj.pk)).select_related("user")
