"""Project-wide pytest fixtures: media in a temp dir, jobs run synchronously,
a clean cache, reference data for transactional tests, and staff by role."""

from __future__ import annotations

import os
import shutil

import pytest
from django.core.cache import cache

from core.models import Role


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    from core.tests.s3 import isolate_in_bucket

    isolate_in_bucket(settings)  # the same for a run on S3: a key prefix of the test's own


@pytest.fixture(autouse=True, scope="session")
def _s3_bucket():
    """With YIDI_S3_BUCKET set the whole run stores files in that bucket (core/tests/s3.py)."""
    from core.tests.s3 import ensure_configured_bucket

    ensure_configured_bucket()


@pytest.fixture(autouse=True)
def _sync_jobs(settings):
    settings.YIDI_JOB_RUNNER = "sync"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests flush the database between tests, data migrations
    included; put the reference data (regions, calendar, role groups) back."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    if not transactional and not {"transactional_db", "live_server"} & set(request.fixturenames):
        return
    request.getfixturevalue("_django_db_helper" if transactional else "transactional_db")
    from core.models import Region

    if not Region.objects.exists():
        from importlib import import_module

        from django.apps import apps as django_apps

        migration = import_module("core.migrations.0002_reference_data")
        migration.load_regions(django_apps, None)
        migration.load_calendar(django_apps, None)
        from core.roles import sync_role_groups

        sync_role_groups()


@pytest.fixture
def make_staff(db):
    from core.tests.factories import make_user

    def make(username: str, role: Role | None, region_code: str = "320100", **extra):
        return make_user(username, role, region_code, **extra)

    return make


@pytest.fixture
def clerk(make_staff):
    return make_staff("clerk_nj", Role.CLERK, "320100")


@pytest.fixture
def supervisor(make_staff):
    return make_staff("supervisor_nj", Role.SUPERVISOR, "320100")


@pytest.fixture
def finance(make_staff):
    return make_staff("finance_nj", Role.FINANCE, "320100")


@pytest.fixture
def clerk_wuxi(make_staff):
    return make_staff("clerk_wx", Role.CLERK, "320200")


@pytest.fixture
def supervisor_wuxi(make_staff):
    return make_staff("supervisor_wx", Role.SUPERVISOR, "320200")


@pytest.fixture
def clearing_officer(make_staff):
    return make_staff("clearing_js", Role.CLEARING_OFFICER, "320000")


@pytest.fixture
def administrator(make_staff):
    return make_staff("admin_js", Role.ADMINISTRATOR, "320000", is_staff=True)


@pytest.fixture
def security_admin(make_staff):
    return make_staff("security_js", Role.SECURITY_ADMIN, "320000", is_staff=True)


@pytest.fixture
def audit_admin(make_staff):
    return make_staff("audit_js", Role.AUDIT_ADMIN, "320000", is_staff=True)


def chromium_path() -> str | None:
    return shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium through Playwright. Skips visibly where there is
    none, except under CI=true, where a missing browser fails the run."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but /usr/bin/chromium is missing: install Debian's chromium package")
        pytest.skip("no chromium here (/usr/bin/chromium): install Debian's chromium to run browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but the playwright package is missing")
        pytest.skip("playwright is not installed")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def otp_client(client, settings):
    """The second factor on, as in production, and `otp_client.login_verified(user)`:
    force_login plus a verified authenticator (what the two-step sign-in leaves).
    Plain `client.force_login` stays enough wherever the factor is off (the default in tests)."""
    from core import otp

    settings.YIDI_OTP_REQUIRED = True

    def login_verified(user):
        device = otp.enrol_demo_device(user)
        client.force_login(user)
        session = client.session
        otp.mark_verified(session, device)
        session.save()
        return client

    client.login_verified = login_verified
    return client


@pytest.fixture
def page(browser, live_server, settings):
    """A fresh browser context (its own cookies) on the live server, signing in
    in two steps as in production (the `login` fixture types the TOTP code)."""
    settings.YIDI_JOB_RUNNER = "sync"
    settings.YIDI_OTP_REQUIRED = True
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def login(page):
    """Log a user in through the real two-step login form: the password, then
    `otp_token` from an authenticator holding the demo secret (enrolled here)."""
    from core import otp
    from core.models import User

    def do_login(username: str, password: str = "correct-horse-battery"):
        otp.enrol_demo_device(User.objects.get(username=username))
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("button[type=submit]")
        if page.locator("input[name=otp_token]").count():
            page.fill("input[name=otp_token]", otp.current_code())
            with page.expect_navigation():
                page.click("button[type=submit]")
        page.wait_for_url("**/")
        return page

    return do_login
