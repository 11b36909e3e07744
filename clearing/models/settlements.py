"""Settlement records (结算记录) and the import batches that brought them."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from clearing import rules
from clearing.models.common import CareType
from core.models import InsuranceType
from core.scoping import RegionScopedQuerySet

# --- Settlement records ---------------------------------------------------------


class SettlementQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("insured_region", "treatment_region")


class Settlement(models.Model):
    """One settlement (结算明细) that passed three-party reconciliation, as imported.

    Deliberately plain: exactly the columns of the import format (domain.md §6),
    the settlement id as primary key and one index on the period, so a month of a
    million rows goes in with a single COPY (clearing.importers). The rows are
    immutable facts from the national system; they carry no history table (the
    import batch that brought them is audited instead) and no foreign keys (the
    importer validates region codes; a per-row constraint trigger would cost more
    than the whole import).
    """

    settlement_id = models.CharField("结算流水号", max_length=40, primary_key=True)
    period = models.CharField("清算所属期", max_length=7)
    insured_region = models.CharField("参保地", max_length=6)
    treatment_region = models.CharField("就医地", max_length=6)
    insurance_type = models.CharField("险种类型", max_length=3, choices=InsuranceType.choices)
    care_type = models.CharField("医疗类别", max_length=10, choices=CareType.choices)
    settled_on = models.DateField("结算日期")
    total_amount = models.DecimalField("总费用", max_digits=14, decimal_places=2)
    fund_amount = models.DecimalField("基金支付合计", max_digits=14, decimal_places=2)
    institution = models.CharField("定点医药机构", max_length=200)

    objects = SettlementQuerySet.as_manager()

    class Meta:
        verbose_name = "结算明细"
        verbose_name_plural = "结算明细"
        ordering = ["period", "settlement_id"]
        indexes = [models.Index(fields=["period"], name="clearing_settlement_period")]
        constraints = [
            # The importer's whole-chunk check leaves this one rule to the table.
            models.CheckConstraint(
                condition=Q(fund_amount__gte=0) & Q(fund_amount__lte=models.F("total_amount")),
                name="settlement_fund_within_total",
                violation_error_message="基金支付合计不能为负数，也不能大于总费用。",
            )
        ]

    def __str__(self) -> str:
        return self.settlement_id

    @property
    def is_late(self) -> bool:
        """Declared in a later period than the month it was settled in (延期申报)."""
        return rules.late_months(self.settled_on, self.period) > 0


class ImportBatchQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("region",)


def import_upload_to(instance: ImportBatch, filename: str) -> str:
    today = date.today()
    return f"clearing/imports/{today:%Y/%m}/{instance.sha256[:16]}-{filename}"


class ImportBatch(models.Model):
    """One settlement file brought in (upload page, command line or demo)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "已上传"
        CHECKING = "checking", "校验中"
        CHECKED = "checked", "校验通过，待确认导入"
        REJECTED = "rejected", "校验未通过"
        IMPORTING = "importing", "导入中"
        IMPORTED = "imported", "已导入"
        FAILED = "failed", "导入失败"

    class Source(models.TextChoices):
        UPLOAD = "upload", "页面上传"
        COMMAND = "command", "命令行"
        DEMO = "demo", "演示数据"

    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.UPLOADED, db_index=True)
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.UPLOAD)
    file = models.FileField("文件", upload_to=import_upload_to, max_length=300, blank=True)
    filename = models.CharField("文件名", max_length=255)
    size = models.PositiveBigIntegerField("大小（字节）", default=0)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    encoding = models.CharField("编码", max_length=20, blank=True)
    region = models.ForeignKey(
        "core.Region", verbose_name="导入单位所属地区", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    skip_invalid = models.BooleanField("仅导入有效行", default=False)
    row_count = models.PositiveIntegerField("数据行数", default=0)
    error_count = models.PositiveIntegerField("错误行数", default=0)
    inserted_count = models.PositiveIntegerField("新增条数", default=0)
    skipped_count = models.PositiveIntegerField("已存在未重复导入", default=0)
    file_error = models.TextField("文件错误", blank=True)
    errors = models.JSONField("错误明细（前若干行）", default=list, blank=True)
    summary = models.JSONField("汇总", default=dict, blank=True)
    preview = models.JSONField("预览", default=list, blank=True)
    seconds = models.FloatField("用时（秒）", default=0)
    job = models.ForeignKey(
        "core.Job", verbose_name="当前任务", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    checked_at = models.DateTimeField("校验时间", null=True, blank=True)
    imported_at = models.DateTimeField("导入时间", null=True, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认导入人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()
    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = "结算明细导入批次"
        verbose_name_plural = "结算明细导入批次"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"导入批次 #{self.pk} {self.filename}"

    @property
    def is_busy(self) -> bool:
        return self.status in {self.Status.CHECKING, self.Status.IMPORTING}
