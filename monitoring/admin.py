from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from monitoring.models import FundBalance, PeriodSummary, SummaryBuild, Threshold


@admin.register(Threshold)
class ThresholdAdmin(SimpleHistoryAdmin):
    list_display = ("region", "indicator", "direction", "value", "active", "updated_by", "updated_at")
    list_filter = ("indicator", "direction", "active")
    readonly_fields = ("updated_by", "updated_at")


@admin.register(FundBalance)
class FundBalanceAdmin(SimpleHistoryAdmin):
    list_display = ("region", "period", "balance", "monthly_expenditure", "entered_by", "entered_at")
    list_filter = ("region",)
    readonly_fields = ("entered_by", "entered_at")


@admin.register(SummaryBuild)
class SummaryBuildAdmin(admin.ModelAdmin):
    """Read-only: the aggregates are rebuilt by imports and seed_demo, never edited."""

    list_display = ("period", "settlement_count", "row_count", "seconds", "built_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PeriodSummary)
class PeriodSummaryAdmin(SummaryBuildAdmin):
    list_display = ("period", "insured_region", "treatment_region", "insurance_type", "care_type", "visits", "total_amount", "fund_amount")
    list_filter = ("period", "insurance_type", "care_type")
