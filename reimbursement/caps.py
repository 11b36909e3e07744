"""The province's cap on a city's ratio reduction (domain.md §3 table), read through
core.jurisdictions.rules_for: a policy value above it is refused with the article."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.jurisdictions import Cap, rules_for
from reimbursement.models import AdjustmentSituation, Scope


def reduction_cap(*, region, on: date, scope: str, situation: str) -> Cap:
    """The cap of the province of ``region`` (a Region or code) in force on ``on``."""
    return rules_for(region, on=on).reduction_cap(scope, situation)


def reduction_cap_problem(*, region, on: date, scope: str, situation: str, points: Decimal | None) -> str:
    """Why ``points`` may not be set for this situation ("" when it may)."""
    if points is None:
        return ""
    cap = reduction_cap(region=region, on=on, scope=scope, situation=situation)
    if not cap.refuses(Decimal(points)):
        return ""
    limit = "不降低支付比例" if cap.points == 0 else f"降低幅度不超过{cap.points.normalize():f}个百分点"
    return (
        f"{Scope(scope).label}·{AdjustmentSituation(situation).label}：降低{Decimal(points).normalize():f}个百分点"
        f"超过本省规定（{limit}），依据{cap.article}。"
    )
