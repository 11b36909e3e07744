from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from clearing.models import (
    AdvanceEntry,
    AdvancePolicy,
    AdvanceYear,
    ClearingPeriod,
    CrossAllotment,
    ImportBatch,
    PaymentDue,
    Settlement,
)


@admin.register(AdvancePolicy)
class AdvancePolicyAdmin(SimpleHistoryAdmin):
    """The regional setting: how the yearly intra-province advance is computed."""

    list_display = ["province", "effective_year", "method", "factor", "formula_text"]
    list_filter = ["method"]
    autocomplete_fields = ["province"]


class ReadOnlyAdmin(SimpleHistoryAdmin):
    """Changed only through the clearing pages (services keep the rules and the audit)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClearingPeriod)
class ClearingPeriodAdmin(ReadOnlyAdmin):
    list_display = ["period", "status", "settlement_count", "fund_total", "data_due", "clearing_due", "payment_due"]
    list_filter = ["status"]
    search_fields = ["period"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ["filename", "status", "source", "row_count", "inserted_count", "error_count", "created_by", "created_at"]
    list_filter = ["status", "source"]


@admin.register(PaymentDue)
class PaymentDueAdmin(ReadOnlyAdmin):
    list_display = ["region", "kind", "period", "year", "amount", "paid_amount", "due_on", "status"]
    list_filter = ["kind", "status", "region"]


@admin.register(AdvanceYear)
class AdvanceYearAdmin(ReadOnlyAdmin):
    list_display = ["year", "intra_computed_at", "intra_issued_at", "cross_computed_at", "cross_issued_at", "carried_over_at"]


@admin.register(CrossAllotment)
class CrossAllotmentAdmin(ReadOnlyAdmin):
    list_display = ["year", "province", "amount", "source", "entered_by"]
    list_filter = ["year"]


@admin.register(AdvanceEntry)
class AdvanceEntryAdmin(ReadOnlyAdmin):
    list_display = ["entry_date", "year", "scope", "region", "province", "kind", "amount"]
    list_filter = ["year", "scope", "kind", "region"]


@admin.register(Settlement)
class SettlementAdmin(admin.ModelAdmin):
    list_display = ["settlement_id", "period", "insured_region", "treatment_region", "insurance_type", "fund_amount"]
    list_filter = ["period", "insurance_type", "care_type"]
    search_fields = ["=settlement_id"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
