"""Benefit policies of the insured region (参保地待遇政策), versioned, with their rules and adjustments."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models import InsuranceType
from reimbursement.models.common import (
    MONEY,
    PERCENT_VALIDATORS,
    ZERO,
    AdjustmentSituation,
    CareType,
    HospitalLevel,
    Scope,
)

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
