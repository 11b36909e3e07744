"""Shared by the reimbursement models: money, care types, situations, scopes."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

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
