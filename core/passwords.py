"""Password policy (等保 三级) and the first-login password change.

Validators (AUTH_PASSWORD_VALIDATORS): at least three of four character classes; nothing
made of the username (as typed, twice, reversed, with or without punctuation); none of the
last five passwords. An account an administrator created, or whose password an
administrator set, must choose its own password at its first sign-in.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from core.audit import log_action
from core.models import AuditLog, PasswordHistory, User

HISTORY_SIZE = 5
CLASSES = (
    ("小写字母", re.compile(r"[a-z]")),
    ("大写字母", re.compile(r"[A-Z]")),
    ("数字", re.compile(r"[0-9]")),
    ("符号", re.compile(r"[^A-Za-z0-9]")),
)


class CharacterClassesValidator:
    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        present = sum(1 for _label, pattern in CLASSES if pattern.search(password))
        if present < self.min_classes:
            raise ValidationError(
                f"密码须包含小写字母、大写字母、数字、符号中的至少{self.min_classes}类，您的密码只有{present}类。",
                code="password_too_simple",
            )

    def get_help_text(self):
        return f"须包含小写字母、大写字母、数字、符号中的至少{self.min_classes}类。"


def _letters_and_digits(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.lower())


class UsernameDerivedValidator:
    """Refuse a password built from the username: as typed, twice, reversed (punctuation and case ignored)."""

    def validate(self, password, user=None):
        username = _letters_and_digits(getattr(user, "username", "") or "")
        if len(username) < 3:
            return
        candidate = _letters_and_digits(password)
        if username in candidate or username[::-1] in candidate:
            raise ValidationError("密码不能包含用户名（包括重复、倒序或改变大小写的用户名）。", code="password_like_username")

    def get_help_text(self):
        return "不能包含用户名（包括重复或倒序）。"


class PasswordHistoryValidator:
    def __init__(self, count: int = HISTORY_SIZE):
        self.count = count

    def validate(self, password, user=None):
        if user is None or user.pk is None:
            return
        encoded = list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[: self.count])
        if user.password and user.password not in encoded:
            encoded.append(user.password)
        if any(check_password(password, value) for value in encoded):
            raise ValidationError(f"新密码不能与最近{self.count}次使用过的密码相同。", code="password_reused")

    def password_changed(self, password, user=None):
        """Called by Django whenever a user with a new password is saved."""
        if user is None or user.pk is None:
            return
        PasswordHistory.objects.create(user=user, password=user.password)
        stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[self.count :]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()

    def get_help_text(self):
        return f"不能与最近{self.count}次使用过的密码相同。"


def password_set_by_administrator(*, user: User, by: User) -> None:
    """An administrator created the account or set its password: the user chooses their own at first sign-in."""
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    user.must_change_password = True
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=user, to_state="must_change_password", message=f"管理员设置了 {user.username} 的密码，本人登录后须修改")


def password_changed_by_owner(*, user: User) -> None:
    User.objects.filter(pk=user.pk).update(must_change_password=False)
    user.must_change_password = False
    log_action(action=AuditLog.Action.CHANGE, user=user, obj=user, to_state="password_changed", message="修改本人密码")


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed_by_owner(user=form.user)
        return response


ALLOWED_WHILE_CHANGING = ("password_change", "password_change_done", "logout", "login", "login_otp", "recovery_codes", "healthz")


class PasswordChangeRequiredMiddleware:
    """Until an account flagged `must_change_password` sets its own password, every page leads to the form."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or not getattr(user, "must_change_password", False):
            return None
        if request.resolver_match and request.resolver_match.url_name in ALLOWED_WHILE_CHANGING:
            return None
        messages.warning(request, "这是您首次登录（或密码由管理员设置），请先设置只有您自己知道的新密码。")
        return redirect("password_change")
