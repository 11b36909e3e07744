"""The cross-province advance formula is the province's data (core.jurisdictions): 江苏 splits
the national amounts (第三十一条), 新疆 takes 2 × last year's Q4 monthly average (四(一))."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from clearing import services
from clearing.models import ClearingPeriod, ClearingResult, CrossAdvance
from core.errors import DomainError
from core.jurisdictions import rules_for

pytestmark = pytest.mark.django_db


def result(period: str, insured: str, treatment: str, employee: str) -> None:
    record = services.period_get_or_create(period)
    ClearingPeriod.objects.filter(pk=record.pk).update(status="closed", computed_at=timezone.now())
    areas = services.areas()
    ClearingResult.objects.create(
        period=record, scope=areas.scope_of(areas.area_of(insured), areas.area_of(treatment)),
        insured_area=insured, treatment_area=treatment, employee_amount=Decimal(employee),
        resident_amount=Decimal("0"), settlement_count=1,
    )


@pytest.mark.parametrize(("province", "method"), [("320000", "national_share"), ("650000", "q4_monthly_average")])
def test_each_province_has_its_cross_province_formula(province, method):
    assert rules_for(province).cross_advance.method == method
    assert rules_for(province).intra_advance.method == "net_outflow_share"


def test_xinjiang_cross_advance_is_twice_the_q4_monthly_average(settings, make_staff):
    settings.YIDI_HOME_PROVINCE = "650000"
    officer = make_staff("clearing_xj", None, "650000")
    result("2025-03", "650100", "110000", "9000000.00")  # outside Q4: not counted
    result("2025-10", "650100", "110000", "200000.00")
    result("2025-12", "650100", "110000", "100000.00")
    result("2025-11", "650200", "310000", "150000.00")
    rows = {(row.region_id, row.province_id): row for row in services.cross_advances_compute(year=2026, by=officer)}
    # 乌鲁木齐 → 北京: Q4 300,000 ÷ 3 × 2 = 200,000 元 = 20 万元; 克拉玛依 → 上海: 100,000 元 = 10 万元
    assert rows[("650100", "110000")].approved_amount == 20
    assert rows[("650200", "310000")].approved_amount == 10
    assert len(rows) == 2


def test_jiangsu_still_needs_the_national_amounts(clearing_officer):
    result("2025-10", "320100", "110000", "200000.00")
    with pytest.raises(DomainError, match="国家异地就医系统下达"):
        services.cross_advances_compute(year=2026, by=clearing_officer)
    assert not CrossAdvance.objects.exists()
