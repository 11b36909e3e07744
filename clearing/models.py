"""清算与预付金: settlement records, monthly clearing periods and their results,
payments due with the transfers against them, and the yearly advances (预付金).

Amounts are yuan (元, Decimal with two decimals) unless the field says 万元
(whole 万元, as the advance forms 附件2–6 state them).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from clearing import rules
from core.models import InsuranceType
from core.scoping import RegionScopedQuerySet

ZERO = Decimal("0.00")


def money_field(verbose_name: str, **kwargs) -> models.DecimalField:
    """Sums of a month or a year: a million settlements of up to 999,999,999.99 each still fit."""
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=2, default=ZERO, **kwargs)


#: Settlement ids of seed_demo's records start with this; real files' ids never do
#: in practice, and a real import into a demo period removes exactly these.
DEMO_ID_PREFIX = "DEMO-"


class CareType(models.TextChoices):
    INPATIENT = "inpatient", "住院"
    OUTPATIENT = "outpatient", "门诊"
    CHRONIC = "chronic", "门诊慢特病"


class Scope(models.TextChoices):
    """Which clearing a settlement (or a result row) belongs to."""

    INTRA = "intra", "省内"
    CROSS_OUT = "cross_out", "跨省差出"  # our insured treated in another province: we pay (附件12)
    CROSS_IN = "cross_in", "跨省差进"  # another province's insured treated here: we receive (附件13)


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
