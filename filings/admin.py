from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from core.admin import IdNumberSearchMixin
from filings.models import Filing, FilingRegionSettings, UploadBatch


@admin.register(Filing)
class FilingAdmin(IdNumberSearchMixin, SimpleHistoryAdmin):
    """Read-only in the admin: filings change only through the services (counter screens)."""

    list_display = ["number", "insured_person", "person_type", "destination", "status", "channel", "start_date",
                    "end_date", "upload_status"]
    list_filter = ["status", "person_type", "channel", "basis", "upload_status", "insured_region"]
    search_fields = ["number", "insured_person__name", "online_reference"]
    id_number_hash_lookup = "insured_person__id_number_hash"
    id_number_last4_lookup = "insured_person__id_number_last4"
    list_select_related = ["insured_person", "destination"]
    date_hierarchy = "applied_on"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FilingRegionSettings)
class FilingRegionSettingsAdmin(SimpleHistoryAdmin):
    list_display = ["region", "commitment_materials_months", "commitment_lock_months", "temporary_min_months",
                    "review_working_days", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def save_model(self, request, obj, form, change):
        from filings.services import region_settings_save

        region_settings_save(instance=obj, by=request.user)


@admin.register(UploadBatch)
class UploadBatchAdmin(admin.ModelAdmin):
    list_display = ["created_at", "region", "created_by", "count_new", "count_change", "count_cancel", "count_backfill", "document"]
    list_filter = ["region"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
