from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class AuditLog(models.Model):
    """Who did what, when, to which object, from which state (pretix log_action)."""

    class Action(models.TextChoices):
        LOGIN = "login", "登录"
        LOGIN_FAILED = "login_failed", "登录失败"
        LOGOUT = "logout", "退出"
        LOCKED_OUT = "locked_out", "账号锁定"
        IDLE_LOGOUT = "idle_logout", "超时退出"
        DOWNLOAD = "download", "下载文档"
        CREATE = "create", "新建"
        CHANGE = "change", "修改"
        TRANSITION = "transition", "状态变更"
        IMPORT = "import", "导入"
        EXPORT = "export", "导出"
        VIEW_SENSITIVE = "view_sensitive", "查看完整敏感信息"
        JOB = "job", "后台任务"
        PERMISSION = "permission", "权限变更"
        PURGE = "purge", "清理过期日志"
        SECOND_FACTOR = "second_factor", "第二因素"

    # The trail is append-only (see core.audit_chain): deleting a user or a content
    # type must not rewrite its rows, so these keys are not enforced in the database.
    at = models.DateTimeField("时间", default=timezone.now, editable=False, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField("用户名", max_length=150, blank=True)
    action = models.CharField("操作", max_length=20, choices=Action.choices, db_index=True)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    subject = GenericForeignKey("content_type", "object_id")
    object_repr = models.CharField("对象", max_length=200, blank=True)
    from_state = models.CharField("原状态", max_length=40, blank=True)
    to_state = models.CharField("新状态", max_length=40, blank=True)
    message = models.CharField("说明", max_length=500, blank=True)
    data = models.JSONField("详细信息", default=dict, blank=True)
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    seq = models.PositiveBigIntegerField("链序号", unique=True, null=True, editable=False)
    prev_hash = models.CharField("前一条哈希", max_length=64, blank=True, editable=False)
    hash = models.CharField("哈希", max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = "操作日志"
        verbose_name_plural = "操作日志"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()} {self.object_repr}"


class AuditChainCheck(models.Model):
    """One run of the audit-chain verification (daily job or `manage.py verify_audit`)."""

    checked_at = models.DateTimeField("检查时间", default=timezone.now, db_index=True)
    ok = models.BooleanField("完整")
    records = models.PositiveBigIntegerField("检查条数", default=0)
    broken_seq = models.PositiveBigIntegerField("首个异常记录链序号", null=True, blank=True)
    broken_id = models.PositiveBigIntegerField("首个异常记录编号", null=True, blank=True)
    message = models.CharField("结论", max_length=500, blank=True)

    class Meta:
        verbose_name = "操作日志完整性检查"
        verbose_name_plural = "操作日志完整性检查"
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {'完整' if self.ok else '异常'}"
