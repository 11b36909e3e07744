"""业务协同: 费用协查 (audit assist, 第五十六条) and 问题协同 (issue coordination, 第五十七条).

Both are cases between two regions; each side sees the case, nobody else (province
level sees all). Every state change goes through `cooperation.services`.
"""

from __future__ import annotations

import os
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.fields import BlindIndexField, EncryptedTextField
from core.models import Sex
from core.scoping import RegionScopedQuerySet

MONEY = {"max_digits": 14, "decimal_places": 2}


# --- 费用协查 ------------------------------------------------------------------------------------


class AssistQuerySet(RegionScopedQuerySet):
    # Requests sent to a city of another province name that city or its province; our
    # staff match on the insured side only then, which these two fields cover.
    region_scope_fields = ("insured_region_id", "treatment_region_id")

    def open(self) -> AssistQuerySet:
        return self.filter(status__in=AssistRequest.OPEN_STATUSES)

    def awaiting_answer(self) -> AssistQuerySet:
        return self.filter(status__in=AssistRequest.ANSWER_STATUSES)


class AssistRequest(models.Model):
    """费用协查申请: the insured region asks the treatment region to check one inpatient stay."""

    class Status(models.TextChoices):
        SENT = "sent", "待核查"
        DISPUTED = "disputed", "有异议待重新核查"
        ANSWERED = "answered", "待确认"
        CONFIRMED = "confirmed", "已确认"

    class Result(models.TextChoices):
        NO_ISSUE = "no_issue", "核查无误"
        HAS_ISSUE = "has_issue", "核查有误"

    class Source(models.TextChoices):
        SETTLEMENT = "settlement", "结算明细"
        CLAIM = "claim", "零星报销"
        MANUAL = "manual", "手工录入"

    ANSWER_STATUSES = (Status.SENT, Status.DISPUTED)
    OPEN_STATUSES = (Status.SENT, Status.DISPUTED, Status.ANSWERED)

    number = models.CharField("协查编号", max_length=24, unique=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.SENT, db_index=True)
    insured_region = models.ForeignKey(
        "core.Region", verbose_name="参保地（申请方）", on_delete=models.PROTECT, related_name="+"
    )
    treatment_region = models.ForeignKey(
        "core.Region", verbose_name="就医地（协查方）", on_delete=models.PROTECT, related_name="+"
    )
    cross_province = models.BooleanField(
        "跨省协查", default=False, help_text="就医地在外省：经国家异地就医系统导出申请、导入结果。"
    )
    source = models.CharField("来源", max_length=12, choices=Source.choices, default=Source.MANUAL)
    settlement_id = models.CharField("结算流水号", max_length=40, blank=True, db_index=True)
    claim = models.ForeignKey(
        "reimbursement.Claim", verbose_name="零星报销申请", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    # 第五十六条: the information every request must carry.
    id_number = EncryptedTextField("身份证号码", purpose="id_number", max_length=18)
    id_number_hash = BlindIndexField("身份号码检索码", source="id_number", purpose="id_number", db_index=True)
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    institution_name = models.CharField("医疗服务机构名称", max_length=200)
    hospital_number = models.CharField("住院号", max_length=40)
    invoice_number = models.CharField("发票号码", max_length=200)
    admission_date = models.DateField("入院日期")
    discharge_date = models.DateField("出院日期")
    total_amount = models.DecimalField("费用总额（元）", **MONEY)
    concern = models.TextField("疑点说明", blank=True)

    received_on = models.DateField("收到申请日期", db_index=True)
    answer_due = models.DateField("协查完成期限", db_index=True, help_text="收到申请的次月26日；延期顺延至下一期。")
    period = models.CharField("统计所属期", max_length=7, db_index=True, help_text="协查完成期限所在月份")
    late_count = models.PositiveSmallIntegerField("延期次数", default=0)

    result = models.CharField("协查结果", max_length=12, choices=Result.choices, blank=True)
    finding = models.TextField("核查有误的具体原因", blank=True)
    irregular_amount = models.DecimalField(
        "涉及违规费用（元）", **MONEY, null=True, blank=True, help_text="核查有误时的疑似违规金额，作扣款依据。"
    )
    answer_note = models.TextField("协查说明", blank=True)
    answered_on = models.DateField("结果返回日期", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="协查人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    answer_imported = models.BooleanField("结果经国家系统导入", default=False)
    confirm_due = models.DateField("确认期限", null=True, blank=True, db_index=True)
    confirmed_on = models.DateField("确认日期", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    dispute_note = models.TextField("异议说明", blank=True)
    dispute_count = models.PositiveSmallIntegerField("异议次数", default=0)
    exported_at = models.DateTimeField("导出至国家系统时间", null=True, blank=True)
    deduction_reference = models.CharField(
        "扣款登记", max_length=60, blank=True, help_text="确认核查有误后由清算扣款登记回写（如扣款单号）。"
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("申请时间", auto_now_add=True)

    history = HistoricalRecords()
    objects = AssistQuerySet.as_manager()

    class Meta:
        verbose_name = "费用协查"
        verbose_name_plural = "费用协查"
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(result="has_issue") | ~Q(finding=""),
                name="assist_issue_needs_finding",
                violation_error_message="核查有误须填写具体原因。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def awaiting_answer(self) -> bool:
        return self.status in self.ANSWER_STATUSES


class AssistDelay(models.Model):
    """One period a request went past its due date (顺延至下一期, 计入本期完成情况统计)."""

    request = models.ForeignKey(AssistRequest, verbose_name="费用协查", on_delete=models.CASCADE, related_name="delays")
    period = models.CharField("逾期所属期", max_length=7, db_index=True)
    previous_due = models.DateField("原期限")
    new_due = models.DateField("顺延后期限")
    reason = models.CharField("原因", max_length=300)
    automatic = models.BooleanField("到期自动顺延", default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "协查延期"
        verbose_name_plural = "协查延期"
        ordering = ["request", "previous_due"]
        constraints = [models.UniqueConstraint(fields=["request", "period"], name="assist_delay_once_per_period")]

    def __str__(self) -> str:
        return f"{self.request.number} {self.period} 延期"


# --- 问题协同 ------------------------------------------------------------------------------------


class CoordinationQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("requester__region_id", "receiver__region_id")

    def for_user(self, user) -> CoordinationQuerySet:
        """Requester, receiver and every agency asked to help see the issue (no duplicate rows)."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.sees_all_regions:
            return self
        agency_id = user.agency_id
        if agency_id is None:
            return self.none()
        helped = CoordinationHelper.objects.filter(agency_id=agency_id).values("coordination_id")
        return self.filter(Q(requester_id=agency_id) | Q(receiver_id=agency_id) | Q(pk__in=helped))

    def open(self) -> CoordinationQuerySet:
        return self.filter(status__in=Coordination.OPEN_STATUSES)


class Coordination(models.Model):
    """问题协同申请: one agency asks another to resolve a problem of cross-region care."""

    class Kind(models.TextChoices):
        FILING = "filing", "备案类"
        SYSTEM = "system", "系统故障类"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        REPLIED = "replied", "待确认"
        CONFIRMED = "confirmed", "已确认"
        DEEMED_CONFIRMED = "deemed_confirmed", "超期视同确认"
        DISPUTED = "disputed", "有异议"
        ESCALATED = "escalated", "已提请上级协调"

    OPEN_STATUSES = (Status.OPEN, Status.REPLIED)
    CLOSED_STATUSES = (Status.CONFIRMED, Status.DEEMED_CONFIRMED, Status.ESCALATED)

    number = models.CharField("协同编号", max_length=24, unique=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    requester = models.ForeignKey(
        "core.Agency", verbose_name="申请机构", on_delete=models.PROTECT, related_name="coordinations_raised"
    )
    receiver = models.ForeignKey(
        "core.Agency", verbose_name="待协同机构（第一响应人）", on_delete=models.PROTECT,
        related_name="coordinations_received",
    )
    kind = models.CharField("问题类型", max_length=10, choices=Kind.choices)
    subject = models.CharField("主要协同事项", max_length=200)
    description = models.TextField("问题描述", blank=True)
    person_id_number = EncryptedTextField("参保人员身份证号码", purpose="id_number", max_length=18, blank=True)
    person_id_number_hash = BlindIndexField(
        "身份号码检索码", source="person_id_number", purpose="id_number", db_index=True
    )
    person_name = models.CharField("参保人员姓名", max_length=50, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name="原协同申请", null=True, blank=True, on_delete=models.PROTECT, related_name="escalations",
        help_text="有异议或未解决、提请上一级医保部门协调时，指向原申请。",
    )

    received_on = models.DateField("接收日期", db_index=True)
    reply_due = models.DateField("回复期限", db_index=True)
    extension_reason = models.CharField("延长时限原因", max_length=300, blank=True)
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="延期经办人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    reply = models.TextField("处理结果", blank=True)
    replied_on = models.DateField("回复日期", null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="回复人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    deemed_confirmed_on = models.DateField("默认确认日期", null=True, blank=True, db_index=True)
    confirmed_on = models.DateField("确认日期", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    dispute_note = models.TextField("异议说明", blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("申请时间", auto_now_add=True)

    history = HistoricalRecords()
    objects = CoordinationQuerySet.as_manager()

    class Meta:
        verbose_name = "问题协同"
        verbose_name_plural = "问题协同"
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(requester=models.F("receiver")), name="coordination_not_to_self",
                                   violation_error_message="不能向本机构发起问题协同。"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"


class CoordinationHelper(models.Model):
    """Another agency the first responder asked to help (第五十七条: 详细列出其他协同机构)."""

    coordination = models.ForeignKey(Coordination, verbose_name="问题协同", on_delete=models.CASCADE, related_name="helpers")
    agency = models.ForeignKey("core.Agency", verbose_name="协助机构", on_delete=models.PROTECT, related_name="+")
    task = models.CharField("协助事项", max_length=200)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="添加人", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField("添加时间", auto_now_add=True)

    class Meta:
        verbose_name = "协助机构"
        verbose_name_plural = "协助机构"
        constraints = [models.UniqueConstraint(fields=["coordination", "agency"], name="coordination_helper_once")]

    def __str__(self) -> str:
        return f"{self.agency}：{self.task}"


class CoordinationNote(models.Model):
    """问题处理登记: what the responder (or a helping agency) did, in order."""

    coordination = models.ForeignKey(Coordination, verbose_name="问题协同", on_delete=models.CASCADE, related_name="notes")
    agency = models.ForeignKey("core.Agency", verbose_name="登记机构", on_delete=models.PROTECT, related_name="+")
    text = models.TextField("处理情况")
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "处理登记"
        verbose_name_plural = "处理登记"
        ordering = ["written_at", "pk"]

    def __str__(self) -> str:
        return self.text[:50]


# --- Attachments ---------------------------------------------------------------------------------


def attachment_upload_to(instance: Attachment, filename: str) -> str:
    # Never the uploader's file name on disk (path tricks, odd characters): a random name.
    extension = os.path.splitext(filename)[1].lower()[:8]
    return f"cooperation/{instance.uploaded_at:%Y/%m}/{uuid.uuid4().hex}{extension}"


class Attachment(models.Model):
    """A file attached to a 协查 or a 协同 case; downloaded only through the case's scoping."""

    assist = models.ForeignKey(
        AssistRequest, verbose_name="费用协查", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    coordination = models.ForeignKey(
        Coordination, verbose_name="问题协同", null=True, blank=True, on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField("文件", upload_to=attachment_upload_to, max_length=200)
    filename = models.CharField("原文件名", max_length=200)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    stage = models.CharField("环节", max_length=40, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(assist__isnull=False, coordination__isnull=True)
                | Q(assist__isnull=True, coordination__isnull=False),
                name="attachment_belongs_to_one_case",
            ),
        ]

    def __str__(self) -> str:
        return self.filename


class CaseCounter(models.Model):
    """The last number given per kind, region and year (numbers never repeat, even after a rollback race)."""

    kind = models.CharField("类型", max_length=12)
    region = models.ForeignKey("core.Region", verbose_name="地区", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    last = models.PositiveIntegerField("已用号", default=0)

    class Meta:
        verbose_name = "编号计数"
        verbose_name_plural = "编号计数"
        constraints = [models.UniqueConstraint(fields=["kind", "region", "year"], name="cooperation_counter_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.region_id} {self.year}: {self.last}"
