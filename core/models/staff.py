from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from simple_history.models import HistoricalRecords

from core.reference import home_province_code


class Role(models.TextChoices):
    """Staff roles (domain.md §1). Each is a Django group named by its label."""

    CLERK = "clerk", "窗口经办人员"
    SUPERVISOR = "supervisor", "审核人员"
    FINANCE = "finance", "财务人员"
    CLEARING_OFFICER = "clearing_officer", "清算岗"
    ADMINISTRATOR = "administrator", "系统管理员"
    HOSPITAL = "hospital", "定点医疗机构经办人员"
    # 三员分立 (等保 三级): the system administrator manages accounts and reference data, the
    # security administrator watches sign-ins, lockouts and the audit chain, the audit
    # administrator reads the audit log. None of the three does business actions.
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDIT_ADMIN = "audit_admin", "审计管理员"

    @property
    def group_name(self) -> str:
        return str(self.label)


#: The agency's own roles: they see their region's archive and jobs. A hospital's
#: account (Role.HOSPITAL alone) sees only what concerns its own institution.
AGENCY_ROLES = (Role.CLERK, Role.SUPERVISOR, Role.FINANCE, Role.CLEARING_OFFICER, Role.ADMINISTRATOR)


class User(AbstractUser):
    """A staff account. Every account belongs to one agency (经办机构)."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    agency = models.ForeignKey(
        "core.Agency", verbose_name="所属经办机构", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    institution = models.ForeignKey(
        "core.Institution",
        verbose_name="所属定点医疗机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text="仅用于医疗机构经办人员（如办理转诊备案）。",
    )

    must_change_password = models.BooleanField(
        "下次登录须修改密码", default=False, help_text="管理员新建账号或重设密码后，本人登录时须先设置自己的密码。"
    )

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name or self.username

    @cached_property
    def roles(self) -> frozenset[Role]:
        names = {group.name for group in self.groups.all()}
        return frozenset(role for role in Role if role.group_name in names)

    def has_role(self, *roles: Role) -> bool:
        return self.is_superuser or any(role in self.roles for role in roles)

    @property
    def is_agency_staff(self) -> bool:
        """Holds one of the agency's roles (superusers count as agency staff)."""
        return self.has_role(*AGENCY_ROLES)

    @property
    def region_code(self) -> str | None:
        if self.agency_id is None:
            return None
        return self.agency.region_id

    @property
    def region(self):
        return self.agency.region if self.agency_id else None

    @property
    def sees_all_regions(self) -> bool:
        """Province-level staff (and superusers) see every region's cases."""
        if self.is_superuser:
            return True
        return self.agency_id is not None and self.agency.region_id == home_province_code()


class PasswordHistory(models.Model):
    """The hashes of a user's recent passwords: a new one may not repeat the last five."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d}"
