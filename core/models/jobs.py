from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.scoping import RegionScopedQuerySet


class JobQuerySet(models.QuerySet):
    def for_user(self, user) -> JobQuerySet:
        """Agency staff see the jobs they started and their region's jobs; anyone
        else (a hospital's account) only the jobs they started themselves."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        own = Q(created_by=user)
        if not user.is_agency_staff:
            return self.filter(own)
        if user.sees_all_regions:
            return self
        return self.filter(own | Q(region_id=user.region_code, region__isnull=False))


class Job(models.Model):
    """One background run (NetBox jobs): what, for whom, how far, how it ended."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "运行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    kind = models.CharField("任务类型", max_length=60, db_index=True)
    title = models.CharField("任务名称", max_length=200)
    params = models.JSONField("参数", default=dict, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress_done = models.PositiveBigIntegerField("已完成", default=0)
    progress_total = models.PositiveBigIntegerField("总量", default=0)
    progress_message = models.CharField("进度说明", max_length=200, blank=True)
    progress_in_bytes = models.BooleanField("进度按字节计", default=False, help_text="读文件的任务：已完成/总量是字节数")
    result = models.JSONField("结果", default=dict, blank=True)
    error = models.TextField("错误信息", blank=True)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)
    region = models.ForeignKey(
        "core.Region", verbose_name="所属地区", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        "最近心跳", null=True, blank=True, help_text="执行（或排队等候）这个任务的进程定时写入；长时间没有心跳说明该进程已终止。"
    )
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["region", "-created_at", "-id"], name="job_region_newest")]

    def __str__(self) -> str:
        return f"{self.title}（{self.get_status_display()}）"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))

    @property
    def progress_figures(self) -> str:
        """“3/28” for counted work, “12.5 MB/40.0 MB” for a file being read."""
        if not self.progress_total:
            return ""
        if self.progress_in_bytes:
            from django.template.defaultfilters import filesizeformat

            return f"{filesizeformat(self.progress_done)}/{filesizeformat(self.progress_total)}"
        return f"{self.progress_done}/{self.progress_total}"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}


class DocumentQuerySet(RegionScopedQuerySet):
    region_scope_fields = ("region",)

    def for_user(self, user) -> DocumentQuerySet:
        """Agency staff: a city's own documents, plus those addressed to its whole
        province (the province's 平衡总表 and 清算明细表 go to every city).
        A hospital's account: the documents of its own jobs and those each app
        declares as concerning its institution (the forms of its referrals)."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if not user.is_agency_staff:
            return self._for_institution(user)
        scoped = super().for_user(user)
        region_code = getattr(user, "region_code", None) if getattr(user, "is_authenticated", False) else None
        if not region_code or user.sees_all_regions or not user.is_active:
            return scoped
        from core.models.regions import province_code_of

        province = province_code_of(region_code)
        if province == region_code:
            return scoped
        return scoped | self.filter(region_id=province)

    def _for_institution(self, user) -> DocumentQuerySet:
        from core.models.staff import Role

        if Role.HOSPITAL not in user.roles or user.institution_id is None:
            return self.none()
        from core.documents import institution_documents

        return self.filter(Q(job__created_by=user) | institution_documents(user))

    def latest_versions(self) -> DocumentQuerySet:
        return self.filter(is_latest=True)


def document_upload_to(instance: Document, filename: str) -> str:
    return f"documents/{instance.created_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}-{filename}"


class Document(models.Model):
    """An archived generated file (a notice PDF, an export). Stored once with its checksum."""

    kind = models.CharField("文档类型", max_length=40, db_index=True)
    title = models.CharField("标题", max_length=200)
    key = models.CharField("文档标识", max_length=200, db_index=True, help_text="同一标识的文档按版本号递增保存。")
    version = models.PositiveIntegerField("版本", default=1)
    is_latest = models.BooleanField("最新版本", default=True)
    file = models.FileField("文件", upload_to=document_upload_to, max_length=300)
    filename = models.CharField("文件名", max_length=200)
    content_type = models.CharField("类型", max_length=100, default="application/pdf")
    size = models.PositiveBigIntegerField("大小（字节）", default=0)
    sha256 = models.CharField("SHA-256", max_length=64)
    sealed = models.BooleanField(
        "加密存储", default=False, help_text="含完整身份证号或银行账号的文件（如上传省平台文件、银行代发文件）加密保存。"
    )
    period = models.CharField("所属期", max_length=7, blank=True, db_index=True)
    region = models.ForeignKey(
        "core.Region",
        verbose_name="所属地区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="该地区的工作人员可以下载；留空则仅省级可见。",
    )
    job = models.ForeignKey(Job, verbose_name="生成任务", null=True, blank=True, on_delete=models.SET_NULL, related_name="documents")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="生成人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("生成时间")

    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = "文档"
        verbose_name_plural = "文档档案"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["region", "-created_at", "-id"], name="document_region_newest"),
            models.Index(fields=["is_latest", "-created_at", "-id"], name="document_latest_newest"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="document_key_version_unique"),
            models.UniqueConstraint(
                fields=["key"], condition=Q(is_latest=True), name="document_one_latest_per_key"
            ),
            models.UniqueConstraint(
                fields=["job", "key"], condition=Q(job__isnull=False), name="document_once_per_job_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（第{self.version}版）"

    def read(self) -> bytes:
        """The file's bytes as generated (opened if it is stored sealed)."""
        from core import crypto

        with self.file.open("rb") as handle:
            content = handle.read()
        return crypto.open_bytes(content) if self.sealed else content

    def open_plain(self):
        """A readable file object of the bytes as generated (the stored file itself when not sealed)."""
        import io

        return io.BytesIO(self.read()) if self.sealed else self.file.open("rb")

    @staticmethod
    def checksum(content: bytes) -> str:
        return hashlib.sha256(content).hexdigest()
