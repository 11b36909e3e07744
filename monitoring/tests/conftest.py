from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from clearing.models import Settlement

_counter = {"n": 0}


def settle(period: str, insured: str, treatment: str, total: str, fund: str, *, insurance: str = "310",
           care: str = "inpatient", institution: str = "测试医院") -> Settlement:
    _counter["n"] += 1
    year, month = int(period[:4]), int(period[5:7])
    return Settlement.objects.create(
        settlement_id=f"T{period}{_counter['n']:08d}", period=period, insured_region=insured, treatment_region=treatment,
        insurance_type=insurance, care_type=care, settled_on=date(year, month, 10), total_amount=Decimal(total),
        fund_amount=Decimal(fund), institution=institution,
    )


@pytest.fixture
def march(db):
    """The hand-computed month of test_report_json (2026-03, with 2026-02 and 2025-03)."""
    # 2026-03
    settle("2026-03", "320100", "320200", "1000.00", "700.00", institution="无锡市人民医院")
    settle("2026-03", "320100", "110000", "333.33", "100.00", insurance="390", care="outpatient", institution="北京协和医院")
    settle("2026-03", "320100", "330100", "200.02", "150.01", care="chronic", institution="浙大一院")
    settle("2026-03", "320200", "320100", "60.00", "30.00", institution="南京鼓楼医院")
    settle("2026-03", "320200", "310000", "40.01", "20.00", institution="瑞金医院")
    settle("2026-03", "320300", "340000", "0.32", "0.01", care="outpatient", institution="安徽省立医院")
    settle("2026-03", "330000", "320200", "500.00", "250.00", insurance="390", institution="无锡市人民医院")
    # 2026-02: the month before
    settle("2026-02", "320100", "110000", "300.00", "200.00")
    settle("2026-02", "320100", "110000", "200.00", "100.00")
    settle("2026-02", "320300", "320100", "0.33", "0.10")
    # 2025-03: the same month last year
    settle("2025-03", "320100", "310000", "1000.00", "600.00")
