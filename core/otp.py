"""The second factor (等保 三级): TOTP (RFC 6238: SHA-1, 30 s, 6 digits) with django-otp,
recovery codes as a django-otp static device, reset by an administrator.

Sign-in is two steps (core.auth_views): the password step keeps only a "pending" note in
the session; the second step's `otp_token` is checked here and only then is the user
logged in. `OTPRequiredMiddleware` logs out any session that is authenticated without a
verified device (the admin's own login form, a password-only path), so a password alone
never reaches a page. Required when `YIDI_OTP_REQUIRED` (on in production).
"""

from __future__ import annotations

import base64
import binascii

import segno
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit import log_action
from core.models import AuditLog, User

#: Every demo user (seed_demo) is enrolled with this public secret (domain.md §7).
DEMO_TOTP_SECRET = "YIDIDEMOYIDIDEMOYIDIDEMO"
RECOVERY_CODE_COUNT = 10
TOTP_NAME = "验证器"
RECOVERY_NAME = "恢复码"


def otp_required() -> bool:
    return settings.YIDI_OTP_REQUIRED


def hex_key(base32_secret: str) -> str:
    return binascii.hexlify(base64.b32decode(base32_secret)).decode()


DEMO_KEY = hex_key(DEMO_TOTP_SECRET)


def base32_secret(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode()


def current_code(base32_secret_value: str = DEMO_TOTP_SECRET) -> str:
    """The code an authenticator shows now for this secret (demo_otp, tests)."""
    totp = TOTP(base64.b32decode(base32_secret_value), step=30, digits=6)
    return f"{totp.token():06d}"


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def is_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp(user: User) -> TOTPDevice:
    """The unconfirmed device shown during enrolment (kept until confirmed, so a reload shows the same QR)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The enrolment QR code as inline SVG, drawn here: no outside request."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)


def verify(user: User, token: str):
    """The device that accepts `token` (the TOTP, or an unused recovery code), or None."""
    token = (token or "").strip().replace(" ", "")
    if not token:
        return None
    if token.isdigit() and len(token) == 6:
        for device in TOTPDevice.objects.filter(user=user):
            if device.key == DEMO_KEY:
                # The demo secret is public (README): replay protection would only make
                # two sign-ins within 30 seconds fail, so the demo accounts skip it.
                totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
                if totp.verify(int(token), device.tolerance):
                    return device
            elif device.verify_token(token):
                return device
        return None
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(token.lower()):
            return device
    return None


def verify_enrolment(device: TOTPDevice, token: str) -> bool:
    token = (token or "").strip().replace(" ", "")
    return token.isdigit() and len(token) == 6 and device.verify_token(token)


@transaction.atomic
def enrol_confirm(*, device: TOTPDevice, by: User) -> list[str]:
    """The user proved they hold the secret: the device counts, and fresh recovery codes are issued."""
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(device.user)
    log_action(action=AuditLog.Action.SECOND_FACTOR, user=by, obj=device.user, to_state="enrolled", message="启用动态口令（第二因素）")
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    codes = _new_recovery_codes(user)
    log_action(action=AuditLog.Action.SECOND_FACTOR, user=user, obj=user, to_state="recovery_codes", message="重新生成恢复码，旧恢复码作废")
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _new_recovery_codes(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def otp_reset(*, user: User, by: User) -> None:
    """An administrator clears a user's authenticator and recovery codes (lost phone):
    the user enrols again at the next sign-in."""
    had = TOTPDevice.objects.filter(user=user).exists() or StaticDevice.objects.filter(user=user).exists()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    log_action(
        action=AuditLog.Action.SECOND_FACTOR,
        user=by,
        obj=user,
        from_state="enrolled" if had else "",
        to_state="reset",
        message=f"重置 {user.username} 的动态口令和恢复码，下次登录时重新绑定",
    )


def enrol_demo_device(user: User) -> TOTPDevice:
    """seed_demo: the demo user's authenticator holds the public demo secret (idempotent)."""
    device = confirmed_totp(user)
    if device is not None and device.key == DEMO_KEY:
        return device
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_NAME, key=DEMO_KEY, confirmed=True)


EXEMPT_URL_NAMES = ("login", "login_otp", "logout", "healthz")


class OTPRequiredMiddleware:
    """A session signed in without a verified second factor is ended (after django-otp's OTPMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not otp_required() or not request.user.is_authenticated:
            return None
        if request.user.is_verified():
            return None
        if request.resolver_match and request.resolver_match.url_name in EXEMPT_URL_NAMES:
            return None
        logout(request)
        return redirect_to_login(request.get_full_path(), reverse("login"))


def mark_verified(session, device) -> None:
    """Tests: make a force_login session count as having passed the second step."""
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
