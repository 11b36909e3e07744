"""运行监测: per-period aggregates of the settlement records, the thresholds an
agency sets on the indicators, and the fund balance it enters.

The aggregates are derived data: `monitoring.services.summary_rebuild` replaces
a period's rows from the settlement records in one set-based statement (after
each import commits and when demo data are seeded), so pages and reports read a
few hundred rows instead of a million.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from core.models import InsuranceType
from core.scoping import RegionScopedQuerySet

ZERO = Decimal("0.00")


def _sum_field(verbose_name: str) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=2, default=ZERO)


class InstitutionSummary(models.Model):
    """定点医药机构 by cost for one period, direction and region (a city, or the
    province as the sum of its cities): outflow rows by 参保地, inflow rows by 就医地.

    Kept per region so that a ranking, even of the whole province over a year,
    reads only its own rows."""

    period = models.CharField("所属期", max_length=7)
    direction = models.CharField("方向", max_length=7)  # outflow / inflow
    region = models.CharField("地区", max_length=6)
    institution = models.CharField("定点医药机构", max_length=200)
    treatment_region = models.CharField("机构所在地", max_length=6)
    visits = models.PositiveIntegerField("结算人次", default=0)
    total_amount = _sum_field("总费用")
    fund_amount = _sum_field("基金支付")

    class Meta:
        verbose_name = "机构汇总"
        verbose_name_plural = "机构汇总"
        indexes = [models.Index(fields=["direction", "region", "period"], name="monitoring_inst_lookup")]

    def __str__(self) -> str:
        return f"{self.period} {self.region} {self.institution}"


class PeriodSummary(models.Model):
    """One period × 参保地 × 就医地 × 险种 × 医疗类别: every indicator of §5 is a
    sum over these rows (outflow by 参保地, inflow by 就医地), and so are the
    rankings of treatment provinces and cities."""

    period = models.CharField("所属期", max_length=7)
    insured_region = models.CharField("参保地", max_length=6)
    treatment_region = models.CharField("就医地", max_length=6)
    insurance_type = models.CharField("险种类型", max_length=3, choices=InsuranceType.choices)
    care_type = models.CharField("医疗类别", max_length=10)
    visits = models.PositiveIntegerField("结算人次", default=0)
    total_amount = _sum_field("总费用")
    fund_amount = _sum_field("基金支付")

    class Meta:
        verbose_name = "月度汇总"
        verbose_name_plural = "月度汇总"
        indexes = [models.Index(fields=["period"], name="monitoring_summary_period")]

    def __str__(self) -> str:
        return f"{self.period} {self.insured_region}→{self.treatment_region}"


class RegionSummary(models.Model):
    """Rolled up from PeriodSummary: one period × direction × region (each city, and
    the province as the sum of its cities) × 险种 × 医疗类别 × 省内/跨省 — a few
    hundred rows a month that answer every indicator, breakdown and trend."""

    period = models.CharField("所属期", max_length=7)
    direction = models.CharField("方向", max_length=7)  # outflow (by 参保地) / inflow (by 就医地)
    region = models.CharField("地区", max_length=6)
    insurance_type = models.CharField("险种类型", max_length=3, choices=InsuranceType.choices)
    care_type = models.CharField("医疗类别", max_length=10)
    cross_province = models.BooleanField("跨省", default=False, help_text="另一端在省外")
    visits = models.PositiveIntegerField("结算人次", default=0)
    total_amount = _sum_field("总费用")
    fund_amount = _sum_field("基金支付")

    class Meta:
        verbose_name = "地区汇总"
        verbose_name_plural = "地区汇总"
        indexes = [models.Index(fields=["period"], name="monitoring_region_period")]

    def __str__(self) -> str:
        return f"{self.period} {self.direction} {self.region}"


class CounterpartSummary(models.Model):
    """Rolled up from PeriodSummary: where a region's insured were treated (outflow:
    就医地, a province or a city) or where its patients are insured (inflow: 参保地)."""

    period = models.CharField("所属期", max_length=7)
    direction = models.CharField("方向", max_length=7)
    region = models.CharField("地区", max_length=6)
    counterpart = models.CharField("对方地区", max_length=6)
    visits = models.PositiveIntegerField("结算人次", default=0)
    total_amount = _sum_field("总费用")
    fund_amount = _sum_field("基金支付")

    class Meta:
        verbose_name = "对方地区汇总"
        verbose_name_plural = "对方地区汇总"
        indexes = [models.Index(fields=["direction", "region", "period"], name="monitoring_counterpart_lookup")]

    def __str__(self) -> str:
        return f"{self.period} {self.region}↔{self.counterpart}"


class SummaryBuild(models.Model):
    """When a period's aggregates were last rebuilt, and from how many records."""

    period = models.CharField("所属期", max_length=7, unique=True)
    settlement_count = models.PositiveBigIntegerField("结算明细条数", default=0)
    row_count = models.PositiveIntegerField("汇总行数", default=0)
    seconds = models.FloatField("用时（秒）", default=0)
    built_at = models.DateTimeField("汇总时间")

    class Meta:
        verbose_name = "汇总记录"
        verbose_name_plural = "汇总记录"
        ordering = ["-period"]

    def __str__(self) -> str:
        return f"{self.period} 汇总（{self.settlement_count} 条）"


class Indicator(models.TextChoices):
    AVG_COST_MOM = "avg_cost_mom", "次均费用环比涨幅上限（%）"
    AVG_COST_YOY = "avg_cost_yoy", "次均费用同比涨幅上限（%）"
    FUND_RATIO = "fund_ratio", "报销比例下限（%）"
    DIRECT_RATE = "direct_rate", "直接结算率下限（%）"
    ADVANCE_USAGE = "advance_usage", "预付金使用率上限（%）"
    PAYABLE_MONTHS = "payable_months", "基金可支付月数下限（月）"


class Direction(models.TextChoices):
    BOTH = "both", "差出与差进"
    OUTFLOW = "outflow", "差出（本地参保人异地就医）"
    INFLOW = "inflow", "差进（外地参保人在本地就医）"


class ThresholdQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("region",)


class Threshold(models.Model):
    """An agency's warning line on one indicator. The province's line applies to
    every city that has not set its own for the same indicator and direction."""

    region = models.ForeignKey("core.Region", verbose_name="设定地区", on_delete=models.PROTECT, related_name="+")
    indicator = models.CharField("指标", max_length=20, choices=Indicator.choices)
    direction = models.CharField("方向", max_length=10, choices=Direction.choices, default=Direction.BOTH)
    value = models.DecimalField(
        "预警值", max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))],
        help_text="百分比指标填百分数（如 20 表示 20%）；可支付月数填月数。",
    )
    active = models.BooleanField("启用", default=True)
    note = models.CharField("说明", max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="设定人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField("设定时间", auto_now=True)

    history = HistoricalRecords()
    objects = ThresholdQuerySet.as_manager()

    class Meta:
        verbose_name = "监测预警值"
        verbose_name_plural = "监测预警值"
        ordering = ["region__sort_order", "indicator", "direction"]
        constraints = [
            models.UniqueConstraint(fields=["region", "indicator", "direction"], name="monitoring_threshold_unique")
        ]

    def __str__(self) -> str:
        return f"{self.region.short_name} {self.get_indicator_display()} {self.value}"


class FundBalanceQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("region",)


class FundBalance(models.Model):
    """基金累计结余 as the agency reports it at a month end, with the monthly
    fund expenditure it is measured against (国 21号 二: fewer than 6 months warns)."""

    region = models.ForeignKey("core.Region", verbose_name="统筹区", on_delete=models.PROTECT, related_name="+")
    period = models.CharField("截至月份", max_length=7, help_text="YYYY-MM，月末数")
    balance = models.DecimalField("基金累计结余（元）", max_digits=18, decimal_places=2, validators=[MinValueValidator(ZERO)])
    monthly_expenditure = models.DecimalField(
        "月均基金支出（元）", max_digits=18, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    note = models.CharField("说明", max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField("录入时间", auto_now=True)

    history = HistoricalRecords()
    objects = FundBalanceQuerySet.as_manager()

    class Meta:
        verbose_name = "基金累计结余"
        verbose_name_plural = "基金累计结余"
        ordering = ["-period", "region__sort_order"]
        constraints = [models.UniqueConstraint(fields=["region", "period"], name="monitoring_fund_balance_unique")]
        permissions = [("manage_monitoring", "设定监测预警值、录入基金结余、生成运行分析报告")]

    def __str__(self) -> str:
        return f"{self.region.short_name} {self.period} 基金结余 {self.balance}"
