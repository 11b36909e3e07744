"""The project's configuration: settings, URLs, the WSGI/ASGI entry points and the Celery app.

The Celery app (config.celery) is not imported here, as Celery's template has it: only the
worker, beat and `core.tasks` (before a job is sent) load it; see config/celery.py."""
