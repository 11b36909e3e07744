"""Monthly clearing periods and their results; payments due and the transfers against them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from clearing import rules
from clearing.models.common import Scope, money_field
from core.scoping import RegionScopedQuerySet

# --- Clearing periods and results ------------------------------------------------


class ClearingPeriodQuerySet(models.QuerySet):
    def for_user(self, user) -> ClearingPeriodQuerySet:
        """Every clearing staff member sees every period (the figures inside are scoped)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self


class ClearingPeriod(models.Model):
    """One month's clearing (第四十七–四十九条): data by the 20th of the next month,
    the clearing by the 28th, then notices, payments and closing."""

    class Status(models.TextChoices):
        OPEN = "open", "数据采集中"
        DATA_CLOSED = "data_closed", "数据已截止"
        COMPUTED = "computed", "已生成清算"
        NOTICES_ISSUED = "notices_issued", "通知书已下达"
        SETTLED = "settled", "款项已结清"
        CLOSED = "closed", "已关闭"

    #: Statuses in which the results may still be (re)computed and new data come in.
    EDITABLE = (Status.OPEN, Status.DATA_CLOSED, Status.COMPUTED)

    period = models.CharField("清算所属期", max_length=7, unique=True, help_text="YYYY-MM")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    data_due = models.DateField("明细上传截止日")
    clearing_due = models.DateField("清算生成截止日")
    results_stale = models.BooleanField("清算后有新数据", default=False)
    is_demo = models.BooleanField(
        "演示数据", default=False, help_text="由 seed_demo 生成；导入真实结算明细时，本期演示数据整体清除并重置为数据采集中"
    )
    settlement_count = models.PositiveIntegerField("结算明细条数", default=0)
    late_count = models.PositiveIntegerField("延期申报条数", default=0)
    fund_total = money_field("基金支付合计")
    computed_at = models.DateTimeField("生成时间", null=True, blank=True)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="生成人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data_closed_at = models.DateTimeField("数据截止时间", null=True, blank=True)
    data_closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="截止操作人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stamp_date = models.DateField("签章日期", null=True, blank=True)
    payment_due = models.DateField("付款截止日", null=True, blank=True, help_text="签章之日起10个工作日")
    payment_due_confirmed = models.BooleanField("付款截止日已按确认日历计算", default=True)
    issued_at = models.DateTimeField("下达时间", null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="下达人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    settled_at = models.DateTimeField("结清时间", null=True, blank=True)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="关闭人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()
    objects = ClearingPeriodQuerySet.as_manager()

    class Meta:
        verbose_name = "清算期"
        verbose_name_plural = "清算期"
        ordering = ["-period"]
        permissions = [
            ("compute_clearing", "生成月度清算"),
            ("issue_notices", "下达清算通知书"),
        ]

    def __str__(self) -> str:
        return f"{self.label}清算"

    @property
    def year(self) -> int:
        return int(self.period[:4])

    @property
    def month(self) -> int:
        return int(self.period[5:7])

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month:02d}月"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def year_close_due(self) -> date:
        return rules.year_close_due(self.year)


class ClearingResult(models.Model):
    """One cell of a month's clearing: fund paid for the insured of one area
    treated in another, split 职工/城居. Areas are our cities and, folded, the
    other provinces. Replaced as a whole on every recomputation."""

    period = models.ForeignKey(ClearingPeriod, verbose_name="清算期", on_delete=models.CASCADE, related_name="results")
    scope = models.CharField("范围", max_length=10, choices=Scope.choices)
    insured_area = models.CharField("参保地", max_length=6)
    treatment_area = models.CharField("就医地", max_length=6)
    employee_amount = money_field("职工医疗")
    resident_amount = money_field("城居医疗")
    settlement_count = models.PositiveIntegerField("结算条数", default=0)
    # The part of the amounts above that comes from adjustments (退费, 违规扣款) landing in this
    # month, shown apart from the month's own records on the tables and 附件10–13.
    adjustment_employee = money_field("其中调整：职工医疗")
    adjustment_resident = money_field("其中调整：城居医疗")
    adjustment_count = models.PositiveIntegerField("调整笔数", default=0)

    class Meta:
        verbose_name = "清算结果"
        verbose_name_plural = "清算结果"
        ordering = ["period", "scope", "insured_area", "treatment_area"]
        constraints = [
            models.UniqueConstraint(fields=["period", "insured_area", "treatment_area"], name="clearing_result_cell_unique")
        ]

    def __str__(self) -> str:
        return f"{self.period.period} {self.insured_area}→{self.treatment_area}"

    @property
    def total_amount(self) -> Decimal:
        return self.employee_amount + self.resident_amount


# --- Payments due and transfers -------------------------------------------------


class PaymentDueQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("region",)

    def outstanding(self) -> PaymentDueQuerySet:
        return self.exclude(status=PaymentDue.Status.PAID)

    def overdue(self, today: date) -> PaymentDueQuerySet:
        return self.outstanding().filter(due_on__lt=today)


class PaymentDue(models.Model):
    """An amount one side must transfer by a deadline, created when a notice is issued."""

    class Kind(models.TextChoices):
        INTRA_NET_PAYABLE = "intra_payable", "省内清算差额上解"
        INTRA_NET_RECEIVABLE = "intra_receivable", "省内清算差进拨付"
        CROSS_PAYABLE = "cross_payable", "跨省清算费用上缴"
        CROSS_RECEIVABLE = "cross_receivable", "跨省清算费用拨付"
        INTRA_ADVANCE = "intra_advance", "省内预付金解缴"
        CROSS_ADVANCE = "cross_advance", "跨省预付金额度调整"
        EMERGENCY_ADVANCE = "emergency_advance", "跨省预付金紧急调增"
        # The province pays another province (region = that province):
        CROSS_PAYOUT = "cross_payout", "省级划拨外省清算费用"  # by the 25th, 第四十八条(二)3
        CROSS_ADVANCE_PAYOUT = "cross_advance_payout", "省级拨付外省跨省预付金"  # before end of February, 第三十一条(一)

    #: Kinds the province pays to another province, not to one of its cities.
    PROVINCE_PAYS_OUT = (Kind.CROSS_PAYOUT, Kind.CROSS_ADVANCE_PAYOUT)

    #: Kinds the city pays to the province; the others the province pays to the city.
    CITY_PAYS = (Kind.INTRA_NET_PAYABLE, Kind.CROSS_PAYABLE, Kind.INTRA_ADVANCE, Kind.CROSS_ADVANCE, Kind.EMERGENCY_ADVANCE)

    class Status(models.TextChoices):
        DUE = "due", "待付款"
        PARTLY_PAID = "partly_paid", "部分到账"
        PAID = "paid", "已结清"

    kind = models.CharField("款项类型", max_length=20, choices=Kind.choices)
    period = models.ForeignKey(
        ClearingPeriod, verbose_name="清算期", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    year = models.PositiveSmallIntegerField("年度")
    region = models.ForeignKey("core.Region", verbose_name="设区市", on_delete=models.PROTECT, related_name="+")
    amount = money_field("应付金额（元）")
    due_on = models.DateField("付款截止日")
    due_confirmed = models.BooleanField("截止日已按确认日历计算", default=True)
    paid_amount = money_field("已到账金额（元）")
    advanced_amount = money_field("预付金先行支付（元）")
    topped_up_amount = money_field("预付金已补足（元）")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.DUE, db_index=True)
    notice_key = models.CharField("通知书文档标识", max_length=200, blank=True)
    breakdown = models.JSONField("按省份明细（元）", default=dict, blank=True)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    history = HistoricalRecords()
    objects = PaymentDueQuerySet.as_manager()

    class Meta:
        verbose_name = "应付款项"
        verbose_name_plural = "应付款项"
        ordering = ["due_on", "region__sort_order", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "period", "region"], condition=Q(period__isnull=False), name="payment_once_per_period"
            ),
            models.UniqueConstraint(
                fields=["kind", "year", "region", "notice_key"],
                condition=Q(period__isnull=True),
                name="payment_once_per_advance_notice",
            ),
        ]
        permissions = [("record_transfer", "登记到账/划款")]

    def __str__(self) -> str:
        what = self.period.label if self.period_id else f"{self.year}年"
        return f"{self.region.short_name} {what}{self.get_kind_display()}"

    @property
    def city_pays(self) -> bool:
        return self.kind in self.CITY_PAYS

    @property
    def payer_label(self) -> str:
        return f"{self.region.name}" if self.city_pays else "省级"

    @property
    def payee_label(self) -> str:
        return "省级" if self.city_pays else f"{self.region.name}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount

    @property
    def advance_outstanding(self) -> Decimal:
        """Advance money used for this debt and not yet topped up."""
        return self.advanced_amount - self.topped_up_amount

    def is_overdue(self, today: date) -> bool:
        return self.status != self.Status.PAID and self.due_on < today


class TransferQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("payment__region",)


class Transfer(models.Model):
    """A transfer recorded by finance against a payment due."""

    class Source(models.TextChoices):
        BANK = "bank", "银行转账"
        ADVANCE = "advance", "预付金先行支付"

    payment = models.ForeignKey(PaymentDue, verbose_name="款项", on_delete=models.PROTECT, related_name="transfers")
    amount = money_field("金额（元）")
    transferred_on = models.DateField("到账日期")
    voucher_no = models.CharField("凭证号", max_length=60, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    history = HistoricalRecords()
    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = "到账/划款记录"
        verbose_name_plural = "到账/划款记录"
        ordering = ["-transferred_on", "-id"]

    def __str__(self) -> str:
        return f"{self.payment} {self.amount}"
