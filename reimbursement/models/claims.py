"""Claims (零星报销申请), their materials, notices and benefit usage, and the numbering counters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from core.fields import EncryptedTextField
from core.links import object_url
from core.models import InsuranceType
from core.scoping import RegionScopedQuerySet
from reimbursement.models.common import (
    HALF_CENT,
    MONEY,
    ZERO,
    AdjustmentSituation,
    CareType,
    HospitalLevel,
    Scope,
    SettlementFailure,
    Situation,
)
from reimbursement.models.policies import PolicyVersion
from reimbursement.models.reference import OtherAllowedCase

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
            # Finance's payments queue: the approved claims with something to pay, oldest decision first.
            models.Index(
                fields=["region", "decided_at", "id"], condition=Q(status="approved", fund_payment__gt=0), name="claim_payable"
            ),
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

    def get_absolute_url(self) -> str:
        return object_url("reimbursement:claim_detail", self.pk)

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
