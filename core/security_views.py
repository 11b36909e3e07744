"""The security administrator's page (三员分立): the audit chain's state and the sign-in events."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core import audit_chain
from core.decorators import role_required
from core.models import AuditChainCheck, AuditLog, Role

SIGN_IN_ACTIONS = (
    AuditLog.Action.LOGIN,
    AuditLog.Action.LOGIN_FAILED,
    AuditLog.Action.LOCKED_OUT,
    AuditLog.Action.LOGOUT,
    AuditLog.Action.IDLE_LOGOUT,
    AuditLog.Action.SECOND_FACTOR,
)


@role_required(Role.SECURITY_ADMIN)
@require_http_methods(["GET", "POST"])
def security_overview(request):
    if request.method == "POST":
        check = audit_chain.check_and_record()
        (messages.success if check.ok else messages.error)(request, check.message)
        return redirect("security_overview")
    action = request.GET.get("action", "")
    events = AuditLog.objects.filter(action__in=SIGN_IN_ACTIONS).select_related("user")
    if action in SIGN_IN_ACTIONS:
        events = events.filter(action=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/security_overview.html",
        {
            "check": AuditChainCheck.objects.first(),
            "page": page,
            "action": action,
            "actions": [(value, AuditLog.Action(value).label) for value in SIGN_IN_ACTIONS],
        },
    )
