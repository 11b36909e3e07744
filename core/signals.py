"""Receivers for authentication events only: they feed the audit log.

Business state changes are logged by the services that make them, not by signals.
"""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from core.audit import log_action
from core.middleware import SESSION_KEY as IDLE_SESSION_KEY
from core.models import AuditLog


@receiver(user_logged_in, dispatch_uid="core.audit_login")
def _logged_in(sender, request, user, **kwargs):
    log_action(action=AuditLog.Action.LOGIN, user=user, request=request, message="登录成功")
    if request is not None and hasattr(request, "session"):
        request.session[IDLE_SESSION_KEY] = time.time()


@receiver(user_logged_out, dispatch_uid="core.audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        log_action(action=AuditLog.Action.LOGOUT, user=user, request=request, message="退出登录")


@receiver(user_login_failed, dispatch_uid="core.audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")
    reason = "动态口令错误" if "otp_token" in (credentials or {}) else "用户名或密码错误"
    log_action(action=AuditLog.Action.LOGIN_FAILED, username=username[:150], request=request, message=f"登录失败：{reason}")


@receiver(user_locked_out, dispatch_uid="core.audit_locked_out")
def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    log_action(
        action=AuditLog.Action.LOCKED_OUT,
        username=(username or "")[:150],
        request=request,
        message="连续登录失败，账号已锁定30分钟",
    )
