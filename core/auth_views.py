"""Two-step sign-in: the password, then the second factor (`otp_token`).

The password step alone logs no one in: it keeps a short-lived "pending" note in the
session (who, which backend, where to go). The second step checks the code, or — for an
account without an authenticator yet — shows the QR code to enrol one; only then is the
user logged in. Wrong codes count as failed logins (audit, and django-axes locks the
username after 5, whatever the step).
"""

from __future__ import annotations

import time

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from core import otp
from core.forms import LoginForm
from core.models import User

PENDING_KEY = "yidi_login_pending"
RECOVERY_SHOWN_KEY = "yidi_recovery_codes"
PENDING_SECONDS = 5 * 60
MAX_TRIES = 5


class OTPTokenForm(forms.Form):
    otp_token = forms.CharField(
        label="动态口令",
        max_length=20,
        strip=True,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="验证器上显示的6位数字；手机不在身边时可输入一个恢复码。",
    )


class PasswordStepView(LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        if not otp.otp_required():
            return super().form_valid(form)
        user = form.get_user()
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
            "tries": 0,
        }
        return HttpResponseRedirect(reverse("login_otp"))


def _pending_user(request) -> tuple[dict | None, User | None]:
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None, None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    return pending, user


@login_not_required
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def otp_step(request):
    pending, user = _pending_user(request)
    if user is None:
        messages.info(request, "请先输入用户名和密码（第一步超过5分钟未完成需重新开始）。")
        return redirect("login")
    credentials = {"username": user.username}
    if AxesProxyHandler.is_locked(request, credentials):
        request.session.pop(PENDING_KEY, None)
        return render(request, "registration/locked_out.html", status=429)
    device = otp.confirmed_totp(user)
    enrolling = device is None
    if enrolling:
        device = otp.pending_totp(user)
    form = OTPTokenForm(request.POST or None)
    if enrolling:
        form.fields["otp_token"].help_text = "验证器上显示的6位数字。绑定后会给您10个恢复码。"
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["otp_token"]
        accepted = (device if otp.verify_enrolment(device, token) else None) if enrolling else otp.verify(user, token)
        if accepted is not None:
            return _complete(request, user, accepted, pending, enrolling)
        pending["tries"] += 1
        request.session[PENDING_KEY] = pending
        user_login_failed.send(
            sender=__name__, credentials={"username": user.username, "otp_token": "********"}, request=request
        )
        if pending["tries"] >= MAX_TRIES or AxesProxyHandler.is_locked(request, credentials):
            request.session.pop(PENDING_KEY, None)
            return render(request, "registration/locked_out.html", status=429)
        form.add_error("otp_token", "动态口令不正确或已过期，请输入验证器上当前显示的6位数字。")
    context = {"form": form, "enrolling": enrolling, "username": user.username}
    if enrolling:
        context |= {"qr_svg": otp.qr_svg(device), "secret": otp.base32_secret(device)}
    return render(request, "registration/login_otp.html", context)


def _complete(request, user: User, device, pending: dict, enrolling: bool):
    codes = otp.enrol_confirm(device=device, by=user) if enrolling else None
    request.session.pop(PENDING_KEY, None)
    auth_login(request, user, backend=pending["backend"])
    otp_login(request, device)
    if codes:
        request.session[RECOVERY_SHOWN_KEY] = codes
        return redirect(f"{reverse('recovery_codes')}?next={pending['next']}")
    return HttpResponseRedirect(pending["next"])


@never_cache
@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """Shown once after enrolment or regeneration; the user writes them down."""
    if request.method == "POST":
        codes = otp.recovery_codes_regenerate(user=request.user)
    else:
        codes = request.session.pop(RECOVERY_SHOWN_KEY, None)
    next_url = request.GET.get("next") or reverse("home")
    if not next_url.startswith("/") or next_url.startswith("//"):
        next_url = reverse("home")
    return render(
        request,
        "registration/recovery_codes.html",
        {
            "codes": codes,
            "left": otp.recovery_codes_left(request.user),
            "enrolled": otp.is_enrolled(request.user),
            "next": next_url,
        },
    )
