"""Yearly advances (预付金): policies, years, intra- and cross-province advances, emergency increases,
the advance ledger and clearing adjustments."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from clearing import rules
from clearing.models.common import money_field
from clearing.models.periods import ClearingPeriod, PaymentDue
from core.models import InsuranceType
from core.scoping import RegionScopedQuerySet

# --- Advances (预付金) -------------------------------------------------------------


class AdvancePolicy(models.Model):
    """How a province sets the yearly intra-province advance (a regional setting).

    江苏 第二十九条: 20 % of last year's net outflow. 新疆's 2 × last-Q4 monthly average
    (新医保发〔2022〕39号 四(一)) is a cross-province formula (core.jurisdictions, clearing.advance_formulas).
    """

    class Method(models.TextChoices):
        NET_OUTFLOW_SHARE = "net_outflow_share", "上年差出额 × 比例"

    province = models.ForeignKey("core.Region", verbose_name="省份", on_delete=models.PROTECT, related_name="+")
    effective_year = models.PositiveSmallIntegerField("起始年度")
    method = models.CharField("测算方法", max_length=20, choices=Method.choices, default=Method.NET_OUTFLOW_SHARE)
    factor = models.DecimalField("比例/倍数", max_digits=6, decimal_places=4, default=Decimal("0.2000"))
    note = models.CharField(
        "表注",
        max_length=200,
        blank=True,
        help_text="印在附件2/3上的计算公式说明；留空按测算方法自动生成。",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "预付金测算规则"
        verbose_name_plural = "预付金测算规则"
        ordering = ["province", "-effective_year"]
        constraints = [models.UniqueConstraint(fields=["province", "effective_year"], name="advance_policy_unique")]

    def __str__(self) -> str:
        return f"{self.province.short_name} {self.effective_year}年起：{self.formula_text}"

    @property
    def formula_text(self) -> str:
        if self.note:
            return self.note
        return rules.advance_formula_text(self.method, self.factor)


class AdvanceYear(models.Model):
    """The yearly advance cycle of the home province (each early February)."""

    year = models.PositiveSmallIntegerField("预付金年度", unique=True)
    intra_computed_at = models.DateTimeField("省内额度测算时间", null=True, blank=True)
    intra_computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="省内测算人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    intra_method = models.CharField("省内测算方法", max_length=20, blank=True)
    intra_factor = models.DecimalField("省内比例/倍数", max_digits=6, decimal_places=4, null=True, blank=True)
    intra_formula = models.CharField("省内计算公式说明", max_length=200, blank=True)
    intra_issued_at = models.DateTimeField("省内通知书下达时间", null=True, blank=True)
    intra_stamp_date = models.DateField("省内通知书签章日期", null=True, blank=True)
    cross_computed_at = models.DateTimeField("跨省额度测算时间", null=True, blank=True)
    cross_computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="跨省测算人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cross_issued_at = models.DateTimeField("跨省通知书下达时间", null=True, blank=True)
    cross_stamp_date = models.DateField("跨省通知书签章日期", null=True, blank=True)
    carried_over_at = models.DateTimeField("上年余额结转时间", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "预付金年度"
        verbose_name_plural = "预付金年度"
        ordering = ["-year"]
        permissions = [("manage_advances", "测算与下达预付金")]

    def __str__(self) -> str:
        return f"{self.year}年预付金"


class AdvanceQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("region",)


class IntraAdvance(models.Model):
    """附件2 row: one city's intra-province advance for a year (万元)."""

    year = models.PositiveSmallIntegerField("预付金年度")
    region = models.ForeignKey("core.Region", verbose_name="设区市", on_delete=models.PROTECT, related_name="+")
    basis_amount = money_field("测算基数（元）", help_text="上年净差出额，或上年第四季度月平均值")
    previous_amount = models.IntegerField("上年额度（万元）", default=0)
    approved_amount = models.IntegerField("本年核定额度（万元）", default=0)
    carry_over = models.IntegerField("上年结余结转（万元）", default=0)
    actual_amount = models.IntegerField("实际划款额度（万元）", default=0)

    history = HistoricalRecords()
    objects = AdvanceQuerySet.as_manager()

    class Meta:
        verbose_name = "省内预付金额度"
        verbose_name_plural = "省内预付金额度"
        ordering = ["year", "region__sort_order"]
        constraints = [models.UniqueConstraint(fields=["year", "region"], name="intra_advance_unique")]

    def __str__(self) -> str:
        return f"{self.year}年 {self.region.short_name} 省内预付金 {self.approved_amount}万元"


class CrossAllotment(models.Model):
    """The province's cross-province advance towards one other province for a
    year, as assigned by the national system (entered or imported), in 万元."""

    class Source(models.TextChoices):
        ENTERED = "entered", "页面录入"
        IMPORTED = "imported", "文件导入"
        DEMO = "demo", "演示数据"

    year = models.PositiveSmallIntegerField("预付金年度")
    province = models.ForeignKey("core.Region", verbose_name="省份", on_delete=models.PROTECT, related_name="+")
    amount = models.IntegerField("本年核定额度（万元）")
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.ENTERED)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField("录入时间", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "跨省预付金省级额度"
        verbose_name_plural = "跨省预付金省级额度"
        ordering = ["year", "province__sort_order"]
        constraints = [models.UniqueConstraint(fields=["year", "province"], name="cross_allotment_unique")]

    def __str__(self) -> str:
        return f"{self.year}年 {self.province.short_name} {self.amount}万元"


class CrossAdvance(models.Model):
    """附件4 cell / 附件5 row: one city's cross-province advance towards one province (万元)."""

    year = models.PositiveSmallIntegerField("预付金年度")
    region = models.ForeignKey("core.Region", verbose_name="设区市", on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey("core.Region", verbose_name="预付金划入省份", on_delete=models.PROTECT, related_name="+")
    share = models.DecimalField("上年跨省基金支出占比", max_digits=9, decimal_places=8, default=Decimal("0"))
    previous_amount = models.IntegerField("上年度额度（万元，含紧急调增）", default=0)
    approved_amount = models.IntegerField("本年核定额度（万元）", default=0)
    carry_over = models.IntegerField("上年结余结转（万元）", default=0)
    actual_amount = models.IntegerField("实际划款额度（万元）", default=0)

    history = HistoricalRecords()
    objects = AdvanceQuerySet.as_manager()

    class Meta:
        verbose_name = "跨省预付金额度"
        verbose_name_plural = "跨省预付金额度"
        ordering = ["year", "province__sort_order", "region__sort_order"]
        constraints = [models.UniqueConstraint(fields=["year", "region", "province"], name="cross_advance_unique")]

    def __str__(self) -> str:
        return f"{self.year}年 {self.region.short_name}→{self.province.short_name} {self.approved_amount}万元"


class EmergencyIncrease(models.Model):
    """A cross-province emergency increase (紧急调增, 第三十一条(二)) towards one
    province, started when the usage rate reached 90 %."""

    year = models.PositiveSmallIntegerField("预付金年度")
    province = models.ForeignKey("core.Region", verbose_name="就医省", on_delete=models.PROTECT, related_name="+")
    amount = models.IntegerField("国家医保局核定调增额度（万元）")
    basis_period = models.ForeignKey(
        ClearingPeriod, verbose_name="触发清算期", on_delete=models.PROTECT, related_name="emergency_increases"
    )
    usage_rate = models.DecimalField("触发时使用率", max_digits=9, decimal_places=4)
    stamp_date = models.DateField("签章日期")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("发起时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "跨省预付金紧急调增"
        verbose_name_plural = "跨省预付金紧急调增"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.year}年 {self.province.short_name} 紧急调增 {self.amount}万元"


class EmergencyIncreaseLine(models.Model):
    increase = models.ForeignKey(EmergencyIncrease, verbose_name="紧急调增", on_delete=models.CASCADE, related_name="lines")
    region = models.ForeignKey("core.Region", verbose_name="设区市", on_delete=models.PROTECT, related_name="+")
    amount = models.IntegerField("需补缴（万元）")

    objects = AdvanceQuerySet.as_manager()

    class Meta:
        verbose_name = "紧急调增分摊"
        verbose_name_plural = "紧急调增分摊"
        ordering = ["increase", "region__sort_order"]
        constraints = [models.UniqueConstraint(fields=["increase", "region"], name="emergency_line_unique")]

    def __str__(self) -> str:
        return f"{self.region.short_name} {self.amount}万元"


class AdvanceEntryQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("region",)


class AdvanceEntry(models.Model):
    """The advance ledger: money into and out of a city's advance (yuan, signed)."""

    class Scope(models.TextChoices):
        INTRA = "intra", "省内预付金"
        CROSS = "cross", "跨省预付金"

    class Kind(models.TextChoices):
        CARRY_IN = "carry_in", "上年余额结转"
        CONTRIBUTION = "contribution", "预付金上解到账"
        EMERGENCY = "emergency", "紧急调增到账"
        USAGE = "usage", "先行支付清算费用"
        TOP_UP = "top_up", "收到清算费用后补足"
        CARRY_OUT = "carry_out", "年末余额结转下年"

    year = models.PositiveSmallIntegerField("预付金年度")
    scope = models.CharField("预付金类型", max_length=5, choices=Scope.choices)
    region = models.ForeignKey("core.Region", verbose_name="设区市", on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey(
        "core.Region", verbose_name="对方省份", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("摘要", max_length=15, choices=Kind.choices)
    amount = models.DecimalField("金额（元，流出为负）", max_digits=18, decimal_places=2)
    entry_date = models.DateField("记账日期")
    payment = models.ForeignKey(
        PaymentDue, verbose_name="关联款项", null=True, blank=True, on_delete=models.PROTECT, related_name="advance_entries"
    )
    note = models.CharField("说明", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记账人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("记账时间", auto_now_add=True)

    history = HistoricalRecords()
    objects = AdvanceEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "预付金台账"
        verbose_name_plural = "预付金台账"
        ordering = ["entry_date", "id"]
        indexes = [models.Index(fields=["year", "scope", "region"], name="clearing_adv_entry_lookup")]

    def __str__(self) -> str:
        return f"{self.entry_date} {self.region.short_name} {self.get_kind_display()} {self.amount}"


class ForeignAdvanceEntryQuerySet(models.QuerySet):
    def for_user(self, user) -> ForeignAdvanceEntryQuerySet:
        """Held in the province's finance account: province-level staff only."""
        if not getattr(user, "is_authenticated", False) or not getattr(user, "sees_all_regions", False):
            return self.none()
        return self


class ForeignAdvanceEntry(models.Model):
    """外省预付金 (第三十一条(三)): the ledger of advances other provinces paid into our
    province's finance account. They pay our cities' cross-province receivables from
    that province while its clearing money has not arrived, and are topped up when it
    does (yuan, signed: out is negative)."""

    class Kind(models.TextChoices):
        RECEIVED = "received", "外省预付金到账"
        USAGE = "usage", "先行支付各市应收清算费用"
        TOP_UP = "top_up", "收到外省清算费用后补足"

    year = models.PositiveSmallIntegerField("预付金年度")
    province = models.ForeignKey("core.Region", verbose_name="预付省份", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("摘要", max_length=10, choices=Kind.choices)
    amount = models.DecimalField("金额（元，流出为负）", max_digits=18, decimal_places=2)
    entry_date = models.DateField("记账日期")
    period = models.ForeignKey(
        ClearingPeriod, verbose_name="清算期", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment = models.ForeignKey(
        PaymentDue, verbose_name="关联款项", null=True, blank=True, on_delete=models.PROTECT, related_name="foreign_advance_entries"
    )
    note = models.CharField("说明", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记账人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("记账时间", auto_now_add=True)

    history = HistoricalRecords()
    objects = ForeignAdvanceEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "外省预付金台账"
        verbose_name_plural = "外省预付金台账"
        ordering = ["entry_date", "id"]
        indexes = [models.Index(fields=["province", "year"], name="clearing_foreign_adv_lookup")]

    def __str__(self) -> str:
        return f"{self.entry_date} {self.province.short_name} {self.get_kind_display()} {self.amount}"


class AdjustmentQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("insured_region", "treatment_region")


class ClearingAdjustment(models.Model):
    """A negative line in a later clearing month (第四十五、五十三条): a refund of an
    already-cleared settlement (隔笔退费, 跨年退费, 清算后退费), or a deduction of
    irregular costs (违规费用) against the insured region. A closed month is never
    edited: the adjustment lands in the next open month and reduces its cell."""

    class Kind(models.TextChoices):
        REFUND = "refund", "退费"
        DEDUCTION = "deduction", "违规费用扣款"

    class RefundType(models.TextChoices):
        SEPARATE = "separate", "隔笔退费"
        CROSS_YEAR = "cross_year", "跨年退费"
        AFTER_CLEARING = "after_clearing", "清算后退费"

    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    refund_type = models.CharField("退费方式", max_length=15, choices=RefundType.choices, blank=True)
    period = models.ForeignKey(
        ClearingPeriod, verbose_name="计入清算期", on_delete=models.PROTECT, related_name="adjustments"
    )
    settlement_id = models.CharField("原结算流水号", max_length=40, blank=True, db_index=True)
    original_period = models.CharField("原清算所属期", max_length=7, blank=True)
    insured_region = models.CharField("参保地", max_length=6)
    treatment_region = models.CharField("就医地", max_length=6)
    insurance_type = models.CharField("险种类型", max_length=3, choices=InsuranceType.choices)
    amount = models.DecimalField("冲减基金金额（元）", max_digits=14, decimal_places=2)
    happened_on = models.DateField("退费/认定日期")
    basis = models.CharField("依据", max_length=200)
    source_ref = models.CharField("来源单据号", max_length=80, blank=True, help_text="如协查编号、稽核文书号、退费流水号")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    history = HistoricalRecords()
    objects = AdjustmentQuerySet.as_manager()

    class Meta:
        verbose_name = "清算调整（退费/扣款）"
        verbose_name_plural = "清算调整（退费/扣款）"
        ordering = ["period", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="adjustment_amount_positive"),
            models.UniqueConstraint(
                fields=["kind", "source_ref"], condition=~Q(source_ref=""), name="adjustment_source_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period.period} {self.get_kind_display()} {self.insured_region}→{self.treatment_region} -{self.amount}"

    @property
    def label(self) -> str:
        return self.get_refund_type_display() if self.kind == self.Kind.REFUND else self.get_kind_display()
