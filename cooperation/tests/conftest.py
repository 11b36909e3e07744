from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.idcard import build_id_number
from core.models import Role
from core.tests.factories import AgencyFactory, region


@pytest.fixture
def province_agency(db):
    return AgencyFactory(region=region("320000"), name="江苏省医疗保障基金管理中心", short_name="省医保中心")


@pytest.fixture
def clerk_suzhou(make_staff):
    return make_staff("clerk_sz", Role.CLERK, "320500")


@pytest.fixture
def id_number():
    return build_id_number("320106", date(1956, 3, 12), 24)


@pytest.fixture
def stay(id_number):
    """The 第五十六条 fields of one inpatient stay in 无锡."""
    return {
        "treatment_region": region("320200"),
        "id_number": id_number,
        "name": "李秀英",
        "sex": "F",
        "institution_name": "无锡市人民医院",
        "hospital_number": "ZY2026030001",
        "invoice_number": "FP20260310001",
        "admission_date": date(2026, 2, 20),
        "discharge_date": date(2026, 3, 10),
        "total_amount": Decimal("36820.50"),
    }


@pytest.fixture
def raise_assist(clerk, stay):
    from cooperation import services

    def make(today=date(2026, 3, 16), by=None, **changes):
        return services.assist_create(by=by or clerk, today=today, **{**stay, **changes})

    return make


@pytest.fixture
def raise_coordination(clerk, clerk_wuxi):
    from cooperation import services

    def make(today=date(2026, 3, 2), by=None, receiver=None, kind="filing", **extra):
        return services.coordination_create(
            by=by or clerk, receiver=receiver or clerk_wuxi.agency, kind=kind, subject="备案后无法直接结算",
            today=today, **extra,
        )

    return make
