import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.middleware import SESSION_KEY
from core.models import AuditLog

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def post_login(client, username, password, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_page_is_chinese(client):
    page = client.get(reverse("login")).content.decode()
    assert "用户名" in page and "密码" in page and "登录" in page
    assert 'lang="zh-hans"' in page


def test_wrong_password_says_so_in_chinese_and_is_audited(client, clerk):
    response = post_login(client, clerk.username, "wrong-password-123")
    assert "用户名或密码不正确" in response.content.decode()
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGIN_FAILED, username=clerk.username).exists()


def test_successful_login_is_audited(client, clerk):
    response = post_login(client, clerk.username, PASSWORD)
    assert response.status_code == 302
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGIN, user=clerk).exists()


def test_five_failures_lock_the_username_for_everyone_whatever_the_address(client, clerk):
    for attempt in range(5):
        post_login(Client(), clerk.username, "wrong-password-123", ip=f"10.0.0.{attempt + 1}")
    response = post_login(Client(), clerk.username, PASSWORD, ip="10.9.9.9")
    assert response.status_code == 429
    assert "账号已锁定" in response.content.decode()
    assert AuditLog.objects.filter(action=AuditLog.Action.LOCKED_OUT, username=clerk.username).exists()


def test_a_locked_username_does_not_lock_colleagues_on_the_same_counter_ip(client, clerk, supervisor):
    for _ in range(5):
        post_login(Client(), clerk.username, "wrong-password-123", ip="10.0.0.1")
    response = post_login(Client(), supervisor.username, PASSWORD, ip="10.0.0.1")
    assert response.status_code == 302


def test_lockout_lasts_thirty_minutes(settings):
    from datetime import timedelta

    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=30) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username"]


def test_a_success_before_the_limit_resets_the_count(client, clerk):
    for _ in range(4):
        post_login(Client(), clerk.username, "wrong-password-123")
    assert post_login(Client(), clerk.username, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username=clerk.username, failures_since_start__gte=1).exists()


def test_idle_session_is_logged_out_after_thirty_minutes(client, clerk):
    client.force_login(clerk)
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    session[SESSION_KEY] = time.time() - 31 * 60
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client.get(reverse("home")).status_code == 302  # really logged out
    assert AuditLog.objects.filter(action=AuditLog.Action.IDLE_LOGOUT, user=clerk).exists()


def test_activity_is_stamped_at_most_once_a_minute_so_pages_do_not_write_the_session(client, clerk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(clerk)
    client.get(reverse("home"))
    stamp = client.session[SESSION_KEY]
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
    assert client.session[SESSION_KEY] == stamp
    assert not any(query["sql"].startswith('UPDATE "django_session"') for query in queries.captured_queries)
    session = client.session
    session[SESSION_KEY] = time.time() - 61  # a minute on: renewed
    session.save()
    client.get(reverse("home"))
    assert client.session[SESSION_KEY] > time.time() - 5


def test_progress_polling_does_not_keep_an_idle_session_alive(client, clerk):
    from core.models import Job

    job = Job.objects.create(kind="core.pdf_selftest", title="x", created_by=clerk)
    client.force_login(clerk)
    client.get(reverse("home"))
    session = client.session
    session[SESSION_KEY] = stamp = time.time() - 120  # due for renewal, but polling does not renew it
    session.save()
    client.get(reverse("job_progress", args=[job.pk]))
    assert client.session[SESSION_KEY] == stamp


@pytest.mark.parametrize(
    ("password", "fragment"),
    [("short-pw-1", "太短"), ("password123456", "太常见"), ("193748562019384", "只包含数字")],
)
def test_password_rules(password, fragment):
    with pytest.raises(ValidationError) as excinfo:
        validate_password(password)
    assert any(fragment in message for message in excinfo.value.messages)


def test_a_long_password_passes():
    validate_password("yidi-demo-2026")


def test_csrf_is_enforced(clerk):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": clerk.username, "password": PASSWORD})
    assert response.status_code == 403


def _all_url_names():
    names = []

    def walk(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                walk(entry.url_patterns, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                names.append((f"{namespace}{entry.name}", entry.pattern.regex.groupindex))

    walk(get_resolver().url_patterns)
    return names


PUBLIC = {"login", "healthz", "favicon"}  # favicon: the login page shows it too


def test_every_page_needs_login(client):
    checked = 0
    for name, groups in _all_url_names():
        if name in PUBLIC:
            continue
        kwargs = {key: 1 for key in groups}
        try:
            url = reverse(name, kwargs=kwargs or None)
        except Exception:
            url = reverse(name, kwargs={key: "2026-01" for key in groups})
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name
        checked += 1
    assert checked >= 8


def test_security_headers(client):
    response = client.get(reverse("login"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_only_the_home_province_agency_sees_every_region(make_staff):
    assert make_staff("p_js", None, "320000").sees_all_regions
    assert not make_staff("p_zj", None, "330000").sees_all_regions
    assert not make_staff("c_nj", None, "320100").sees_all_regions


def test_error_pages_are_chinese(client, clerk, settings):
    settings.DEBUG = False
    client.force_login(clerk)
    missing = client.get("/jobs/999999/")
    assert missing.status_code == 404 and "没有找到该页面或记录" in missing.content.decode()
    denied = client.get(reverse("calendar_template"))
    assert denied.status_code == 403 and "您的岗位没有这项操作的权限" in denied.content.decode()


def test_expired_csrf_token_page_is_chinese(clerk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    response = client.post(reverse("logout"))
    assert response.status_code == 403 and "页面已过期" in response.content.decode()
