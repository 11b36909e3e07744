from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers

from core.audit import log_action
from core.models import AuditLog

SESSION_KEY = "yidi_last_activity"


def passive(view):
    """Mark a view whose requests are not user activity (htmx progress polling).
    A page that polls a normal view sends the header X-Yidi-Poll: 1 instead."""
    view.yidi_passive = True
    return view


#: Seconds: the last-activity stamp is renewed when it is at least this old.
ACTIVITY_RESOLUTION = 60


class IdleTimeoutMiddleware:
    """Log a user out after YIDI_IDLE_TIMEOUT without activity.

    Polling requests (views marked @passive) neither count as activity nor keep
    the session alive, so a page left open on a progress bar still times out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None
        now = time.time()
        last = request.session.get(SESSION_KEY)
        limit = settings.YIDI_IDLE_TIMEOUT.total_seconds()
        if last is not None and now - last > limit:
            user = request.user
            logout(request)
            log_action(action=AuditLog.Action.IDLE_LOGOUT, user=user, request=request, message="长时间未操作，自动退出")
            messages.info(request, f"您已超过{int(limit // 60)}分钟未操作，为保护参保人信息已自动退出，请重新登录。")
            if request.htmx:
                response = redirect(settings.LOGIN_URL)
                response["HX-Redirect"] = response["Location"]
                return response
            return redirect_to_login(request.get_full_path())
        polling = request.headers.get("X-Yidi-Poll") == "1"
        stale = last is None or now - last >= ACTIVITY_RESOLUTION
        if stale and not polling and not getattr(view_func, "yidi_passive", False):
            # At most once a minute: the session is written (one UPDATE) only then, not on every
            # request. The stamp may lag the last activity by under a minute, so the logout comes
            # at most that much early, never late.
            request.session[SESSION_KEY] = now
        return None


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set (issue 14, finding 8).

    * Permissions-Policy: browser features the portal never uses are off.
    * Cache-Control: no-store on every response to a signed-in user. Pages and downloads
      carry ID numbers, diagnoses and bank accounts; neither the browser's cache nor a
      proxy may keep them (the back button then asks the server again).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
