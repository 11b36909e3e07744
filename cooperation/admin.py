"""Read-only admin: cooperation cases change only through the services (the portal's pages)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cooperation.models import AssistDelay, AssistRequest, Coordination, CoordinationHelper, CoordinationNote
from core.admin import IdNumberSearchMixin


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AssistDelayInline(ReadOnlyMixin, admin.TabularInline):
    model = AssistDelay
    extra = 0


@admin.register(AssistRequest)
class AssistRequestAdmin(IdNumberSearchMixin, ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["number", "name", "insured_region", "treatment_region", "status", "result", "total_amount",
                    "answer_due", "late_count"]
    list_filter = ["status", "result", "cross_province", "insured_region", "treatment_region"]
    search_fields = ["number", "name", "institution_name", "settlement_id"]
    inlines = [AssistDelayInline]


class HelperInline(ReadOnlyMixin, admin.TabularInline):
    model = CoordinationHelper
    extra = 0


class NoteInline(ReadOnlyMixin, admin.TabularInline):
    model = CoordinationNote
    extra = 0


@admin.register(Coordination)
class CoordinationAdmin(IdNumberSearchMixin, ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["number", "subject", "requester", "receiver", "kind", "status", "reply_due", "replied_on"]
    list_filter = ["status", "kind", "requester", "receiver"]
    search_fields = ["number", "subject", "person_name"]
    id_number_hash_lookup = "person_id_number_hash"
    inlines = [HelperInline, NoteInline]
