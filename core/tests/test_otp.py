"""The second factor: two-step sign-in with `otp_token`, enrolment, recovery codes, reset."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import otp
from core.models import AuditLog

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _otp_on(settings):
    settings.YIDI_OTP_REQUIRED = True


def password_step(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.0.0.5")


def test_a_password_alone_opens_no_session_that_reaches_any_page(client, clerk):
    otp.enrol_demo_device(clerk)
    response = password_step(client, clerk.username)
    assert response.status_code == 302 and response["Location"] == reverse("login_otp")
    assert "_auth_user_id" not in client.session
    for url in (reverse("home"), reverse("job_list"), reverse("document_list"), reverse("calendar"), "/admin/"):
        response = client.get(url, follow=True)
        assert response.redirect_chain and response.request["PATH_INFO"] == reverse("login"), url
    assert not AuditLog.objects.filter(action=AuditLog.Action.LOGIN, user=clerk).exists()


def test_the_second_step_takes_an_rfc6238_code_in_otp_token(client, clerk):
    otp.enrol_demo_device(clerk)
    password_step(client, clerk.username)
    page = client.get(reverse("login_otp")).content.decode()
    assert 'name="otp_token"' in page
    code = f"{TOTP(bytes.fromhex(otp.DEMO_KEY), step=30, digits=6).token():06d}"
    response = client.post(reverse("login_otp"), {"otp_token": code}, REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    login = AuditLog.objects.get(action=AuditLog.Action.LOGIN, user=clerk)
    assert login.ip == "10.0.0.5"


def test_a_wrong_code_is_a_failed_login_with_ip_and_five_lock_the_account(client, clerk):
    otp.enrol_demo_device(clerk)
    password_step(client, clerk.username)
    response = client.post(reverse("login_otp"), {"otp_token": "000000" if otp.current_code() != "000000" else "111111"})
    assert "动态口令不正确" in response.content.decode()
    failed = AuditLog.objects.get(action=AuditLog.Action.LOGIN_FAILED, username=clerk.username)
    assert "动态口令错误" in failed.message and failed.ip == "127.0.0.1"
    for _ in range(4):
        response = client.post(reverse("login_otp"), {"otp_token": "12345"})
    assert response.status_code == 429 and "账号已锁定" in response.content.decode()
    # Even the right password and code no longer get in.
    assert password_step(Client(), clerk.username).status_code == 429


def test_someone_without_an_authenticator_enrols_with_a_local_qr_code_and_gets_recovery_codes(client, clerk):
    password_step(client, clerk.username)
    page = client.get(reverse("login_otp")).content.decode()
    assert "<svg" in page and "绑定验证器" in page and 'name="otp_token"' in page
    assert "http://" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")
    device = TOTPDevice.objects.get(user=clerk, confirmed=False)
    assert otp.base32_secret(device) in page
    code = f"{TOTP(device.bin_key).token():06d}"
    response = client.post(reverse("login_otp"), {"otp_token": code})
    assert response.status_code == 302 and response["Location"].startswith(reverse("recovery_codes"))
    codes_page = client.get(response["Location"]).content.decode()
    codes = list(StaticToken.objects.filter(device__user=clerk).values_list("token", flat=True))
    assert len(codes) == 10 and all(code in codes_page for code in codes)
    assert AuditLog.objects.filter(action=AuditLog.Action.SECOND_FACTOR, user=clerk, to_state="enrolled").exists()


def test_a_recovery_code_signs_in_once(clerk):
    otp.enrol_demo_device(clerk)
    codes = otp.recovery_codes_regenerate(user=clerk)
    first = Client()
    password_step(first, clerk.username)
    assert first.post(reverse("login_otp"), {"otp_token": codes[0]}).status_code == 302
    second = Client()
    password_step(second, clerk.username)
    assert "动态口令不正确" in second.post(reverse("login_otp"), {"otp_token": codes[0]}).content.decode()


def test_a_session_signed_in_without_the_second_factor_is_ended(client, clerk):
    client.force_login(clerk)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_a_verified_test_session_reaches_pages(otp_client, clerk):
    assert otp_client.login_verified(clerk).get(reverse("home")).status_code == 200


def test_an_administrator_resets_a_lost_authenticator_and_it_is_audited(otp_client, administrator, clerk):
    otp.enrol_demo_device(clerk)
    otp.recovery_codes_regenerate(user=clerk)
    otp_client.login_verified(administrator)
    response = otp_client.post(
        reverse("admin:core_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [clerk.pk]},
        REMOTE_ADDR="10.3.3.3",
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=clerk).exists()
    assert not StaticToken.objects.filter(device__user=clerk).exists()
    entry = AuditLog.objects.get(action=AuditLog.Action.SECOND_FACTOR, to_state="reset")
    assert entry.user == administrator and entry.object_id == str(clerk.pk) and entry.ip == "10.3.3.3"


def test_the_admin_site_has_no_password_only_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("debug", "explicit", "expected"),
    [("0", None, "True"), ("1", None, "False"), ("0", "0", "False"), ("1", "1", "True")],
)
def test_otp_is_required_in_production_unless_turned_off(debug, explicit, expected):
    """Read in a fresh interpreter, outside pytest, as `make run` and production do."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if k not in ("YIDI_OTP_REQUIRED", "YIDI_TESTING")}
    env |= {"DJANGO_DEBUG": debug, "DJANGO_SECRET_KEY": "x" * 50, "DJANGO_SETTINGS_MODULE": "config.settings"}
    if explicit is not None:
        env["YIDI_OTP_REQUIRED"] = explicit
    code = "import config.settings as s; print(s.YIDI_OTP_REQUIRED)"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == expected


def test_demo_users_are_enrolled_with_the_published_secret_and_demo_otp_prints_the_code(capsys):
    from core.demo import ensure_demo_user
    from core.models import Agency, Role
    from core.tests.factories import AgencyFactory

    AgencyFactory()
    ensure_demo_user(username="clerk_nanjing", full_name="王晓敏", role=Role.CLERK, agency=Agency.objects.get(region="320100"))
    ensure_demo_user(username="clerk_nanjing", full_name="王晓敏", role=Role.CLERK, agency=Agency.objects.get(region="320100"))
    device = TOTPDevice.objects.get(user__username="clerk_nanjing", confirmed=True)
    assert otp.base32_secret(device) == "YIDIDEMOYIDIDEMOYIDIDEMO"
    call_command("demo_otp", "--plain")
    assert capsys.readouterr().out.strip() == otp.current_code()
