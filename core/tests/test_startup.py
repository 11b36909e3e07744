"""What a process loads when it starts (issue 15: a `manage.py` command is timed whole, start-up
included). The admin modules wait for the URLconf (core.admin_app) and Celery for the first job
sent (config.celery); the admin's checks and beat's schedule still see everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.contrib import admin
from django.core import checks

ROOT = Path(__file__).resolve().parents[2]

LOADED = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
import django
django.setup()
heavy = ("celery", "kombu", "openpyxl", "import_export.admin", "core.admin", "reimbursement.admin")
at_start = sorted(name for name in heavy if name in sys.modules)
from django.urls import reverse
reverse("admin:index")
after_urls = sorted(name for name in ("core.admin", "reimbursement.admin") if name in sys.modules)
from core.jobs import _dispatch  # noqa: F401
import core.tasks  # noqa: F401  (what a job sent to Celery imports)
from celery import current_app
print(json.dumps({"at_start": at_start, "after_urls": after_urls, "app": current_app.main}))
"""


def test_a_process_starts_without_celery_or_the_admin_modules():
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    done = subprocess.run([sys.executable, "-c", LOADED], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["at_start"] == []
    assert loaded["after_urls"] == ["core.admin", "reimbursement.admin"]  # every page loads them first
    assert loaded["app"] == "yidi"  # a task sent from core.tasks goes through the project's configured app


def test_the_admin_check_reads_the_admin_modules_itself():
    """Whatever order the checks run in, the ModelAdmins are registered before they are checked."""
    from core.admin_app import check_discovered_admin

    assert check_discovered_admin in checks.registry.registry.get_checks()
    assert check_discovered_admin(None) == []
    from core.models import InsuredPerson

    assert admin.site.is_registered(InsuredPerson)


def test_the_admin_check_still_finds_a_broken_admin():
    from core.admin_app import check_discovered_admin
    from core.models import Region

    site = admin.AdminSite(name="broken")
    site.register(Region, type("BrokenAdmin", (admin.ModelAdmin,), {"list_display": ["no_such_field"]}))
    try:
        ids = {message.id for message in check_discovered_admin(None)}
    finally:
        del site
    assert "admin.E108" in ids


def test_beat_schedule_is_made_from_settings():
    from celery.schedules import crontab
    from django.conf import settings

    from config.celery import app, beat_schedule

    assert set(app.conf.beat_schedule) == set(settings.YIDI_BEAT_SCHEDULE)
    purge = beat_schedule({"p": {"task": "core.purge_audit", "at": "02:30", "weekday": 0}})["p"]
    assert purge == {"task": "core.purge_audit", "schedule": crontab(hour=2, minute=30, day_of_week=0)}
    sweep = app.conf.beat_schedule["core-recover-stale-jobs"]
    assert sweep["schedule"] == settings.YIDI_BEAT_SCHEDULE["core-recover-stale-jobs"]["every"]
