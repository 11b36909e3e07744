"""Shared by the clearing models: money fields, care types, scopes."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

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
