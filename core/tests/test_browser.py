"""The portal in a real browser: log in, see the home page, and nothing is fetched from outside."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_clerk_logs_in_and_no_request_leaves_the_server(page, login, make_staff, live_server):
    make_staff("clerk_browser", Role.CLERK, "320100", full_name="王晓敏")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    login("clerk_browser")
    assert page.locator("text=王晓敏，您好").is_visible()
    assert page.locator("nav.navbar").is_visible()
    # Bootstrap's JS is live: the user menu opens.
    page.click("text=王晓敏")
    assert page.locator("text=退出登录").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "core-home-clerk.png"), full_page=True)
    server = urlsplit(live_server.url).netloc
    outside = [url for url in requested if urlsplit(url).netloc not in (server, "") and not url.startswith("data:")]
    assert outside == []
    assert any(url.endswith("bootstrap.min.css") for url in requested)


def test_wrong_password_message_in_the_browser(page, make_staff):
    make_staff("clerk_typo", Role.CLERK, "320100")
    page.goto("/login/")
    page.fill("input[name=username]", "clerk_typo")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator("text=用户名或密码不正确").is_visible()
