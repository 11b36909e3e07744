"""Security headers on every response and no inline script or style in any page
template (issue 14, finding 8). The browser check of the same is test_csp_browser.py."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from core.documents import store_document
from core.tests.factories import region

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
STATIC = Path(settings.BASE_DIR) / "static"


def test_every_response_carries_the_policy_headers(client):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
                      "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'"):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


def test_pages_for_signed_in_staff_are_never_cached(client, clerk):
    client.force_login(clerk)
    for name in ("home", "job_list", "document_list", "filings:list", "reimbursement:claim_list"):
        cache_control = client.get(reverse(name))["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, name


def test_downloads_with_personal_data_are_never_cached(client, clerk):
    document = store_document(kind="filing_upload", key="filing:upload:t", title="备案信息上传省平台文件",
                              filename="upload.xlsx", content=b"320106...", by=clerk, region=region("320100"))
    client.force_login(clerk)
    response = client.get(reverse("document_download", args=[document.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response


def _page_templates():
    # PDF templates are rendered by WeasyPrint on the server, never served to a browser.
    return [path for path in TEMPLATES.rglob("*.html") if "pdf" not in path.relative_to(TEMPLATES).parts]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on…= handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


@pytest.mark.parametrize("path", _page_templates(), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_no_template_has_inline_script_or_style(path):
    text = path.read_text(encoding="utf-8")
    found = [label for pattern, label in INLINE if pattern.search(text)]
    assert not found, f"{path.relative_to(TEMPLATES)}: {', '.join(found)} (move it into static/)"


def test_project_scripts_do_not_write_inline_markup_styles():
    """Scripts may set element.style (CSSOM, allowed), never a style attribute or <style> element."""
    for path in STATIC.rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert 'setAttribute("style"' not in text and "createElement(\"style\")" not in text, path
