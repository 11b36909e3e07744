from django.apps import AppConfig
from django.core.signals import request_started
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "基础数据"

    def ready(self) -> None:
        from core import checks, home_panels, selftest, signals  # noqa: F401  (registers checks, receivers, panels, jobs)

        # Each app's navigation items, home panels and job handlers.
        autodiscover_modules("navigation", "dashboard", "jobs")
        post_migrate.connect(_sync_roles, dispatch_uid="core.sync_role_groups")
        # Under the thread runner (make run) the web process sweeps stale jobs itself:
        # its keeper thread starts with the first request (a no-op check afterwards).
        from core.jobs import start_keeper_for_thread_runner

        request_started.connect(start_keeper_for_thread_runner, dispatch_uid="core.job_keeper")
        # The administrator's count of insured persons (core.home_panels) is kept like the other home figures.
        from core.figures import watch
        from core.models import InsuredPerson

        watch("persons", InsuredPerson, lambda person: person.insured_region_id)


def _sync_roles(sender, **kwargs) -> None:
    from core.roles import sync_role_groups

    sync_role_groups()
