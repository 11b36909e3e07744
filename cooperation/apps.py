from django.apps import AppConfig


class CooperationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cooperation"
    verbose_name = "业务协同"
