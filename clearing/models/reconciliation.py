"""Reconciliation (三方对账, 第四十一–四十三条): results and their corrections."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from clearing.models.common import money_field
from core.scoping import RegionScopedQuerySet

# --- Reconciliation (三方对账, 第四十一–四十三条) ---------------------------------------------


class ReconciliationQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("region",)


class ReconciliationResult(models.Model):
    """One city's three-party reconciliation (就医地 – 省级系统 – 参保地) for one day, or for
    a whole month (月度对账, by the 3rd of the next month), as imported from the systems.

    A result whose three counts and amounts agree is reconciled; one that does not stays a
    mismatch until a correction (冲正) is recorded with who and why."""

    class Kind(models.TextChoices):
        DAILY = "daily", "日对账"
        MONTHLY = "monthly", "月度对账"

    class Scope(models.TextChoices):
        INTRA = "intra", "省内"
        CROSS = "cross", "跨省"

    kind = models.CharField("对账类型", max_length=8, choices=Kind.choices, default=Kind.DAILY)
    scope = models.CharField("范围", max_length=5, choices=Scope.choices)
    region = models.ForeignKey("core.Region", verbose_name="设区市", on_delete=models.PROTECT, related_name="+")
    recon_date = models.DateField("对账日期", help_text="日对账为结算日期；月度对账为该月最后一天")
    period = models.CharField("所属月份", max_length=7, db_index=True)
    treatment_count = models.PositiveIntegerField("就医地笔数")
    treatment_amount = money_field("就医地基金支付（元）")
    province_count = models.PositiveIntegerField("省级系统笔数")
    province_amount = money_field("省级系统基金支付（元）")
    insured_count = models.PositiveIntegerField("参保地笔数")
    insured_amount = money_field("参保地基金支付（元）")
    matched = models.BooleanField("三方一致", default=False, db_index=True)
    source_file = models.CharField("来源文件", max_length=255, blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="导入人", on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)

    history = HistoricalRecords()
    objects = ReconciliationQuerySet.as_manager()

    class Meta:
        verbose_name = "三方对账结果"
        verbose_name_plural = "三方对账结果"
        ordering = ["recon_date", "region__sort_order", "scope"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "scope", "region", "recon_date"], name="reconciliation_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.recon_date} {self.region.short_name} {self.get_scope_display()}{self.get_kind_display()}"


class ReconciliationCorrection(models.Model):
    """冲正: how a mismatch was put right, by whom and why (第四十一条)."""

    result = models.ForeignKey(ReconciliationResult, verbose_name="对账结果", on_delete=models.PROTECT, related_name="corrections")
    corrected_on = models.DateField("冲正日期")
    reason = models.CharField("原因及处理", max_length=300)
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="冲正人", on_delete=models.PROTECT, related_name="+")
    corrected_at = models.DateTimeField("登记时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "对账冲正记录"
        verbose_name_plural = "对账冲正记录"
        ordering = ["corrected_on", "id"]

    def __str__(self) -> str:
        return f"{self.result} 冲正 {self.corrected_on}"
