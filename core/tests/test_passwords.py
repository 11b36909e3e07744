"""Password policy: classes, nothing from the username, no reuse of the last five, own password at first sign-in."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from core.models import AuditLog, PasswordHistory, Role, User
from core.roles import group_for

pytestmark = pytest.mark.django_db


def refused(password, user=None) -> str:
    with pytest.raises(ValidationError) as excinfo:
        validate_password(password, user)
    return " ".join(excinfo.value.messages)


def test_a_password_needs_three_of_four_character_classes():
    assert "至少3类" in refused("onlylowercaseletters")
    assert "至少3类" in refused("lowercase-and-symbols")
    validate_password("Lower-and-Upper")
    validate_password("digits-2026-lower")


@pytest.mark.parametrize("password", ["Clerk_nj-2026", "clerk_njclerk_nj-X1", "JN_KRELC-2026x", "x-CLERKNJ-9"])
def test_a_password_made_of_the_username_is_refused(clerk, password):
    assert "用户名" in refused(password, clerk)


def test_none_of_the_last_five_passwords_may_come_back(clerk):
    passwords = [f"Rotation-{n}-pass" for n in range(6)]
    for password in passwords:
        validate_password(password, clerk)
        clerk.set_password(password)
        clerk.save()
    assert PasswordHistory.objects.filter(user=clerk).count() == 5
    for recent in passwords[1:]:
        assert "最近5次" in refused(recent, clerk)
    validate_password(passwords[0], clerk)  # six changes ago: allowed again


def test_login_success_and_failure_are_audited_with_the_ip(clerk):
    Client().post(reverse("login"), {"username": clerk.username, "password": "wrong-Password-1"}, REMOTE_ADDR="10.4.4.4")
    Client().post(reverse("login"), {"username": clerk.username, "password": "correct-horse-battery"}, REMOTE_ADDR="10.5.5.5")
    assert AuditLog.objects.get(action=AuditLog.Action.LOGIN_FAILED, username=clerk.username).ip == "10.4.4.4"
    assert AuditLog.objects.get(action=AuditLog.Action.LOGIN, user=clerk).ip == "10.5.5.5"


def test_the_lockout_screen_is_chinese(clerk):
    for _ in range(5):
        Client().post(reverse("login"), {"username": clerk.username, "password": "wrong-Password-1"})
    page = Client().post(reverse("login"), {"username": clerk.username, "password": "correct-horse-battery"})
    text = page.content.decode()
    assert page.status_code == 429 and "账号已锁定" in text and "30分钟" in text and 'lang="zh-hans"' in text


def test_an_account_an_administrator_creates_must_choose_its_own_password_at_first_sign_in(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:core_user_add"),
        {
            "username": "new_clerk",
            "full_name": "新同事",
            "agency": administrator.agency_id,
            "groups": [group_for(Role.CLERK).pk],
            "password1": "Initial-pass-2026",
            "password2": "Initial-pass-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="new_clerk")
    assert user.must_change_password

    newcomer = Client()
    newcomer.post(reverse("login"), {"username": "new_clerk", "password": "Initial-pass-2026"})
    response = newcomer.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("password_change")
    assert newcomer.get(reverse("password_change")).status_code == 200
    response = newcomer.post(
        reverse("password_change"),
        {"old_password": "Initial-pass-2026", "new_password1": "Initial-pass-2026", "new_password2": "Initial-pass-2026"},
    )
    assert "最近5次" in response.content.decode()
    response = newcomer.post(
        reverse("password_change"),
        {"old_password": "Initial-pass-2026", "new_password1": "Mine-only-7391", "new_password2": "Mine-only-7391"},
    )
    assert response.status_code == 302
    assert newcomer.get(reverse("home")).status_code == 200
    user.refresh_from_db()
    assert not user.must_change_password
    assert AuditLog.objects.filter(action=AuditLog.Action.CHANGE, user=user, to_state="password_changed").exists()


def test_a_password_an_administrator_sets_must_be_changed_too(client, administrator, clerk):
    client.force_login(administrator)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[clerk.pk]),
        {"password1": "Reset-by-admin-55", "password2": "Reset-by-admin-55", "usable_password": "true"},
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.must_change_password
    assert AuditLog.objects.filter(action=AuditLog.Action.CHANGE, user=administrator, to_state="must_change_password").exists()
