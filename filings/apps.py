from django.apps import AppConfig


class FilingsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "filings"
    verbose_name = "异地就医备案"

    def ready(self):
        from core.figures import watch
        from filings.models import Filing

        watch("filings", Filing, lambda filing: filing.insured_region_id)  # the home figures (filings.dashboard)
