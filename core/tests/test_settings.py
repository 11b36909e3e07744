"""The deployment settings, checked in fresh processes as an operator would start them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-long-random-production-secret-key-that-is-not-the-default-0123456789"
KEYS = {"YIDI_FIELD_KEYS": "k1:" + "a" * 43 + "=", "YIDI_BLIND_INDEX_KEY": "b" * 43 + "="}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST", "YIDI_"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_deploy_check_passes_with_debug_off():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_DEBUG="0", DJANGO_SECRET_KEY=SECRET, DJANGO_ALLOWED_HOSTS="yidi.example.org", **KEYS,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_check_wants_the_encryption_keys_of_its_own():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_DEBUG="0", DJANGO_SECRET_KEY=SECRET, DJANGO_ALLOWED_HOSTS="yidi.example.org",
    )
    assert result.returncode != 0 and "yidi.E021" in result.stderr + result.stdout


def test_missing_secret_key_stops_start_up_with_a_clear_message():
    result = manage("check", DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="yidi.example.org")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def settings_value(name: str, **env: str) -> str:
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    result = manage("shell", "--verbosity", "0", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("name", "secure", "plain"),
    [
        ("SECURE_SSL_REDIRECT", "True", "False"),
        ("SESSION_COOKIE_SECURE", "True", "False"),
        ("CSRF_COOKIE_SECURE", "True", "False"),
        ("SECURE_HSTS_SECONDS", "31536000", "0"),
    ],
)
def test_tls_settings_on_by_default_and_off_with_https_0(name, secure, plain):
    production = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": SECRET, "DJANGO_ALLOWED_HOSTS": "yidi.example.org"}
    assert settings_value(name, **production) == secure
    assert settings_value(name, **production, DJANGO_HTTPS="0") == plain


def test_plain_http_deployment_still_passes_the_deploy_check():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_DEBUG="0", DJANGO_SECRET_KEY=SECRET, DJANGO_ALLOWED_HOSTS="yidi.example.org", DJANGO_HTTPS="0", **KEYS,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_language_and_time_zone(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_bad_boolean_is_refused_loudly():
    result = manage("check", DJANGO_DEBUG="maybe")
    assert result.returncode != 0 and "DJANGO_DEBUG must be" in result.stderr


def test_missing_harfbuzz_subset_fails_the_system_check(monkeypatch):
    from weasyprint.text import ffi

    from core.checks import check_pdf_toolchain

    monkeypatch.setattr(ffi, "harfbuzz_subset", None)
    errors = check_pdf_toolchain()
    assert any(error.id == "yidi.E002" and "libharfbuzz-subset0" in error.hint for error in errors)


def test_pdf_toolchain_is_complete_on_this_machine():
    from core.checks import check_pdf_toolchain

    assert check_pdf_toolchain() == []


def test_every_scheduled_task_exists():
    from celery import current_app

    from config.celery import app

    app.loader.import_default_modules()
    registered = set(current_app.tasks)
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in registered, entry["task"]


def test_a_command_that_cannot_reach_its_database_says_so_in_chinese(monkeypatch):
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import OperationalError

    from clearing.management.commands import run_clearing

    def unreachable(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')

    monkeypatch.setattr(run_clearing.services, "period_get_or_create", unreachable)
    with pytest.raises(CommandError, match="(?s)数据库操作失败.*请检查 DATABASE_URL"):
        call_command("run_clearing", "--period", "2026-02")


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
