"""异地就医备案: filings, the regional filing settings and the provincial-upload batches.

A filing (备案) says that an insured person may be treated in a destination (a
city or a whole province) during a period. Long-term filings (长期异地居住) have
no end date; temporary ones (临时外出就医) last at least six months (江苏 第十条).
A change (变更) ends the old filing (status "changed") and starts a new one that
`replaces` it; history is kept on both, with the dates they were valid, so the
question "was this person filed on that day" can be answered later.

`terminated_on` is the last day a changed or cancelled filing was valid: a
cancelled filing still covers the day it was cancelled; a changed one ends the
day before its replacement starts. No filing is made for 异地急诊抢救人员:
emergency treatment is deemed filed (视同已备案) by the filing query itself.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.fields import EncryptedTextField
from core.links import object_url
from core.scoping import RegionScopedQuerySet


class PersonGroup(models.TextChoices):
    LONG_TERM = "long_term", "长期异地居住人员"
    TEMPORARY = "temporary", "临时外出就医人员"


class PersonType(models.TextChoices):
    """人员类别 (江苏 第七条、第八条)."""

    RETIRED_RESETTLED = "retired_resettled", "异地安置退休人员"
    LONG_TERM_RESIDENT = "long_term_resident", "异地长期居住人员"
    POSTED_WORKER = "posted_worker", "常驻异地工作人员"
    REFERRAL = "referral", "异地转诊人员"
    EMERGENCY = "emergency", "异地急诊抢救人员"
    OTHER_TEMPORARY = "other_temporary", "其他临时外出就医人员"

    @property
    def group(self) -> PersonGroup:
        return PERSON_TYPE_GROUPS[self]


PERSON_TYPE_GROUPS: dict[str, PersonGroup] = {
    PersonType.RETIRED_RESETTLED: PersonGroup.LONG_TERM,
    PersonType.LONG_TERM_RESIDENT: PersonGroup.LONG_TERM,
    PersonType.POSTED_WORKER: PersonGroup.LONG_TERM,
    PersonType.REFERRAL: PersonGroup.TEMPORARY,
    PersonType.EMERGENCY: PersonGroup.TEMPORARY,
    PersonType.OTHER_TEMPORARY: PersonGroup.TEMPORARY,
}

LONG_TERM_TYPES = frozenset(t for t, g in PERSON_TYPE_GROUPS.items() if g == PersonGroup.LONG_TERM)


def group_of(person_type: str) -> PersonGroup:
    return PERSON_TYPE_GROUPS[person_type]


def destination_label(region) -> str:
    """How a destination reads on screens and receipts: a whole province says so in
    words that fit it — 浙江省（全省）, 北京市（全市）, 广西壮族自治区（全区）."""
    if not region.is_province:
        return region.name
    if region.name.endswith("市"):
        return f"{region.name}（全市）"
    if region.name.endswith(("自治区", "特别行政区")):
        return f"{region.name}（全区）"
    return f"{region.name}（全省）"


class FilingStatus(models.TextChoices):
    """What the filing query (selectors.filing_check) answers about a treatment."""

    FILED = "filed", "已备案"
    DEEMED_FILED = "deemed_filed", "视同已备案（急诊抢救）"
    LATE_FILED = "late_filed", "补办备案"
    NOT_FILED = "not_filed", "未备案"


class Channel(models.TextChoices):
    COUNTER = "counter", "经办窗口"
    ONLINE = "online", "线上“不见面”"
    HOSPITAL = "hospital", "医疗机构"


class Basis(models.TextChoices):
    """How a long-term filing was proved (江苏 第十条)."""

    MATERIALS = "materials", "证明材料"
    COMMITMENT = "commitment", "个人承诺（承诺制）"


class SettlementState(models.TextChoices):
    """For a 补办 (retroactive) filing: where the stay it covers stands."""

    NOT_SETTLED = "not_settled", "尚未出院结算"
    SELF_PAID = "self_paid", "已出院自费结算"


class UploadStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", "无需上传"
    PENDING = "pending", "待上传"
    #: In an exported file, waiting for the provincial system's result file.
    EXPORTED = "exported", "已导出"
    UPLOADED = "uploaded", "已上传"


class UploadAction(models.TextChoices):
    NEW = "new", "新增"
    CHANGE = "change", "变更"
    CANCEL = "cancel", "取消"
    #: A filing whose validity had already ended when it was registered (a late 补办):
    #: the provincial system records it as history, never as a current filing.
    BACKFILL = "backfill", "补录（已到期）"


class FilingQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("insured_region",)

    def for_user(self, user) -> FilingQuerySet:
        """Agency staff see their region's filings; a hospital's staff see only
        the referrals of their own hospital."""
        from core.models import Role

        if (
            getattr(user, "is_authenticated", False)
            and user.is_active
            and not user.is_superuser
            and Role.HOSPITAL in user.roles
            and not (user.roles - {Role.HOSPITAL})
        ):
            if user.institution_id is None:
                return self.none()
            return self.filter(referring_institution_id=user.institution_id, person_type=PersonType.REFERRAL)
        return super().for_user(user)

    def counting(self) -> FilingQuerySet:
        """Filings that count for coverage: active, or ended later than the date asked about.

        Records of type 异地急诊抢救人员 (made before emergencies were recognised as
        deemed filed) never count: an emergency is DEEMED_FILED by itself, and such
        a record must not make an ordinary visit FILED."""
        return self.filter(status__in=Filing.COUNTING_STATUSES).exclude(person_type=PersonType.EMERGENCY)

    def valid_on(self, day: date) -> FilingQuerySet:
        """Filings that were valid on `day` (dates of change, cancellation and expiry respected)."""
        return (
            self.counting()
            .filter(start_date__lte=day)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
            .filter(Q(terminated_on__isnull=True) | Q(terminated_on__gte=day))
        )

    def commitment_open(self) -> FilingQuerySet:
        """Commitment-letter filings whose real materials are still owed by a date
        (drafts and applications get their deadline only when they take effect)."""
        return self.filter(
            basis=Basis.COMMITMENT,
            materials_completed_on__isnull=True,
            materials_due_on__isnull=False,
            status__in=[Filing.Status.ACTIVE, Filing.Status.DRAFT, Filing.Status.PENDING_REVIEW],
        )


class Filing(models.Model):
    """异地就医备案."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PENDING_REVIEW = "pending_review", "待审核"
        ACTIVE = "active", "有效"
        CHANGED = "changed", "已变更"
        CANCELLED = "cancelled", "已取消"
        EXPIRED = "expired", "已到期"
        REJECTED = "rejected", "已驳回"

    #: Statuses whose validity dates still answer "was the person filed on that day".
    COUNTING_STATUSES = (Status.ACTIVE, Status.CHANGED, Status.CANCELLED, Status.EXPIRED)

    number = models.CharField("备案编号", max_length=24, unique=True, null=True, blank=True)
    insured_person = models.ForeignKey(
        "core.InsuredPerson", verbose_name="参保人员", on_delete=models.PROTECT, related_name="filings"
    )
    insured_region = models.ForeignKey(
        "core.Region",
        verbose_name="参保地",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="办理时参保人员的参保地（统筹区），决定由哪个经办机构管理这份备案。",
    )
    person_type = models.CharField("人员类别", max_length=20, choices=PersonType.choices)
    person_group = models.CharField("备案类型", max_length=10, choices=PersonGroup.choices, editable=False)
    basis = models.CharField("办理方式", max_length=12, choices=Basis.choices, default=Basis.MATERIALS)
    destination = models.ForeignKey(
        "core.Region", verbose_name="就医地", on_delete=models.PROTECT, related_name="+",
        help_text="备案到就医地市或省份。",
    )
    multi_place = models.BooleanField("多地备案", default=False, help_text="同一人员同时在多个就医地长期居住备案。")
    channel = models.CharField("办理渠道", max_length=10, choices=Channel.choices, default=Channel.COUNTER)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)

    applied_on = models.DateField("申请日期")
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期", null=True, blank=True, help_text="长期异地居住备案长期有效，不填。")
    terminated_on = models.DateField(
        "终止日期", null=True, blank=True,
        help_text="变更或取消后备案的最后有效日（含当日）：取消的为取消办理之日，变更的为新备案开始的前一日。",
    )

    materials = models.JSONField("已收材料", default=list, blank=True)
    materials_due_on = models.DateField(
        "承诺材料补交期限", null=True, blank=True, help_text="承诺制备案应在此日期前补齐证明材料。"
    )
    materials_completed_on = models.DateField("承诺材料补齐日期", null=True, blank=True)
    commitment_on = models.DateField(
        "承诺日期", null=True, blank=True,
        help_text="以个人承诺办理生效之日。承诺材料补交期限和变更/取消等待期由此起算，变更后的备案沿用。",
    )

    by_proxy = models.BooleanField("代办", default=False)
    proxy_name = models.CharField("代办人姓名", max_length=50, blank=True)
    proxy_id_number = EncryptedTextField("代办人身份证号", purpose="id_number", max_length=18, blank=True)
    proxy_phone = models.CharField("代办人联系电话", max_length=30, blank=True)
    proxy_relation = models.CharField("与参保人关系", max_length=20, blank=True)

    referring_institution = models.ForeignKey(
        "core.Institution",
        verbose_name="转出医疗机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referral_filings",
        help_text="开具转诊转院证明的参保地定点医疗机构（异地转诊人员）。",
    )
    diagnosis = models.CharField("诊断/转诊原因", max_length=200, blank=True)
    contact_address = models.CharField("就医地联系地址", max_length=200, blank=True)
    contact_phone = models.CharField(
        "申请联系电话", max_length=30, blank=True,
        help_text="线上申请填写的联系电话；审核通过后才更新到参保人员信息。",
    )

    retroactive = models.BooleanField("补办备案", default=False)
    admission_date = models.DateField("入院日期", null=True, blank=True, help_text="补办备案所针对的住院的入院日期。")
    treatment_institution = models.CharField("就医机构", max_length=100, blank=True)
    settlement_state = models.CharField(
        "出院结算情况", max_length=12, choices=SettlementState.choices, blank=True
    )
    discharge_date = models.DateField("出院日期", null=True, blank=True)
    manual_reimbursement_eligible = models.BooleanField(
        "可申请手工报销",
        default=False,
        help_text="出院自费结算后补办备案的，可按参保地规定申请手工（零星）报销。",
    )

    online_reference = models.CharField(
        "线上申请流水号", max_length=40, null=True, blank=True, unique=True,
        help_text="线上“不见面”申请的流水号，重复导入同一申请不会重复登记。",
    )
    review_due_on = models.DateField("审核期限", null=True, blank=True)
    review_due_confirmed = models.BooleanField("审核期限按已确认日历计算", default=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    review_note = models.CharField("审核意见", max_length=300, blank=True)

    cancel_reason = models.CharField("取消原因", max_length=300, blank=True)
    change_reason = models.CharField("变更原因", max_length=300, blank=True)
    replaces = models.OneToOneField(
        "self",
        verbose_name="变更前备案",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
    )
    remarks = models.CharField("备注", max_length=300, blank=True)

    upload_status = models.CharField(
        "省平台上传", max_length=12, choices=UploadStatus.choices, default=UploadStatus.NOT_REQUIRED, db_index=True
    )
    upload_action = models.CharField("待上传业务", max_length=8, choices=UploadAction.choices, blank=True)
    upload_pending_since = models.DateTimeField("待上传起始时间", null=True, blank=True)
    uploaded_at = models.DateTimeField("上传时间", null=True, blank=True)
    upload_error = models.CharField(
        "上次上传失败原因", max_length=300, blank=True, help_text="省平台结果文件中的失败原因；重新上传成功后清除。"
    )
    upload_batch = models.ForeignKey(
        "filings.UploadBatch", verbose_name="上传批次", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="filings",
    )

    activated_at = models.DateTimeField("生效办理时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords()
    objects = FilingQuerySet.as_manager()

    class Meta:
        verbose_name = "异地就医备案"
        verbose_name_plural = "异地就医备案"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("review_filing", "审核线上备案申请"),
            ("upload_filing", "导出上传省级异地就医系统"),
            ("import_filing", "导入线上备案申请"),
        ]
        indexes = [
            # The list's first page: a region's newest filings without sorting the region (scale).
            models.Index(fields=["insured_region", "-created_at", "-id"], name="filing_region_newest"),
            models.Index(fields=["insured_person", "status"]),
            models.Index(fields=["insured_region", "status"]),
            models.Index(fields=["status", "end_date"]),
            models.Index(fields=["basis", "materials_due_on"]),
            # The home figures, each through its own (partial) index (selectors.dashboard_counts).
            models.Index(fields=["insured_region", "activated_at"], name="filing_region_activated"),
            models.Index(fields=["insured_region", "review_due_on"], condition=Q(status="pending_review"),
                         name="filing_review_due"),
            models.Index(fields=["insured_region", "upload_pending_since"], condition=Q(upload_status="pending"),
                         name="filing_upload_pending"),
            models.Index(
                fields=["insured_region", "materials_due_on"],
                condition=Q(basis="commitment", materials_completed_on__isnull=True,
                            status__in=["active", "pending_review", "draft"]),
                name="filing_commitment_due",
            ),
            models.Index(fields=["insured_region", "end_date"], condition=Q(status="active"), name="filing_active_end"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="filing_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=~Q(person_group=PersonGroup.LONG_TERM) | Q(end_date__isnull=True),
                name="filing_long_term_has_no_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number or '未编号'} {self.get_person_type_display()}（{self.status_label}）"

    def get_absolute_url(self) -> str:
        return object_url("filings:detail", self.pk)

    # -- What reimbursement reads -------------------------------------------------

    @property
    def group(self) -> str:
        return self.person_group

    @property
    def is_long_term(self) -> bool:
        return self.person_group == PersonGroup.LONG_TERM

    @property
    def is_temporary(self) -> bool:
        return self.person_group == PersonGroup.TEMPORARY

    @property
    def is_commitment(self) -> bool:
        return self.basis == Basis.COMMITMENT

    @property
    def status_label(self) -> str:
        return self.get_status_display()

    def covers_day(self, day: date) -> bool:
        """Was the filing valid on `day` (whatever happened to it afterwards)?"""
        if self.status not in self.COUNTING_STATUSES:
            return False
        if day < self.start_date:
            return False
        if self.end_date is not None and day > self.end_date:
            return False
        return not (self.terminated_on is not None and day > self.terminated_on)

    def covers_region(self, region_code: str) -> bool:
        from core.models import province_code_of

        if self.destination_id == region_code:
            return True
        return self.destination.is_province and province_code_of(region_code) == self.destination_id

    @property
    def last_valid_day(self) -> date | None:
        """The last day the filing was (or will be) valid; None while open-ended."""
        ends = [day for day in (self.end_date, self.terminated_on) if day is not None]
        return min(ends) if ends else None

    @property
    def validity_text(self) -> str:
        if self.is_long_term and self.end_date is None:
            text = f"{self.start_date:%Y-%m-%d} 起长期有效"
        else:
            text = f"{self.start_date:%Y-%m-%d} 至 {self.end_date:%Y-%m-%d}"
        if self.terminated_on is not None:
            verb = "变更" if self.status == self.Status.CHANGED else "取消"
            if self.terminated_on < self.start_date:
                text += f"（未生效即{verb}）"
            else:
                text += f"（已{verb}，有效至 {self.terminated_on:%Y-%m-%d}）"
        return text

    def materials_overdue_on(self, day: date) -> bool:
        return (
            self.basis == Basis.COMMITMENT
            and self.materials_completed_on is None
            and self.materials_due_on is not None
            and self.materials_due_on < day
            and self.status in (self.Status.ACTIVE, self.Status.PENDING_REVIEW, self.Status.DRAFT)
        )

    def review_overdue_on(self, day: date) -> bool:
        return self.status == self.Status.PENDING_REVIEW and self.review_due_on is not None and self.review_due_on < day


class FilingRegionSettings(models.Model):
    """Settings a pooling region may set for its filings (江苏 第十条, 新疆 二(三)、三(二))."""

    region = models.OneToOneField(
        "core.Region", verbose_name="统筹区", primary_key=True, on_delete=models.CASCADE, related_name="filing_settings"
    )
    commitment_materials_months = models.PositiveSmallIntegerField(
        "承诺材料补交时限（月）",
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="以个人承诺方式办理的，应在备案之日起多少个月内补齐证明材料。",
    )
    commitment_lock_months = models.PositiveSmallIntegerField(
        "承诺制备案变更/取消等待期（月）",
        default=6,
        validators=[MinValueValidator(0), MaxValueValidator(6)],
        help_text="承诺制长期异地居住备案满多少个月方可变更或取消（原则上不超过6个月）。",
    )
    materials_lock_months = models.PositiveSmallIntegerField(
        "材料备案变更/取消等待期（月）",
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(6)],
        help_text="以证明材料办理的长期异地居住备案满多少个月方可变更或取消；0 为随时可以（江苏 第十条）。"
        "本省规则允许时方可设置（新疆 二(三)：原则上不超过6个月）。",
    )
    temporary_min_months = models.PositiveSmallIntegerField(
        "临时外出就医备案最短有效期（月）",
        default=6,
        validators=[MinValueValidator(6), MaxValueValidator(24)],
        help_text="临时外出就医、异地转诊备案的有效期不少于6个月。",
    )
    retroactive_max_days = models.PositiveSmallIntegerField(
        "补办备案最长追溯天数",
        default=365,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="补办备案的入院（就诊）日期和开始日期最早可追溯到办理之日前多少天。",
    )
    review_working_days = models.PositiveSmallIntegerField(
        "线上申请审核时限（工作日）", default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    commitment_notice_extra = models.TextField(
        "承诺书补充告知事项",
        blank=True,
        help_text="附件1“告知事项”末尾由各市扩展的内容（如参保地联系电话等其他需告知事项）。",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="修改人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "备案地区设置"
        verbose_name_plural = "备案地区设置"
        ordering = ["region__sort_order", "region__code"]

    def __str__(self) -> str:
        return f"{self.region} 备案设置"


class UploadBatchQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("region",)


class UploadBatch(models.Model):
    """One export of filings to the provincial 异地就医 system (江苏 第九条：当天上传)."""

    region = models.ForeignKey("core.Region", verbose_name="统筹区", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导出人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("导出时间", auto_now_add=True)
    file_format = models.CharField("文件格式", max_length=4, default="xlsx")
    count_new = models.PositiveIntegerField("新增", default=0)
    count_change = models.PositiveIntegerField("变更", default=0)
    count_cancel = models.PositiveIntegerField("取消", default=0)
    count_backfill = models.PositiveIntegerField("补录（已到期）", default=0)
    document = models.ForeignKey(
        "core.Document", verbose_name="导出文件", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = UploadBatchQuerySet.as_manager()

    class Meta:
        verbose_name = "省平台上传批次"
        verbose_name_plural = "省平台上传批次"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.region} {self.created_at:%Y-%m-%d %H:%M} 上传批次"

    @property
    def total(self) -> int:
        return self.count_new + self.count_change + self.count_cancel + self.count_backfill

    @property
    def summary(self) -> str:
        """“新增3、变更1、取消0”, plus the 补录 when there were any."""
        text = f"新增{self.count_new}、变更{self.count_change}、取消{self.count_cancel}"
        if self.count_backfill:
            text += f"、补录（已到期）{self.count_backfill}"
        return text
