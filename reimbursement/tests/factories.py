"""Factories and builders for reimbursement tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from core.tests.factories import InstitutionFactory, InsuredPersonFactory, region
from reimbursement.models import BenefitRule, PolicyVersion, SituationAdjustment
from reimbursement.services import ClaimDetails

D = Decimal

# insurance type, care type -> (deductible, {level: ratio}, cap)
SIMPLE_RULES = {
    ("310", "inpatient"): (D("1000.00"), {"3": D("85"), "2": D("90"), "1": D("95")}, D("300000.00")),
    ("310", "outpatient"): (D("600.00"), {"3": D("70"), "2": D("75"), "1": D("80")}, D("5000.00")),
    ("310", "emergency"): (D("600.00"), {"3": D("70"), "2": D("75"), "1": D("80")}, D("5000.00")),
    ("310", "maternity"): (D("0.00"), {"3": D("100"), "2": D("100"), "1": D("100")}, D("8000.00")),
    ("390", "inpatient"): (D("1200.00"), {"3": D("65"), "2": D("75"), "1": D("85")}, D("250000.00")),
    ("390", "outpatient"): (D("300.00"), {"3": D("50"), "2": D("55"), "1": D("60")}, D("1000.00")),
    ("390", "emergency"): (D("300.00"), {"3": D("50"), "2": D("55"), "1": D("60")}, D("1000.00")),
    ("390", "maternity"): (D("0.00"), {"3": D("80"), "2": D("85"), "1": D("90")}, D("5000.00")),
}

CROSS_REDUCTIONS = {
    "long_term": D("0"),
    "referral": D("10"),
    "emergency": D("10"),
    "other_temporary": D("20"),
    "unfiled": D("20"),
    "student": D("0"),
    "maternity": D("0"),
    "other_allowed": D("10"),
}
INTRA_REDUCTIONS = {
    "long_term": D("0"),
    "referral": D("5"),
    "emergency": D("0"),
    "other_temporary": D("0"),
    "unfiled": D("20"),
    "student": D("0"),
    "maternity": D("0"),
    "other_allowed": D("5"),
}


class PolicyVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyVersion

    region = factory.LazyFunction(lambda: region("320100"))
    name = factory.LazyAttribute(lambda o: f"{o.region.name}异地就医待遇政策")
    effective_from = date(2024, 1, 1)


def make_policy(
    region_code: str = "320100",
    effective_from: date = date(2024, 1, 1),
    *,
    mode: str = PolicyVersion.AdjustmentMode.RATIO_REDUCTION,
    cross_year: str = PolicyVersion.CrossYearMode.WHOLE,
    rules: dict | None = None,
    cross: dict | None = None,
    intra: dict | None = None,
    first_pay: dict | None = None,
    **extra,
) -> PolicyVersion:
    policy = PolicyVersionFactory(
        region=region(region_code), effective_from=effective_from, adjustment_mode=mode, cross_year_mode=cross_year, **extra
    )
    for (insurance_type, care_type), (deductible, ratios, cap) in (rules or SIMPLE_RULES).items():
        for level, ratio in ratios.items():
            BenefitRule.objects.create(
                policy=policy,
                insurance_type=insurance_type,
                care_type=care_type,
                hospital_level=level,
                deductible=deductible,
                ratio=ratio,
                yearly_cap=cap,
            )
    for scope, table in (("cross_province", cross or CROSS_REDUCTIONS), ("intra_province", intra or INTRA_REDUCTIONS)):
        for situation, points in table.items():
            SituationAdjustment.objects.create(
                policy=policy,
                scope=scope,
                situation=situation,
                reduction_points=points,
                first_pay_percent=(first_pay or {}).get(situation, D("0")),
                basis="测试依据",
            )
    return policy


def beijing_hospital(**extra):
    defaults = {"code": "TH110001", "name": "北京测试医院", "region": region("110000"), "level": "3", "networked": False}
    defaults.update(extra)
    return InstitutionFactory(**defaults)


def person_nanjing(**extra):
    return InsuredPersonFactory(insured_region=region("320100"), **extra)


def inpatient_details(institution, **overrides) -> ClaimDetails:
    values = dict(
        care_type="inpatient",
        situation="filed_not_settled",
        settlement_failure="not_networked",
        institution=institution,
        admission_date=date(2026, 3, 2),
        discharge_date=date(2026, 3, 10),
        invoice_numbers="PJ2026000101",
        total_amount=D("12000.00"),
        in_scope_amount=D("10000.00"),
        class_b_self_pay=D("800.00"),
        over_limit_self_pay=D("200.00"),
        self_funded_amount=D("1000.00"),
        payee_name="张三",
        bank_name="中国工商银行南京分行",
        bank_account="6222021234567891234",
        hospital_number="ZY2026001",
        admission_method="门诊入院",
        department="心内科",
        main_diagnosis="冠状动脉粥样硬化性心脏病",
    )
    values.update(overrides)
    return ClaimDetails(**values)


def outpatient_details(institution, amount: Decimal, **overrides) -> ClaimDetails:
    values = dict(
        care_type="outpatient",
        situation="filed_not_settled",
        settlement_failure="not_networked",
        institution=institution,
        admission_date=date(2026, 2, 27),
        discharge_date=date(2026, 2, 27),
        invoice_numbers="MZ2026000201",
        total_amount=amount,
        in_scope_amount=amount,
        payee_name="张三",
        bank_name="中国银行南京分行",
        bank_account="6217001234567890123",
    )
    values.update(overrides)
    return ClaimDetails(**values)


ALL_INPATIENT_TICKS = {"id_proof:1", "invoice", "inpatient_fee_list", "diagnosis_or_summary:0"}
