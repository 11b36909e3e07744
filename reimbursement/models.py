"""零星报销: claims, their materials and notices, benefit policies, payment batches."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from core.fields import EncryptedTextField
from core.models import InsuranceType
from core.scoping import RegionScopedQuerySet

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")
# Identities are enforced to the cent; the database check allows half a cent so
# SQLite's floating-point NUMERIC storage does not reject an exact sum.
HALF_CENT = Decimal("0.005")
PERCENT_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class CareType(models.TextChoices):
    INPATIENT = "inpatient", "住院"
    OUTPATIENT = "outpatient", "门诊"
    EMERGENCY = "emergency", "急诊"
    MATERNITY = "maternity", "生育"


class HospitalLevel(models.TextChoices):
    LEVEL_1 = "1", "一级"
    LEVEL_2 = "2", "二级"
    LEVEL_3 = "3", "三级"
    UNRATED = "0", "未定级"


class Situation(models.TextChoices):
    """When manual reimbursement applies (江苏规程 第二十六条, plus 补办 after a self-paid discharge)."""

    FILED_NOT_SETTLED = "filed_not_settled", "已备案，未能直接结算"
    EMERGENCY_UNFILED = "emergency_unfiled", "未备案，急诊抢救就近就医"
    STUDENT_VACATION = "student_vacation", "参保学生寒暑假回原籍就医"
    MATERNITY = "maternity", "异地生育"
    OTHER_ALLOWED = "other_allowed", "参保地规定的其他情形"
    RETROACTIVE = "retroactive", "出院自费结算后补办备案"


class AdjustmentSituation(models.TextChoices):
    """Who the patient was, for the ratio reduction (domain.md §3 table)."""

    LONG_TERM = "long_term", "长期异地居住人员在备案地就医"
    REFERRAL = "referral", "异地转诊人员"
    EMERGENCY = "emergency", "异地急诊抢救人员"
    OTHER_TEMPORARY = "other_temporary", "其他临时外出就医人员（非急诊、未转诊）"
    UNFILED = "unfiled", "未按规定办理备案直接异地就医"
    STUDENT = "student", "参保学生寒暑假回原籍就医"
    MATERNITY = "maternity", "异地生育"
    OTHER_ALLOWED = "other_allowed", "参保地规定的其他情形"


class Scope(models.TextChoices):
    INTRA_PROVINCE = "intra_province", "省内异地"
    CROSS_PROVINCE = "cross_province", "跨省异地"


class SettlementFailure(models.TextChoices):
    NOT_NETWORKED = "not_networked", "就医机构未联网结算"
    CARD_NOT_ACTIVATED = "card_not_activated", "社会保障卡未激活"
    SYSTEM_FAILURE = "system_failure", "系统故障未能结算"
    OTHER = "other", "其他原因"


# --- Benefit policies (参保地待遇政策, versioned) -----------------------------------


class PolicyVersionQuerySet(models.QuerySet):
    def in_force(self, region_code: str, on_date) -> PolicyVersion | None:
        return (
            self.filter(region_id=region_code, effective_from__lte=on_date, is_active=True)
            .order_by("-effective_from")
            .first()
        )


class PolicyVersion(models.Model):
    """One version of a pooling region's benefit policy for out-of-area care.

    A claim uses the version in force on its discharge (or visit) date.
    """

    class AdjustmentMode(models.TextChoices):
        RATIO_REDUCTION = "ratio_reduction", "降低支付比例"
        FIRST_PAY = "first_pay", "个人先行自付"

    class CrossYearMode(models.TextChoices):
        WHOLE = "whole", "按出院结算日期整体结算"
        SPLIT_BY_DAYS = "split_by_days", "按住院天数分割到两个年度"

    region = models.ForeignKey(
        "core.Region", verbose_name="统筹区", on_delete=models.PROTECT, related_name="benefit_policies"
    )
    name = models.CharField("政策名称", max_length=100)
    effective_from = models.DateField("执行日期")
    basis = models.CharField("依据文件", max_length=200, blank=True)
    adjustment_mode = models.CharField(
        "临时外出就医待遇差异方式",
        max_length=20,
        choices=AdjustmentMode.choices,
        default=AdjustmentMode.RATIO_REDUCTION,
        help_text="降低支付比例（按情形降低若干个百分点），或个人先行自付（政策范围内费用先由个人按比例自付）。",
    )
    cross_year_mode = models.CharField(
        "跨年度住院结算办法", max_length=20, choices=CrossYearMode.choices, default=CrossYearMode.WHOLE
    )
    reduction_outside_critical_illness = models.BooleanField(
        "降幅部分不纳入居民大病保险起付线",
        default=False,
        help_text="如赣医保发〔2025〕17号：跨省异地就医支付比例降幅部分不纳入居民医保大病保险起付线计算和支付范围。",
    )
    retroactive_filing_months = models.PositiveSmallIntegerField(
        "补办备案时限（出院后月数）",
        default=3,
        validators=[MaxValueValidator(36)],
        help_text=(
            "江苏规程第十八条：在参保地规定时限内补办异地就医备案手续的，零星报销待遇按照参保地规定执行；"
            "超过时限补办的，按未按规定办理备案（降低支付比例）处理。填出院之日起的月数，0 表示须在出院当日前补办。"
        ),
    )
    is_active = models.BooleanField("启用", default=True)
    notes = models.TextField("说明", blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords()
    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        verbose_name = "待遇政策版本"
        verbose_name_plural = "待遇政策版本"
        ordering = ["region__sort_order", "region_id", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["region", "effective_from"], name="policy_one_version_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.effective_from:%Y-%m-%d}起）"


class BenefitRule(models.Model):
    """Deductible, ratio and yearly cap for one insurance type × care type × hospital level."""

    policy = models.ForeignKey(PolicyVersion, verbose_name="政策版本", on_delete=models.CASCADE, related_name="rules")
    insurance_type = models.CharField("险种类型", max_length=3, choices=InsuranceType.choices)
    care_type = models.CharField("费用类型", max_length=12, choices=CareType.choices)
    hospital_level = models.CharField("医院等级", max_length=1, choices=HospitalLevel.choices)
    deductible = models.DecimalField("年度起付标准（元）", **MONEY, validators=[MinValueValidator(ZERO)])
    ratio = models.DecimalField("支付比例（%）", max_digits=5, decimal_places=2, validators=PERCENT_VALIDATORS)
    yearly_cap = models.DecimalField("年度最高支付限额（元）", **MONEY, validators=[MinValueValidator(ZERO)])

    history = HistoricalRecords()

    class Meta:
        verbose_name = "待遇标准"
        verbose_name_plural = "待遇标准"
        ordering = ["policy", "insurance_type", "care_type", "-hospital_level"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "insurance_type", "care_type", "hospital_level"], name="benefit_rule_unique"
            ),
            models.CheckConstraint(
                condition=Q(ratio__gte=0, ratio__lte=100, deductible__gte=0, yearly_cap__gte=0),
                name="benefit_rule_values_valid",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_insurance_type_display()}·{self.get_care_type_display()}·{self.get_hospital_level_display()}"
        )


class SituationAdjustment(models.Model):
    """The ratio reduction (or first-pay share) for one situation, per scope."""

    policy = models.ForeignKey(
        PolicyVersion, verbose_name="政策版本", on_delete=models.CASCADE, related_name="adjustments"
    )
    scope = models.CharField("范围", max_length=20, choices=Scope.choices)
    situation = models.CharField("人员情形", max_length=20, choices=AdjustmentSituation.choices)
    reduction_points = models.DecimalField(
        "降低支付比例（百分点）", max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT_VALIDATORS
    )
    first_pay_percent = models.DecimalField(
        "个人先行自付比例（%）",
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=PERCENT_VALIDATORS,
        help_text="仅在政策版本为“个人先行自付”方式时使用。",
    )
    basis = models.CharField("依据", max_length=200, blank=True, help_text="如：江苏规程第十八条")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "情形待遇调整"
        verbose_name_plural = "情形待遇调整"
        ordering = ["policy", "scope", "situation"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "scope", "situation"], name="situation_adjustment_unique"),
            models.CheckConstraint(
                condition=Q(reduction_points__gte=0, reduction_points__lte=100)
                & Q(first_pay_percent__gte=0, first_pay_percent__lte=100),
                name="situation_adjustment_values_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()}·{self.get_situation_display()}"


# --- Regional reference data -------------------------------------------------------


class PublishedMaterial(models.Model):
    """Extra material a region requires, published in advance and filed with the
    province (第二十七条: 需要增加其他材料必须事前公示，并报省级医保部门备案)."""

    region = models.ForeignKey("core.Region", verbose_name="参保地", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("材料名称", max_length=100)
    applies_to_inpatient = models.BooleanField("住院", default=True)
    applies_to_outpatient = models.BooleanField("门诊", default=True)
    applies_to_emergency = models.BooleanField("急诊", default=True)
    applies_to_maternity = models.BooleanField("生育", default=True)
    published_on = models.DateField("公示日期")
    filed_with_province_on = models.DateField("报省级备案日期", null=True, blank=True)
    notice = models.CharField("公示文件", max_length=200, blank=True)
    withdrawn_on = models.DateField("停止执行日期", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "参保地公示的补充材料"
        verbose_name_plural = "参保地公示的补充材料"
        ordering = ["region__sort_order", "region_id", "published_on", "id"]

    def __str__(self) -> str:
        return f"{self.region}：{self.name}"

    def applies_to(self, care_type: str) -> bool:
        return bool(getattr(self, f"applies_to_{care_type}", False))


class StudentVacation(models.Model):
    """The winter or summer vacation of the students insured in a region (第二十六条第三项).

    Rows for a city, or for a whole province (NN0000) applying to its cities. For a year
    with no rows, January–February and July–August count as the vacations.
    """

    region = models.ForeignKey(
        "core.Region", verbose_name="参保地（或全省）", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    name = models.CharField("假期", max_length=20, help_text="如：寒假、暑假")
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")
    basis = models.CharField("依据", max_length=200, blank=True, help_text="如：省教育厅校历通知")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "参保学生寒暑假"
        verbose_name_plural = "参保学生寒暑假"
        ordering = ["region__sort_order", "region_id", "year", "start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="student_vacation_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year}年{self.name}（{self.start_date:%m-%d} 至 {self.end_date:%m-%d}）"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "结束日期不能早于开始日期。"})
        if self.start_date and self.year and self.start_date.year != self.year:
            raise ValidationError({"start_date": f"开始日期应在{self.year}年内（假期按开始日期所在年度登记）。"})


class OtherAllowedCase(models.Model):
    """参保地医保部门规定的其他可以零星报销的情形 (第二十六条第五项)."""

    region = models.ForeignKey("core.Region", verbose_name="参保地", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("情形", max_length=200)
    basis = models.CharField("依据文件", max_length=200, blank=True)
    active = models.BooleanField("有效", default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "其他可零星报销情形"
        verbose_name_plural = "其他可零星报销情形"
        ordering = ["region__sort_order", "region_id", "id"]

    def __str__(self) -> str:
        return self.name


# --- Claims --------------------------------------------------------------------------


class ClaimQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("region",)


class Claim(models.Model):
    """零星报销申请."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "材料不全（已一次性告知）"
        ACCEPTED = "accepted", "已受理（审核中）"
        SUBMITTED = "submitted", "待复核"
        APPROVED = "approved", "已审批（待付款）"
        REJECTED = "rejected", "不予报销"
        PAYMENT_NOTIFIED = "payment_notified", "已出付款通知"
        PAID = "paid", "已支付（办结）"
        CANCELLED = "cancelled", "已撤销"

    #: The processing clock runs while the claim is in one of these (from 收齐材料 to 办结).
    CLOCK_STATUSES = (Status.ACCEPTED, Status.SUBMITTED, Status.APPROVED, Status.PAYMENT_NOTIFIED)
    #: Intake details may still be corrected.
    EDITABLE_STATUSES = (Status.INCOMPLETE, Status.ACCEPTED)

    number = models.CharField("申请编号", max_length=24, unique=True)
    region = models.ForeignKey(
        "core.Region", verbose_name="参保地（经办地）", on_delete=models.PROTECT, related_name="reimbursement_claims"
    )
    person = models.ForeignKey(
        "core.InsuredPerson", verbose_name="参保人员", on_delete=models.PROTECT, related_name="reimbursement_claims"
    )
    insurance_type = models.CharField("险种类型", max_length=3, choices=InsuranceType.choices)
    phone = models.CharField("联系电话", max_length=30, blank=True)

    # Eligibility
    filing = models.ForeignKey(
        "filings.Filing",
        verbose_name="备案",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reimbursement_claims",
        help_text="备案查询找到的备案；未备案或视同已备案（急诊抢救）时为空。",
    )
    filing_status = models.CharField("备案查询结果", max_length=20, blank=True)
    filing_message = models.CharField("备案查询说明", max_length=300, blank=True)
    situation = models.CharField("报销情形", max_length=20, choices=Situation.choices)
    adjustment_situation = models.CharField(
        "待遇人员情形", max_length=20, choices=AdjustmentSituation.choices, blank=True
    )
    scope = models.CharField("异地范围", max_length=20, choices=Scope.choices)
    settlement_failure = models.CharField(
        "未能直接结算原因", max_length=20, choices=SettlementFailure.choices, blank=True
    )
    settlement_failure_note = models.CharField("原因说明", max_length=200, blank=True)
    other_case = models.ForeignKey(
        OtherAllowedCase, verbose_name="其他情形", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    eligibility_note = models.CharField("资格审核说明", max_length=300, blank=True)

    # Care
    care_type = models.CharField("费用类型", max_length=12, choices=CareType.choices)
    rescue = models.BooleanField("抢救", default=False)
    accidental_injury = models.BooleanField("意外伤害", default=False)
    dual_channel_drugs = models.BooleanField("“双通道”管理及单独支付药品", default=False)
    drugs_bought_outside = models.BooleanField("外购药品", default=False)
    patient_deceased = models.BooleanField("患者已死亡", default=False)
    institution = models.ForeignKey(
        "core.Institution", verbose_name="医疗机构", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    institution_name = models.CharField("医疗机构名称", max_length=100)
    treatment_region = models.ForeignKey(
        "core.Region", verbose_name="就医地", on_delete=models.PROTECT, related_name="+"
    )
    hospital_level = models.CharField("医院等级", max_length=1, choices=HospitalLevel.choices)
    designated = models.BooleanField("定点医疗机构", default=True)
    admission_date = models.DateField("入院（就诊）日期")
    discharge_date = models.DateField("出院（就诊）日期")
    hospital_number = models.CharField("住院号", max_length=40, blank=True)
    admission_method = models.CharField("入院方式", max_length=20, blank=True)
    department = models.CharField("出院科室", max_length=40, blank=True)
    main_diagnosis = models.CharField("主要诊断", max_length=100, blank=True)
    secondary_diagnosis = models.CharField("次要诊断", max_length=100, blank=True)
    invoice_numbers = models.CharField("票据号码", max_length=400, help_text="多张票据用逗号分隔。")

    # Fee breakdown (附件9)
    total_amount = models.DecimalField("总费用", **MONEY)
    in_scope_amount = models.DecimalField("统筹基金支付范围内费用", **MONEY)
    class_b_self_pay = models.DecimalField("乙类先行自付费用", **MONEY, default=ZERO)
    over_limit_self_pay = models.DecimalField("超限价自付费用", **MONEY, default=ZERO)
    self_funded_amount = models.DecimalField("自费费用", **MONEY, default=ZERO)

    # Benefit calculation
    policy = models.ForeignKey(
        PolicyVersion, verbose_name="适用政策版本", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fund_payment = models.DecimalField("基金支付合计金额", **MONEY, null=True, blank=True)
    personal_payment = models.DecimalField("个人现金支付金额", **MONEY, null=True, blank=True)
    deductible_applied = models.DecimalField("本次起付标准", **MONEY, null=True, blank=True)
    calculation = models.JSONField("计算过程", default=dict, blank=True)
    calculated_at = models.DateTimeField("计算时间", null=True, blank=True)
    calculated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="计算人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # Payee
    payee_name = models.CharField("收款人", max_length=50)
    bank_name = models.CharField("开户银行", max_length=60)
    bank_account = EncryptedTextField("银行账号", purpose="bank_account", max_length=32)

    # Workflow
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.INCOMPLETE, db_index=True)
    received_on = models.DateField("申请日期")
    complete_on = models.DateField("收齐材料日期", null=True, blank=True)
    due_on = models.DateField("办理期限", null=True, blank=True, db_index=True)
    deadline_confirmed = models.BooleanField("期限按已确认日历计算", default=True)
    processing_days = models.PositiveSmallIntegerField("办理时限（工作日）", null=True, blank=True)
    special = models.BooleanField("特殊情况", default=False)
    special_reason = models.CharField("特殊情况说明", max_length=300, blank=True)
    special_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="特殊情况认定人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deadline_flag = models.CharField("期限提示", max_length=12, blank=True, db_index=True)
    flags_refreshed_on = models.DateField("提示刷新日期", null=True, blank=True)
    return_reason = models.CharField("退回原因", max_length=300, blank=True)
    return_count = models.PositiveSmallIntegerField("退回次数", default=0)

    intake_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="受理人", on_delete=models.PROTECT, related_name="+"
    )
    intake_at = models.DateTimeField("登记时间", auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交复核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField("提交复核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审批人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    rejection_reason = models.CharField("不予报销理由", max_length=500, blank=True)
    cancel_reason = models.CharField("撤销原因", max_length=300, blank=True)
    payment_batch = models.ForeignKey(
        "PaymentBatch", verbose_name="付款通知批次", null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    paid_on = models.DateField("支付日期", null=True, blank=True)
    payment_reference = models.CharField("支付凭证号", max_length=60, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="支付登记人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finished_on = models.DateField("办结日期", null=True, blank=True)

    history = HistoricalRecords()
    objects = ClaimQuerySet.as_manager()

    class Meta:
        verbose_name = "零星报销申请"
        verbose_name_plural = "零星报销申请"
        ordering = ["-intake_at", "-id"]
        permissions = [
            ("approve_claim", "审批零星报销"),
            ("pay_claim", "零星报销付款"),
        ]
        indexes = [
            models.Index(fields=["region", "status", "due_on"]),
            # The list's first page: a region's newest claims without sorting the region (scale).
            models.Index(fields=["region", "-intake_at", "-id"], name="claim_region_newest"),
            # The home tiles: this month's decisions and payments of a region (scale).
            models.Index(
                fields=["region", "decided_at"],
                condition=Q(status__in=["approved", "payment_notified", "paid", "rejected"]),
                name="claim_decided",
            ),
            models.Index(fields=["region", "paid_on"], name="claim_region_paid"),
            # The small home figures, each through its own partial index (selectors.dashboard_counts).
            models.Index(
                fields=["region"], condition=Q(status="accepted") & ~Q(return_reason=""), name="claim_returned"
            ),
            models.Index(fields=["region", "fund_payment"], condition=Q(status="approved"), name="claim_approved_amount"),
            # "临期未告知": the claims due, matched against the delay notices without reading the table.
            models.Index(
                fields=["region", "due_on", "id"],
                condition=Q(status__in=["accepted", "submitted", "approved", "payment_notified"]),
                name="claim_clock_due",
            ),
            # 运行监测: a month's claims by discharge date.
            models.Index(fields=["discharge_date", "region"], name="claim_discharge"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    total_amount__gte=0,
                    in_scope_amount__gte=0,
                    class_b_self_pay__gte=0,
                    over_limit_self_pay__gte=0,
                    self_funded_amount__gte=0,
                ),
                name="claim_amounts_not_negative",
            ),
            # 总费用 = 统筹基金支付范围内费用 + 乙类先行自付 + 超限价自付 + 自费费用
            models.CheckConstraint(
                condition=Q(
                    total_amount__lte=F("in_scope_amount")
                    + F("class_b_self_pay")
                    + F("over_limit_self_pay")
                    + F("self_funded_amount")
                    + HALF_CENT,
                    total_amount__gte=F("in_scope_amount")
                    + F("class_b_self_pay")
                    + F("over_limit_self_pay")
                    + F("self_funded_amount")
                    - HALF_CENT,
                ),
                name="claim_fee_breakdown_identity",
            ),
            # 总费用 = 基金支付合计金额 + 个人现金支付金额
            models.CheckConstraint(
                condition=Q(fund_payment__isnull=True)
                | Q(
                    fund_payment__gte=0,
                    personal_payment__gte=0,
                    total_amount__lte=F("fund_payment") + F("personal_payment") + HALF_CENT,
                    total_amount__gte=F("fund_payment") + F("personal_payment") - HALF_CENT,
                ),
                name="claim_payment_split_identity",
            ),
            models.CheckConstraint(
                condition=Q(discharge_date__gte=F("admission_date")), name="claim_discharge_not_before_admission"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.person.name}" if self.person_id else self.number

    @property
    def masked_account(self) -> str:
        from reimbursement.formatting import mask_bank_account

        return mask_bank_account(self.bank_account)

    @property
    def invoice_list(self) -> list[str]:
        return [part for part in self.invoice_numbers.split(",") if part]

    @property
    def is_emergency(self) -> bool:
        return self.care_type == CareType.EMERGENCY or self.rescue

    @property
    def stay_days(self) -> int:
        """住院天数: 算入不算出 (a same-day stay counts as one day)."""
        return max(1, (self.discharge_date - self.admission_date).days)

    @property
    def clock_running(self) -> bool:
        return self.status in self.CLOCK_STATUSES

    @property
    def finished_late(self) -> bool:
        return bool(self.finished_on and self.due_on and self.finished_on > self.due_on)


class ClaimMaterial(models.Model):
    """One line of a claim's checklist: a required item (with its alternatives) and whether it arrived."""

    class Source(models.TextChoices):
        BASE = "base", "基本材料"
        EXTRA = "extra", "补充材料"
        REGION = "region", "参保地公示材料"

    claim = models.ForeignKey(Claim, verbose_name="申请", on_delete=models.CASCADE, related_name="materials")
    code = models.CharField("代码", max_length=40)
    label = models.CharField("材料", max_length=200)
    alternatives = models.JSONField("可选其一", default=list, blank=True)
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.BASE)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    received = models.BooleanField("已收到", default=False)
    received_as = models.CharField("收到的材料", max_length=100, blank=True)
    received_on = models.DateField("收到日期", null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "申请材料"
        verbose_name_plural = "申请材料"
        ordering = ["claim", "sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["claim", "code"], name="claim_material_once")]

    def __str__(self) -> str:
        return self.label


class ClaimNotice(models.Model):
    """A notice given to the applicant: 一次性告知书, 受理回执, or 延期办理告知."""

    class Kind(models.TextChoices):
        MISSING_MATERIALS = "missing_materials", "一次性告知书"
        RECEIPT = "receipt", "受理回执"
        DELAY = "delay", "延期办理告知书"

    class Method(models.TextChoices):
        WRITTEN = "written", "书面告知"
        PHONE = "phone", "电话告知"
        SMS = "sms", "短信告知"
        IN_PERSON = "in_person", "当面告知"

    claim = models.ForeignKey(Claim, verbose_name="申请", on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    issued_on = models.DateField("告知日期")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="告知人", on_delete=models.PROTECT, related_name="+"
    )
    items = models.JSONField("告知事项", default=list, blank=True)
    due_on = models.DateField("当时的办理期限", null=True, blank=True)
    # What the notice told the applicant, kept so a reprint shows the same (the claim may change later).
    complete_on = models.DateField("当时的收齐材料日期", null=True, blank=True)
    processing_days = models.PositiveSmallIntegerField("当时的办理时限（工作日）", null=True, blank=True)
    special = models.BooleanField("当时已认定特殊情况", default=False)
    deadline_confirmed = models.BooleanField("当时期限按已确认日历计算", default=True)
    reason = models.CharField("延期原因", max_length=300, blank=True)
    expected_on = models.DateField("预计办结日期", null=True, blank=True)
    method = models.CharField("告知方式", max_length=10, choices=Method.choices, default=Method.WRITTEN)
    before_deadline = models.BooleanField("期限届满前告知", default=True)
    document = models.ForeignKey(
        "core.Document", verbose_name="打印件", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "告知记录"
        verbose_name_plural = "告知记录"
        ordering = ["claim", "created_at", "id"]
        indexes = [
            # The home tile "临期未告知" starts from the delay notices (reimbursement.selectors).
            models.Index(fields=["claim"], condition=Q(kind="delay"), name="claimnotice_delay"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.issued_on:%Y-%m-%d}）"

    @property
    def document_key(self) -> str:
        return f"reimbursement:notice:{self.pk}"


class BenefitUsage(models.Model):
    """What a claim used of a benefit year's deductible and cap (one row per year it touches)."""

    claim = models.ForeignKey(Claim, verbose_name="申请", on_delete=models.CASCADE, related_name="usages")
    year = models.PositiveSmallIntegerField("待遇年度")
    care_type = models.CharField("费用类型", max_length=12, choices=CareType.choices)
    deductible_applied = models.DecimalField("计入起付标准", **MONEY)
    fund_payment = models.DecimalField("基金支付", **MONEY)

    class Meta:
        verbose_name = "年度待遇使用"
        verbose_name_plural = "年度待遇使用"
        ordering = ["claim", "year"]
        constraints = [models.UniqueConstraint(fields=["claim", "year"], name="benefit_usage_once_per_year")]

    def __str__(self) -> str:
        return f"{self.claim} {self.year}"


class PaymentBatchQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("region",)


class PaymentBatch(models.Model):
    """A payment notice (付款通知) listing approved claims for finance to pay."""

    class Status(models.TextChoices):
        NOTIFIED = "notified", "已出付款通知"
        PAID = "paid", "已支付"

    number = models.CharField("批次号", max_length=30, unique=True)
    region = models.ForeignKey("core.Region", verbose_name="经办地", on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.NOTIFIED)
    claim_count = models.PositiveIntegerField("笔数", default=0)
    total_amount = models.DecimalField("金额合计", **MONEY, default=ZERO)
    job = models.ForeignKey("core.Job", verbose_name="生成任务", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="制单人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("制单时间", auto_now_add=True)
    paid_on = models.DateField("支付日期", null=True, blank=True)
    payment_reference = models.CharField("支付凭证号", max_length=60, blank=True)

    history = HistoricalRecords()
    objects = PaymentBatchQuerySet.as_manager()

    class Meta:
        verbose_name = "付款通知批次"
        verbose_name_plural = "付款通知批次"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def document_key(self) -> str:
        return f"reimbursement:payment-notice:{self.pk}"

    @property
    def created_date(self):
        from django.utils import timezone

        return timezone.localtime(self.created_at).date()


class PaymentReturnQuerySet(models.QuerySet):
    def open(self) -> PaymentReturnQuerySet:
        """Not yet checked or corrected by the counter."""
        return self.filter(resolved_at__isnull=True)

    def unverified(self) -> PaymentReturnQuerySet:
        """The counter corrected the account; a supervisor has not yet verified it."""
        return self.filter(resolved_at__isnull=False, account_changed=True, verified_at__isnull=True)

    def blocking(self) -> PaymentReturnQuerySet:
        """Returns that keep a claim off a payment notice: open or unverified."""
        return self.open() | self.unverified()


class PaymentReturn(models.Model):
    """退票: a payment the bank sent back (closed account, name and account do not match …).

    Finance records it; the claim goes back to “已审批（待付款）” and leaves its payment
    notice; the counter checks or corrects the payee account (the record is then resolved)
    before the claim can go on a new payment notice.
    """

    claim = models.ForeignKey(Claim, verbose_name="申请", on_delete=models.PROTECT, related_name="payment_returns")
    batch = models.ForeignKey(
        PaymentBatch, verbose_name="原付款通知", null=True, blank=True, on_delete=models.PROTECT, related_name="returns"
    )
    amount = models.DecimalField("退回金额", **MONEY)
    returned_on = models.DateField("退票日期")
    reason = models.CharField("退票原因", max_length=300)
    was_paid = models.BooleanField("退票前已登记支付", default=False)
    payment_reference = models.CharField("原支付凭证号", max_length=60, blank=True)
    payee_before = models.CharField("原收款人", max_length=50)
    bank_before = models.CharField("原开户银行", max_length=60)
    account_before = models.CharField("原银行账号（脱敏）", max_length=40)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="核对更正人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField("核对更正时间", null=True, blank=True)
    account_changed = models.BooleanField("已更正账户", default=False)
    account_after = models.CharField("更正后银行账号（脱敏）", max_length=40, blank=True)
    # A changed payee account is paid only after a second person (a supervisor) checks it.
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="账户复核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField("账户复核时间", null=True, blank=True)

    history = HistoricalRecords()
    objects = PaymentReturnQuerySet.as_manager()

    class Meta:
        verbose_name = "退票记录"
        verbose_name_plural = "退票记录"
        ordering = ["claim", "recorded_at", "id"]
        constraints = [
            # At most one return waiting for the counter per claim.
            models.UniqueConstraint(fields=["claim"], condition=Q(resolved_at__isnull=True), name="payment_return_one_open"),
        ]

    def __str__(self) -> str:
        return f"{self.claim} 退票（{self.returned_on:%Y-%m-%d}）"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def awaits_verification(self) -> bool:
        return self.resolved_at is not None and self.account_changed and self.verified_at is None


class ClaimCounter(models.Model):
    """Per region and year, the last claim number handed out."""

    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, default="claim")
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "编号计数器"
        verbose_name_plural = "编号计数器"
        constraints = [models.UniqueConstraint(fields=["region", "year", "kind"], name="claim_counter_unique")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year} {self.kind}: {self.last}"


__all__ = [
    "AdjustmentSituation",
    "BenefitRule",
    "BenefitUsage",
    "CareType",
    "Claim",
    "ClaimCounter",
    "ClaimMaterial",
    "ClaimNotice",
    "HospitalLevel",
    "OtherAllowedCase",
    "PaymentBatch",
    "PaymentReturn",
    "PolicyVersion",
    "PublishedMaterial",
    "Scope",
    "SettlementFailure",
    "Situation",
    "StudentVacation",
]
