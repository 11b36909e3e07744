from django.apps import AppConfig


class ReimbursementConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reimbursement"
    verbose_name = "零星报销"

    def ready(self):
        from core.figures import watch
        from reimbursement.models import Claim, ClaimNotice, PaymentReturn

        def region_of_claim(row) -> str | None:
            """The region of a notice's or a return's claim (the claim loaded already, if it is)."""
            if type(row).claim.is_cached(row):
                return row.claim.region_id
            return Claim.objects.filter(pk=row.claim_id).values_list("region_id", flat=True).first()

        # What the home figures count (reimbursement.dashboard): claims, their delay notices, returns.
        watch("reimbursement", Claim, lambda claim: claim.region_id)
        watch("reimbursement", ClaimNotice, region_of_claim)
        watch("reimbursement", PaymentReturn, region_of_claim)
