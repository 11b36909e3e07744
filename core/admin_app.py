"""The admin as an app that does not discover its modules at start-up.

Every admin module is read by `config.urls` (``admin.autodiscover()``), which every page
loads before it is served. A management command or a worker that serves no page does not
need them, and they are the dearest part of start-up: django-import-export's admin
imports openpyxl for its format list (0.2 s of the 0.8 s a `manage.py` process took
to start, measured for issue 15's whole-process settlement import).

The admin's own system check discovers the modules first, so `manage.py check`
checks every registered ModelAdmin, whatever order the checks run in."""

from __future__ import annotations

from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks


def check_discovered_admin(app_configs, **kwargs):
    """check_admin_app over every admin module (imported here if no page has been served yet)."""
    from django.contrib import admin

    admin.autodiscover()
    return check_admin_app(app_configs, **kwargs)


class AdminConfig(SimpleAdminConfig):
    default = False

    def ready(self) -> None:
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_discovered_admin, checks.Tags.admin)
