from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from core.fields import BlindIndexField, EncryptedTextField, TailField
from core.idcard import id_number_hash, mask_id_number
from core.scoping import RegionScopedQuerySet


class InsuranceType(models.TextChoices):
    EMPLOYEE = "310", "职工基本医疗保险"
    RESIDENT = "390", "城乡居民基本医疗保险"


class InsuranceStatus(models.TextChoices):
    """参保状态. A change ends the person's long-term filings (江苏 第十条)."""

    INSURED = "insured", "参保缴费"
    SUSPENDED = "suspended", "暂停参保"
    TERMINATED = "terminated", "终止参保"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class InsuredPersonQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("insured_region",)

    def with_id_number(self, number: str):
        """Exact search by a (normalized) ID number, through its blind index."""
        return self.filter(id_number_hash=id_number_hash(number))

    def with_id_tail(self, digits: str, *, prefix: str = ""):
        """Persons whose ID number ends with ``digits`` (at least 4) and starts with ``prefix``
        (the masked form 320104********1232). The last four go through their own indexed
        column; anything longer is checked on the few decrypted candidates."""
        candidates = self.filter(id_number_last4=digits[-4:])
        if len(digits) == 4 and not prefix:
            return candidates
        pks = [
            pk for pk, number in candidates.values_list("pk", "id_number")
            if number.endswith(digits) and number.startswith(prefix)
        ]
        return self.filter(pk__in=pks)


class InsuredPerson(models.Model):
    """参保人员. Sex and birth date are derived from the ID number (core.services)."""

    # Encrypted at rest (core.crypto); searched by its blind index or its last four characters.
    id_number = EncryptedTextField("公民身份号码", purpose="id_number", max_length=18)
    id_number_hash = BlindIndexField("身份号码检索码", source="id_number", purpose="id_number", unique=True)
    id_number_last4 = TailField("身份号码后四位", source="id_number", db_index=True)
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    insurance_type = models.CharField("险种类型", max_length=3, choices=InsuranceType.choices)
    insured_region = models.ForeignKey(
        "core.Region", verbose_name="参保地", on_delete=models.PROTECT, related_name="insured_persons"
    )
    insurance_status = models.CharField(
        "参保状态", max_length=12, choices=InsuranceStatus.choices, default=InsuranceStatus.INSURED
    )
    insurance_status_since = models.DateField(
        "参保状态变更日期", null=True, blank=True, help_text="参保状态最近一次变更生效之日；从未变更的为空。"
    )
    phone = models.CharField("联系电话", max_length=30, blank=True)
    phone_alt = models.CharField("联系电话2", max_length=30, blank=True)
    address = models.CharField("联系地址", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    history = HistoricalRecords()
    objects = InsuredPersonQuerySet.as_manager()

    class Meta:
        verbose_name = "参保人员"
        verbose_name_plural = "参保人员"
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.masked_id_number}）"

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    def age_on(self, day) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years
