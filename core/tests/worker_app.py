"""The Celery app the worker tests start: the project's own, plus the slow test
job kinds of core/tests/worker_jobs.py (imported once Django is set up)."""

from config.celery import app

app.conf.imports = (*tuple(app.conf.imports or ()), "core.tests.worker_jobs")

__all__ = ["app"]
