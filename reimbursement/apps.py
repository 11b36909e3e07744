from django.apps import AppConfig


class ReimbursementConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reimbursement"
    verbose_name = "零星报销"
