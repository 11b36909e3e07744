"""Celery application. Settings come from config/settings.py (CELERY_*; beat's schedule from
YIDI_BEAT_SCHEDULE).

Loaded by the worker and beat (`celery -A config …` finds `config.celery.app`) and by
`core.tasks` before a job is sent, not at start-up: a web process under the in-process
runner, or a management command, never imports Celery (0.14 s of a process's start)."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def beat_schedule(plain: dict) -> dict:
    """Celery's beat_schedule from settings.YIDI_BEAT_SCHEDULE: {"every": timedelta} as it is,
    {"at": "HH:MM", "weekday": n} as a crontab."""
    schedule = {}
    for name, entry in plain.items():
        if "every" in entry:
            when = entry["every"]
        else:
            hour, minute = (int(part) for part in entry["at"].split(":"))
            when = crontab(hour=hour, minute=minute, day_of_week=entry.get("weekday", "*"))
        schedule[name] = {"task": entry["task"], "schedule": when}
    return schedule


app = Celery("yidi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = beat_schedule(settings.YIDI_BEAT_SCHEDULE)
app.autodiscover_tasks()
