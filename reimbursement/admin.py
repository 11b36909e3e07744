from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from simple_history.admin import SimpleHistoryAdmin

from core.admin import IdNumberSearchMixin
from reimbursement.models import (
    BenefitRule,
    Claim,
    ClaimMaterial,
    ClaimNotice,
    OtherAllowedCase,
    PaymentBatch,
    PaymentReturn,
    PolicyVersion,
    PublishedMaterial,
    SituationAdjustment,
    StudentVacation,
)


class BenefitRuleInline(admin.TabularInline):
    model = BenefitRule
    extra = 0


class SituationAdjustmentFormSet(BaseInlineFormSet):
    """A reduction above the province's cap is refused, naming the article (reimbursement.caps)."""

    def clean(self):
        super().clean()
        from reimbursement.caps import reduction_cap_problem

        policy = self.instance
        if not (policy.region_id and policy.effective_from):
            return
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or not data.get("scope") or not data.get("situation"):
                continue
            problem = reduction_cap_problem(
                region=policy.region_id, on=policy.effective_from, scope=data["scope"],
                situation=data["situation"], points=data.get("reduction_points"),
            )
            if problem:
                form.add_error("reduction_points", problem)
                raise ValidationError(problem)


class SituationAdjustmentInline(admin.TabularInline):
    model = SituationAdjustment
    formset = SituationAdjustmentFormSet
    extra = 0


@admin.register(PolicyVersion)
class PolicyVersionAdmin(SimpleHistoryAdmin):
    list_display = [
        "name", "region", "effective_from", "adjustment_mode", "cross_year_mode", "retroactive_filing_months", "is_active",
    ]
    list_filter = ["adjustment_mode", "cross_year_mode", "is_active", "region"]
    search_fields = ["name", "basis", "region__name"]
    date_hierarchy = "effective_from"
    autocomplete_fields = ["region"]
    inlines = [BenefitRuleInline, SituationAdjustmentInline]
    save_as = True


@admin.register(PublishedMaterial)
class PublishedMaterialAdmin(SimpleHistoryAdmin):
    list_display = ["name", "region", "published_on", "filed_with_province_on", "withdrawn_on"]
    list_filter = ["region"]
    search_fields = ["name", "notice"]
    autocomplete_fields = ["region"]


@admin.register(StudentVacation)
class StudentVacationAdmin(SimpleHistoryAdmin):
    list_display = ["region", "year", "name", "start_date", "end_date", "basis"]
    list_filter = ["year", "region"]
    search_fields = ["region__name", "name", "basis"]
    autocomplete_fields = ["region"]


@admin.register(OtherAllowedCase)
class OtherAllowedCaseAdmin(SimpleHistoryAdmin):
    list_display = ["name", "region", "basis", "active"]
    list_filter = ["region", "active"]
    search_fields = ["name"]
    autocomplete_fields = ["region"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ClaimMaterialInline(ReadOnlyInline):
    model = ClaimMaterial
    fields = ["label", "received", "received_as", "received_on", "received_by"]


class ClaimNoticeInline(ReadOnlyInline):
    model = ClaimNotice
    fields = ["kind", "issued_on", "issued_by", "due_on", "expected_on", "method", "before_deadline"]


@admin.register(Claim)
class ClaimAdmin(IdNumberSearchMixin, SimpleHistoryAdmin):
    """Read-only: claims change only through the services (the portal's pages)."""

    list_display = ["number", "person", "care_type", "status", "total_amount", "fund_payment", "due_on", "region"]
    list_filter = ["status", "care_type", "situation", "region"]
    search_fields = ["number", "person__name", "invoice_numbers"]
    id_number_hash_lookup = "person__id_number_hash"
    id_number_last4_lookup = "person__id_number_last4"
    inlines = [ClaimMaterialInline, ClaimNoticeInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PaymentBatch)
class PaymentBatchAdmin(SimpleHistoryAdmin):
    list_display = ["number", "region", "status", "claim_count", "total_amount", "created_by", "created_at", "paid_on"]
    list_filter = ["status", "region"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PaymentReturn)
class PaymentReturnAdmin(SimpleHistoryAdmin):
    """Read-only: returns are recorded and resolved through the claim pages."""

    list_display = ["claim", "returned_on", "amount", "reason", "recorded_by", "resolved_at", "account_changed"]
    list_filter = ["account_changed"]
    search_fields = ["claim__number", "reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
