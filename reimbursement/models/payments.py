"""Payment notices (付款通知) and the bank's returns of payments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.links import object_url
from core.scoping import RegionScopedQuerySet
from reimbursement.models.claims import Claim
from reimbursement.models.common import MONEY, ZERO


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

    def get_absolute_url(self) -> str:
        return object_url("reimbursement:batch_detail", self.pk)

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
