from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django_otp.plugins.otp_static import admin as _static_admin  # noqa: F401  (see the unregistering below)
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp import admin as _totp_admin  # noqa: F401
from django_otp.plugins.otp_totp.models import TOTPDevice
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from core import otp, workdays
from core.admin_audit import AccessAuditMixin
from core.errors import DomainError
from core.idcard import id_number_hash, is_id_tail, is_whole_id_number, normalize_id_number, parse_id_number
from core.models import (
    Agency,
    AuditChainCheck,
    AuditLog,
    CalendarDay,
    CalendarYear,
    Document,
    Institution,
    InsuredPerson,
    Job,
    Region,
    Role,
    User,
)
from core.passwords import password_set_by_administrator
from core.resources import IMPORT_FORMATS, InstitutionResource


@admin.register(Region)
class RegionAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "short_name", "level", "parent", "sort_order"]
    list_filter = ["level", "parent"]
    search_fields = ["code", "name", "short_name"]


@admin.register(Agency)
class AgencyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "short_name", "region", "phone"]
    search_fields = ["name", "short_name", "region__name"]
    autocomplete_fields = ["region"]


@admin.register(Institution)
class InstitutionAdmin(ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [InstitutionResource]
    import_formats = IMPORT_FORMATS

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, DomainError):  # a refusal of core.safe_files, in Chinese
            form.add_error("import_file", e.message)
        else:
            super().add_data_read_fail_error_to_form(form, e)
    list_display = ["code", "name", "region", "kind", "level", "designated", "networked", "can_refer"]
    list_filter = ["kind", "level", "designated", "networked", "can_refer", "region"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["region"]


class InsuredPersonAdminForm(forms.ModelForm):
    """Sex and birth date always follow the ID number (GB 11643)."""

    class Meta:
        model = InsuredPerson
        fields = ["id_number", "name", "insurance_type", "insured_region", "phone", "phone_alt", "address"]

    def clean_id_number(self):
        try:
            self.id_info = parse_id_number(self.cleaned_data["id_number"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0]) from None
        # The unique key is the blind index (the column itself is encrypted), outside the form.
        others = InsuredPerson.objects.with_id_number(self.id_info.number).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("该公民身份号码已登记。")
        return self.id_info.number

    def _post_clean(self):
        if hasattr(self, "id_info"):
            self.instance.sex = self.id_info.sex
            self.instance.birth_date = self.id_info.birth_date
        super()._post_clean()


class IdNumberSearchMixin:
    """Admin search by ID number, which is encrypted (core.fields): a whole number through
    its blind index, four digits through the last-4 column, anything else as search_fields."""

    id_number_hash_lookup = "id_number_hash"
    id_number_last4_lookup = ""

    def get_search_results(self, request, queryset, search_term):
        term = normalize_id_number(search_term)
        if is_whole_id_number(term):
            return queryset.filter(**{self.id_number_hash_lookup: id_number_hash(term)}), False
        if self.id_number_last4_lookup and len(term) == 4 and is_id_tail(term):
            return queryset.filter(**{self.id_number_last4_lookup: term}), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(InsuredPerson)
class InsuredPersonAdmin(IdNumberSearchMixin, SimpleHistoryAdmin):
    form = InsuredPersonAdminForm
    list_display = ["name", "masked_id_number", "sex", "birth_date", "insurance_type", "insured_region"]
    list_filter = ["insurance_type", "sex", "insured_region"]
    search_fields = ["name"]
    search_help_text = "按姓名，或完整的公民身份号码、后四位查找"
    id_number_last4_lookup = "id_number_last4"
    readonly_fields = ["sex", "birth_date", "created_at"]
    autocomplete_fields = ["insured_region"]

    @admin.display(description="公民身份号码")
    def masked_id_number(self, obj):
        return obj.masked_id_number


@admin.register(User)
class UserAdmin(AccessAuditMixin, DjangoUserAdmin, SimpleHistoryAdmin):
    list_display = ["username", "full_name", "agency", "institution", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "groups", "agency"]
    search_fields = ["username", "full_name"]
    autocomplete_fields = ["agency", "institution"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("full_name", "email", "agency", "institution")}),
        ("权限", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "must_change_password")}),
        ("重要日期", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "full_name", "agency", "groups", "password1", "password2")}),
    )
    actions = ["reset_second_factor"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            password_set_by_administrator(user=obj, by=request.user)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, unquote(id))
            if user is not None and user.pk != request.user.pk:
                password_set_by_administrator(user=user, by=request.user)
        return response

    @admin.action(description="重置动态口令和恢复码（手机丢失时；下次登录重新绑定）")
    def reset_second_factor(self, request, queryset):
        if not request.user.has_role(Role.ADMINISTRATOR):
            self.message_user(request, "只有系统管理员可以重置动态口令。", messages.ERROR)
            return
        for user in queryset:
            otp.otp_reset(user=user, by=request.user)
        self.message_user(request, f"已重置 {queryset.count()} 个账号的动态口令，他们下次登录时需重新绑定验证器。")

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # An administrator manages accounts but cannot make anyone a
            # superuser or move their own account to another agency.
            readonly += ["is_superuser", "user_permissions"]
            if obj is not None and obj.pk == request.user.pk:
                readonly += ["agency", "groups", "is_staff", "is_active"]
        return readonly


# The admin modules registering these were imported above, so this works whichever module imports
# this one first (the URLconf's autodiscover, core.admin_app, or a test).
admin.site.unregister(Group)
# Devices hold secrets: they are managed only through sign-in and the audited reset above.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


def _admin_login(request, extra_context=None):
    """The admin has no login form of its own: everyone signs in through the two-step login."""
    return redirect_to_login(request.GET.get("next") or request.get_full_path().replace("login/", ""))


admin.site.login = _admin_login


@admin.register(Group)
class GroupAdmin(AccessAuditMixin, DjangoGroupAdmin):
    pass


@admin.register(CalendarYear)
class CalendarYearAdmin(SimpleHistoryAdmin):
    list_display = ["year", "confirmed", "source", "notice", "updated_at", "updated_by"]
    list_filter = ["confirmed", "source"]
    readonly_fields = ["updated_at", "updated_by"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        workdays.invalidate(obj.year)


@admin.register(CalendarDay)
class CalendarDayAdmin(SimpleHistoryAdmin):
    list_display = ["date", "is_working_day", "name"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        workdays.invalidate(obj.date.year)
        if not CalendarYear.objects.filter(year=obj.date.year, confirmed=True).exists():
            messages.warning(request, f"{obj.date.year}年尚未标记为“已确认”，该年的期限仍按周末推算并提示未确认。")

    def delete_model(self, request, obj):
        year = obj.date.year
        super().delete_model(request, obj)
        workdays.invalidate(year)

    def delete_queryset(self, request, queryset):
        years = set(queryset.values_list("date__year", flat=True))
        super().delete_queryset(request, queryset)
        workdays.invalidate(*years)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "kind", "status", "percent", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    search_fields = ["title"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "version", "is_latest", "period", "region", "sha256", "created_at"]
    list_filter = ["kind", "is_latest", "period"]
    search_fields = ["title", "key"]


@admin.register(AuditChainCheck)
class AuditChainCheckAdmin(ReadOnlyAdmin):
    list_display = ["checked_at", "ok", "records", "broken_seq", "message"]
    list_filter = ["ok"]


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["seq", "at", "username", "action", "object_repr", "from_state", "to_state", "message", "ip"]
    list_filter = ["action"]
    search_fields = ["username", "object_repr", "message"]
    date_hierarchy = "at"
