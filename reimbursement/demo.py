"""Demo data for manual reimbursement: benefit policies for the 13 江苏 cities and a
江西-style region (赣州, switching from 个人先行自付 to ratio reductions on
2026-02-01), the regions' published extra materials and other allowed cases,
and claims in every status for 南京 and 无锡 — some due today, some overdue.

Claims are built through the same services the counter uses, back-dated
relative to today, against the filings of filings/demo.py. A claim is identified
by its first invoice number: running the seed again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core import audit_chain, demo_cast
from core.demo import upsert
from core.errors import DomainError
from core.models import AuditLog, Institution, InsuredPerson, Region, User
from core.reference import home_province_code
from core.workdays import add_working_days
from reimbursement import services
from reimbursement.models import (
    BenefitRule,
    Claim,
    ClaimMaterial,
    ClaimNotice,
    OtherAllowedCase,
    PaymentBatch,
    PaymentReturn,
    PolicyVersion,
    PublishedMaterial,
    SituationAdjustment,
)

D = Decimal
ZERO = Decimal("0")
ONE = Decimal("1")

# --- Policies -----------------------------------------------------------------------------

# (insurance type, care type) -> deductible, {level: ratio %}, yearly cap
JIANGSU_RULES: dict[tuple[str, str], tuple[Decimal, dict[str, Decimal], Decimal]] = {
    ("310", "inpatient"): (D("900"), {"3": D("85"), "2": D("90"), "1": D("95"), "0": D("95")}, D("400000")),
    ("310", "outpatient"): (D("500"), {"3": D("70"), "2": D("75"), "1": D("80"), "0": D("80")}, D("6000")),
    ("310", "emergency"): (D("500"), {"3": D("75"), "2": D("80"), "1": D("85"), "0": D("85")}, D("6000")),
    ("310", "maternity"): (D("0"), {"3": D("100"), "2": D("100"), "1": D("100"), "0": D("100")}, D("8000")),
    ("390", "inpatient"): (D("1200"), {"3": D("65"), "2": D("75"), "1": D("85"), "0": D("85")}, D("300000")),
    ("390", "outpatient"): (D("200"), {"3": D("50"), "2": D("55"), "1": D("60"), "0": D("60")}, D("1200")),
    ("390", "emergency"): (D("200"), {"3": D("55"), "2": D("60"), "1": D("65"), "0": D("65")}, D("1200")),
    ("390", "maternity"): (D("0"), {"3": D("80"), "2": D("85"), "1": D("90"), "0": D("90")}, D("5000")),
}
# Per-city variation of the deductible and the ratio (yuan, points), so the cities differ as they do.
CITY_VARIATION = {
    "320100": (D("0"), D("0")),
    "320200": (D("-100"), D("1")),
    "320300": (D("-300"), D("-2")),
    "320400": (D("-200"), D("0")),
    "320500": (D("100"), D("2")),
    "320600": (D("-200"), D("-1")),
    "320700": (D("-400"), D("-3")),
    "320800": (D("-400"), D("-3")),
    "320900": (D("-300"), D("-2")),
    "321000": (D("-200"), D("-1")),
    "321100": (D("-200"), D("0")),
    "321200": (D("-300"), D("-1")),
    "321300": (D("-400"), D("-3")),
}

JIANGSU_BASIS = "江苏省异地就医经办服务规程（2023）"
NATIONAL_BASIS = "医保发〔2024〕21号"
INTRA = {  # 江苏 intra-province (第十八、十九条)
    "long_term": (D("0"), "第十七条：在备案地就医与参保地比例一致"),
    "referral": (D("5"), "第十八条：转诊到设区市外就医，降幅不超过5个百分点"),
    "emergency": (D("0"), "第十九条：急诊抢救不降低支付比例"),
    "other_temporary": (D("0"), "规程未规定降幅"),
    "unfiled": (D("20"), "第十八条：未按规定备案，降幅不超过20个百分点"),
    "student": (D("0"), "参保地规定"),
    "maternity": (D("0"), "参保地规定"),
    "other_allowed": (D("0"), "参保地规定"),
}
CROSS = {  # national 2024; for a 江苏 insured person the 规程 governs cross-province care too (第二条)
    "long_term": (D("0"), "执行参保地本地就医标准"),
    "referral": (D("5"), "第十八条：转诊到设区市外就医，降幅不超过5个百分点（第二条：跨省异地就医同样适用）", JIANGSU_BASIS),
    "emergency": (D("0"), "第十九条：急诊抢救不降低支付比例（第二条：跨省异地就医同样适用）", JIANGSU_BASIS),
    "other_temporary": (D("20"), "非急诊且未转诊的其他临时外出就医人员降幅20个百分点左右"),
    "unfiled": (D("20"), "未备案自行外出就医，按其他临时外出就医人员"),
    "student": (D("0"), "参保地规定"),
    "maternity": (D("0"), "参保地规定"),
    "other_allowed": (D("10"), "参保地规定"),
}
NATIONAL_CROSS = {  # another province's demo: the national guide's values, within that province's caps
    **CROSS,
    "referral": (D("10"), "跨省异地转诊人员降幅10个百分点左右"),
    "emergency": (D("10"), "异地急诊抢救人员降幅10个百分点左右"),
}
GANZHOU = "360700"
# 江西: 赣医保发〔2025〕17号 concerns 跨省 care only; 省内异地 follows the insured region's own rules
# (no reduction here), under both 赣州 versions.
GANZHOU_INTRA = {key: (D("0"), "省内异地就医不降低支付比例") for key in INTRA}
GANZHOU_OLD_BASIS = "赣府厅发〔2020〕35号"
GANZHOU_FIRST_PAY = {  # before 2026-02-01: 个人先行自付 share of 跨省 care
    "long_term": D("0"),
    "referral": D("10"),
    "emergency": D("10"),
    "other_temporary": D("20"),
    "unfiled": D("20"),
    "student": D("0"),
    "maternity": D("0"),
    "other_allowed": D("10"),
}
GANZHOU_OLD_CROSS = {
    key: (D("0"), f"跨省异地就医个人先行自付 {share.normalize():f}%" if share else "跨省异地就医不设个人先行自付")
    for key, share in GANZHOU_FIRST_PAY.items()
}
GANZHOU_BASIS = "赣医保发〔2025〕17号"
GANZHOU_CROSS = {  # from 2026-02-01 (二、合理调整跨省异地就医结算报销政策)
    "long_term": (D("0"), "跨省异地长期居住人员在备案地就医按参保地标准"),
    "referral": (D("10"), "跨省异地转诊人员支付比例降幅在10个百分点左右"),
    "emergency": (D("10"), "异地急诊抢救人员支付比例降幅在10个百分点左右"),
    "other_temporary": (D("20"), "非急诊且未转诊的其他跨省临时外出就医人员降幅在20个百分点左右"),
    "unfiled": (D("20"), "原则上先备案、后结算；未备案按其他跨省临时外出就医人员"),
    "student": (D("0"), "参保地规定"),
    "maternity": (D("0"), "参保地规定"),
    "other_allowed": (D("10"), "参保地规定"),
}


def _policy(region: Region, effective_from: date, *, name: str, basis: str, **values) -> tuple[PolicyVersion, bool]:
    return PolicyVersion.objects.get_or_create(
        region=region, effective_from=effective_from, defaults={"name": name, "basis": basis, **values}
    )


def _rules(policy: PolicyVersion, *, deductible_shift: Decimal = ZERO, ratio_shift: Decimal = ZERO, scale: Decimal = ONE) -> None:
    for (insurance_type, care_type), (deductible, ratios, cap) in JIANGSU_RULES.items():
        for level, ratio in ratios.items():
            BenefitRule.objects.get_or_create(
                policy=policy,
                insurance_type=insurance_type,
                care_type=care_type,
                hospital_level=level,
                defaults={
                    "deductible": max(D("0"), (deductible + deductible_shift) if deductible else D("0")) * scale,
                    "ratio": min(D("100"), max(D("0"), ratio + (ratio_shift if ratio < 100 else D("0")))),
                    "yearly_cap": cap * scale,
                },
            )


def _adjustments(
    policy: PolicyVersion,
    *,
    intra=INTRA,
    cross=CROSS,
    intra_basis=JIANGSU_BASIS,
    cross_basis=NATIONAL_BASIS,
    cross_first_pay=None,
) -> None:
    """The situation rows of a policy. A first-pay share (the old 江西 rules) is given for
    跨省 care only. Upserted: a database seeded by an older demo is corrected, and a second
    run writes nothing (no history rows)."""
    for scope, table, basis, first_pay in (
        ("intra_province", intra, intra_basis, None),
        ("cross_province", cross, cross_basis, cross_first_pay),
    ):
        for situation, (points, note, *own_basis) in table.items():
            upsert(
                SituationAdjustment,
                policy=policy,
                scope=scope,
                situation=situation,
                defaults={
                    "reduction_points": points,
                    "first_pay_percent": (first_pay or {}).get(situation, D("0")),
                    "basis": f"{own_basis[0] if own_basis else basis}：{note}",
                },
            )


def seed_policies() -> int:
    regions = {region.code: region for region in Region.objects.all()}
    cast = demo_cast.current()
    created = 0
    variations = list(CITY_VARIATION.values())
    cities = Region.objects.cities_of(home_province_code()).exclude(code=GANZHOU).order_by("sort_order", "code")
    for index, city in enumerate(cities):
        code, name = city.code, city.name
        deductible_shift, ratio_shift = variations[index % len(variations)]
        policy, new = _policy(
            city,
            date(2024, 1, 1),
            name=f"{name}异地就医待遇政策（2024版）",
            basis=f"{name}医疗保障局 异地就医结算办法；{cast.rules.procedure.strip('《》')}",
            cross_year_mode=(
                PolicyVersion.CrossYearMode.SPLIT_BY_DAYS
                if code in (cast.code("320200"), cast.code("320500")) else PolicyVersion.CrossYearMode.WHOLE
            ),
        )
        created += new
        _rules(policy, deductible_shift=deductible_shift, ratio_shift=ratio_shift)
        _adjustments(policy, **_home_tables(cast))
    # The first city raised its ratios from 2026: a second version shows the versioning.
    first = regions[cast.code("320100")]
    policy, new = _policy(
        first,
        date(2026, 1, 1),
        name=f"{first.name}异地就医待遇政策（2026版）",
        basis=f"{first.name}医疗保障局 2026年待遇调整通知；{cast.rules.procedure.strip('《》')}",
        notes="职工住院起付标准下调100元，支付比例提高1个百分点。",
    )
    created += new
    _rules(policy, deductible_shift=D("-100"), ratio_shift=D("1"))
    _adjustments(policy, **_home_tables(cast))
    # 赣州 (江西): 个人先行自付 until 2026-01-31, reduced ratios from 2026-02-01 (赣医保发〔2025〕17号).
    ganzhou = regions[GANZHOU]
    old, new = _policy(
        ganzhou,
        date(2024, 1, 1),
        name="赣州市跨省异地就医待遇政策（个人先行自付）",
        basis="赣府厅发〔2020〕35号",
        adjustment_mode=PolicyVersion.AdjustmentMode.FIRST_PAY,
        notes="跨省临时外出就医人员的政策范围内费用先由个人按比例先行自付，其余按参保地比例报销。",
    )
    created += new
    _rules(old, deductible_shift=D("-300"), ratio_shift=D("-3"))
    _adjustments(
        old,
        intra=GANZHOU_INTRA,
        intra_basis="参保地规定",
        cross=GANZHOU_OLD_CROSS,
        cross_basis=GANZHOU_OLD_BASIS,
        cross_first_pay=GANZHOU_FIRST_PAY,
    )
    switched, new = _policy(
        ganzhou,
        date(2026, 2, 1),
        name="赣州市跨省异地就医待遇政策（降低支付比例）",
        basis="赣医保发〔2025〕17号",
        adjustment_mode=PolicyVersion.AdjustmentMode.RATIO_REDUCTION,
        reduction_outside_critical_illness=True,
        notes="自2026年2月1日起跨省异地就医由个人先行自付调整为降低支付比例；降幅部分不纳入居民医保大病保险起付线计算和支付范围。",
    )
    created += new
    _rules(switched, deductible_shift=D("-300"), ratio_shift=D("-3"))
    _adjustments(
        switched, intra=GANZHOU_INTRA, intra_basis="参保地规定", cross=GANZHOU_CROSS, cross_basis=GANZHOU_BASIS
    )
    return created


def _home_tables(cast) -> dict:
    """The situation tables of the home province's demo policies: 江苏's own (its 规程 covers
    cross-province care too, 第二条); elsewhere the national guide values, each kept within the
    province's cap (core.jurisdictions) so no demo policy breaks its rules."""
    if cast.identity:
        return {}
    rules = cast.rules

    def within(table, scope):
        capped = {}
        for situation, (points, note, *_basis) in table.items():
            cap = rules.reduction_cap(scope, situation)
            capped[situation] = (cap.points, "按本省上限", cap.article) if cap.refuses(points) else (points, note)
        return capped

    return {
        "intra": within({key: (D("0"), "省内异地就医执行参保地规定") for key in INTRA}, "intra_province"),
        "intra_basis": "参保地规定",
        "cross": within(NATIONAL_CROSS, "cross_province"),
    }


def seed_reference(regions: dict[str, Region]) -> None:
    cast = demo_cast.current()
    regions = {code: regions[cast.code(code)] for code in ("320100", "320200")}
    PublishedMaterial.objects.get_or_create(
        region=regions["320100"],
        name="参保人本人银行卡（或存折）复印件",
        defaults={
            "published_on": date(2024, 1, 1),
            "filed_with_province_on": date(2024, 1, 10),
            "notice": cast.text("南京市医疗保障基金管理中心 关于零星报销材料的公告（2024年第1号）"),
        },
    )
    PublishedMaterial.objects.get_or_create(
        region=regions["320200"],
        name="就医医疗机构出具的未能直接结算情况说明",
        defaults={
            "applies_to_outpatient": False,
            "applies_to_emergency": False,
            "applies_to_maternity": False,
            "published_on": date(2025, 6, 1),
            "filed_with_province_on": date(2025, 6, 10),
            "notice": cast.text("无锡市医保中心 零星报销服务指南（2025版）"),
        },
    )
    for code, text, basis in (
        ("320100", "在异地定点零售药店购买门诊慢特病药品因未联网未能直接结算", "南京市医保局 门诊慢特病异地购药办法"),
        ("320200", "异地就医系统故障经省级平台确认未能直接结算的费用", "无锡市医保中心 零星报销服务指南（2025版）"),
    ):
        OtherAllowedCase.objects.get_or_create(region=regions[code], name=text, defaults={"basis": cast.text(basis)})


# --- Claims ------------------------------------------------------------------------------------


@dataclass
class DemoClaim:
    key: str  # first invoice number: the natural key
    person: str
    institution: str  # institution code, or "" with manual fields
    care_type: str
    situation: str
    target: str  # a Claim.Status value, or "returned" / "special" / "payment_returned" (退票)
    total: Decimal
    in_scope: Decimal
    class_b: Decimal = D("0")
    over_limit: Decimal = D("0")
    complete_wd_ago: int = 0  # materials complete this many working days before today
    stay_days: int = 0  # inpatient: days in hospital
    discharged_days_before: int = 3  # days between discharge and the first visit to the counter
    admission_days_ago: int | None = None  # fixed admission (a 补办 filing's stay)
    discharge_days_ago: int | None = None
    missing: tuple[str, ...] = ()
    settlement_failure: str = "not_networked"
    manual_institution: dict = field(default_factory=dict)
    rescue: bool = False
    delay_notice: bool = False
    reason: str = ""
    diagnosis: str = ""
    calculate: bool = False  # an accepted claim the clerk already calculated
    vacation: bool = False  # treated during the last winter/summer vacation


    @property
    def self_funded(self) -> Decimal:
        return self.total - self.in_scope - self.class_b - self.over_limit


NANJING = [
    DemoClaim("NJ2026DEMO01", "李秀英", "H11000000001", "inpatient", "filed_not_settled", "paid", D("23680.50"), D("19800.30"),
              D("1250.20"), D("630.00"), complete_wd_ago=28, stay_days=11, settlement_failure="card_not_activated",
              diagnosis="肺部感染"),
    DemoClaim("NJ2026DEMO02", "张伟", "H33010000001", "inpatient", "filed_not_settled", "payment_notified", D("15420.00"),
              D("13100.00"), D("820.00"), D("0"), complete_wd_ago=7, stay_days=7, settlement_failure="system_failure",
              diagnosis="腰椎间盘突出症"),
    DemoClaim("NJ2026DEMO03", "王芳", "H31000000001", "outpatient", "filed_not_settled", "approved", D("860.00"), D("780.00"),
              D("40.00"), complete_wd_ago=3),
    DemoClaim("NJ2026DEMO04", "刘洋", "H11000000001", "inpatient", "filed_not_settled", "submitted", D("31250.80"),
              D("26800.00"), D("1900.50"), D("350.30"), complete_wd_ago=8, stay_days=9, discharged_days_before=2,
              settlement_failure="system_failure", diagnosis="甲状腺乳头状癌"),
    DemoClaim("NJ2026DEMO05", "杨帆", "H51010000001", "inpatient", "retroactive", "accepted", D("18960.40"), D("16230.40"),
              D("980.00"), D("150.00"), complete_wd_ago=10, admission_days_ago=40, discharge_days_ago=33,
              diagnosis="急性阑尾炎", calculate=True),
    DemoClaim("NJ2026DEMO06", "吴建华", "H44010000001", "emergency", "emergency_unfiled", "accepted", D("2380.00"),
              D("2010.00"), D("120.00"), complete_wd_ago=12, rescue=True, delay_notice=True,
              reason="需向就医地医疗机构核实抢救病历"),
    DemoClaim("NJ2026DEMO07", "李秀英", "H46020000001", "inpatient", "filed_not_settled", "incomplete", D("9870.00"),
              D("8650.00"), D("420.00"), complete_wd_ago=2, stay_days=6, missing=("inpatient_fee_list",),
              diagnosis="2型糖尿病"),
    DemoClaim("NJ2026DEMO08", "周敏", "H33010000001", "maternity", "maternity", "incomplete", D("6480.00"), D("5900.00"),
              D("180.00"), complete_wd_ago=0, stay_days=4, missing=("discharge_summary",), diagnosis="单胎顺产"),
    DemoClaim("NJ2026DEMO09", "韩雪梅", "", "outpatient", "filed_not_settled", "rejected", D("1560.00"), D("1320.00"),
              complete_wd_ago=1, discharged_days_before=0,
              manual_institution={"name": "武汉大学人民医院", "region": "420100", "level": "3"},
              reason="所附医院收费票据为复印件且无法核验真伪，请提供票据原件后重新申请。"),
    DemoClaim("NJ2026DEMO10", "刘洋", "H11000000001", "outpatient", "filed_not_settled", "returned", D("1280.00"),
              D("1150.00"), complete_wd_ago=2, discharged_days_before=1, settlement_failure="system_failure",
              reason="门诊费用清单与票据金额不一致（相差30元），请核对后重新录入。"),
    DemoClaim("NJ2026DEMO11", "王芳", "H31000000001", "inpatient", "filed_not_settled", "special", D("56320.00"),
              D("48100.00"), D("3120.00"), D("900.00"), complete_wd_ago=9, stay_days=16, diagnosis="乳腺恶性肿瘤",
              reason="费用超过3万元，需发起异地就医费用协查（第五十六条）"),
    DemoClaim("NJ2026DEMO12", "张伟", "H33010000001", "outpatient", "filed_not_settled", "accepted", D("1236.00"),
              D("1080.00"), complete_wd_ago=12, calculate=True),
    DemoClaim("NJ2026DEMO13", "陈静", "H44010000001", "outpatient", "student_vacation", "cancelled", D("420.00"),
              D("380.00"), complete_wd_ago=0, vacation=True, reason="申请人撤回：票据需由学校统一报销"),
    DemoClaim("NJ2026DEMO15", "李秀英", "H46020000001", "outpatient", "filed_not_settled", "approved", D("1580.00"),
              D("1420.00"), D("60.00"), complete_wd_ago=5),
    DemoClaim("NJ2026DEMO16", "王芳", "H31000000001", "outpatient", "filed_not_settled", "payment_returned", D("2460.00"),
              D("2200.00"), D("90.00"), complete_wd_ago=9, reason="收款账户已销户，银行退回"),
    DemoClaim("NJ2026DEMO17", "李秀英", "H46020000001", "outpatient", "filed_not_settled", "payee_unverified",
              D("1880.00"), D("1700.00"), D("70.00"), complete_wd_ago=10, reason="户名与账号不符，银行退回"),
    DemoClaim("NJ2026DEMO14", "张伟", "H33010000001", "outpatient", "filed_not_settled", "accepted", D("612.00"),
              D("560.00"), complete_wd_ago=4, discharged_days_before=2),
]

WUXI = [
    DemoClaim("WX2026DEMO01", "徐丽", "H46020000001", "inpatient", "filed_not_settled", "paid", D("14360.00"), D("12480.00"),
              D("760.00"), complete_wd_ago=24, stay_days=8, diagnosis="慢性阻塞性肺疾病急性加重"),
    DemoClaim("WX2026DEMO02", "孙强", "H32050000001", "inpatient", "filed_not_settled", "approved", D("8750.60"),
              D("7630.60"), D("410.00"), complete_wd_ago=6, stay_days=5, settlement_failure="card_not_activated",
              diagnosis="胆囊结石伴胆囊炎"),
    DemoClaim("WX2026DEMO03", "马晓燕", "H31000000001", "inpatient", "filed_not_settled", "submitted", D("21400.00"),
              D("18950.00"), D("1200.00"), complete_wd_ago=7, stay_days=5, discharged_days_before=1,
              settlement_failure="system_failure",
              diagnosis="子宫肌瘤"),
    DemoClaim("WX2026DEMO04", "胡婷", "H32010600001", "outpatient", "filed_not_settled", "accepted", D("450.00"),
              D("410.00"), complete_wd_ago=5, settlement_failure="card_not_activated"),
    DemoClaim("WX2026DEMO05", "朱军", "H33010000001", "emergency", "emergency_unfiled", "accepted", D("3120.00"),
              D("2760.00"), D("160.00"), complete_wd_ago=11, discharged_days_before=2, delay_notice=True,
              reason="就医地医疗机构费用明细待核实"),
    DemoClaim("WX2026DEMO06", "徐丽", "H46020000001", "outpatient", "filed_not_settled", "incomplete", D("680.00"),
              D("620.00"), complete_wd_ago=1, missing=("prescription_or_record",)),
    DemoClaim("WX2026DEMO07", "孙强", "H32050000001", "outpatient", "filed_not_settled", "rejected", D("930.00"),
              D("860.00"), complete_wd_ago=4, settlement_failure="card_not_activated",
              reason="该笔费用已在就医地直接结算（结算流水号JS2026…），不能重复报销。"),
    DemoClaim("WX2026DEMO09", "孙强", "H32050000001", "outpatient", "filed_not_settled", "payment_notified", D("1860.00"),
              D("1700.00"), D("80.00"), complete_wd_ago=6, settlement_failure="card_not_activated"),
    DemoClaim("WX2026DEMO08", "马晓燕", "H31000000001", "outpatient", "filed_not_settled", "accepted", D("980.00"),
              D("900.00"), complete_wd_ago=1, settlement_failure="system_failure"),
]


def _at(day: date, hour: int = 9, minute: int = 30) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _ticks(requirements, missing: tuple[str, ...]) -> set[str]:
    ticks = set()
    for requirement in requirements:
        if requirement.code in missing:
            continue
        ticks.add(f"{requirement.code}:0" if requirement.alternatives else requirement.code)
    return ticks


def _backdate(claim: Claim, moments: list[tuple[str, datetime]]) -> None:
    """Give the demo claim's audit entries the days they would have happened on."""
    entries = list(AuditLog.objects.filter(content_type__model="claim", object_id=str(claim.pk)).order_by("pk"))
    for entry, (_label, moment) in zip(entries, moments, strict=False):
        audit_chain.backdate(AuditLog.objects.filter(pk=entry.pk), at=moment)
    if moments:
        fields = {"intake_at": moments[0][1]}
        labels = dict(moments)
        if "calculate" in labels:
            fields["calculated_at"] = labels["calculate"]
        if "submit" in labels:
            fields["submitted_at"] = labels["submit"]
        Claim.objects.filter(pk=claim.pk).update(**fields)


def _make(spec: DemoClaim, *, today: date, clerk: User, supervisor: User, finance: User, batches: dict) -> Claim | None:
    if Claim.objects.filter(invoice_numbers__startswith=spec.key).exists():
        return None
    cast = demo_cast.current()
    person = InsuredPerson.objects.get(name=spec.person, insured_region=clerk.agency.region)
    complete_on = add_working_days(today, -spec.complete_wd_ago).as_date() if spec.complete_wd_ago else today
    if spec.discharge_days_ago is not None:
        discharge = today - timedelta(days=spec.discharge_days_ago)
        admission = today - timedelta(days=spec.admission_days_ago)
    else:
        discharge = complete_on - timedelta(days=spec.discharged_days_before)
        admission = discharge - timedelta(days=spec.stay_days) if spec.care_type in ("inpatient", "maternity") else discharge
    if spec.vacation:
        discharge = admission = _last_vacation_day(today - timedelta(days=10), person.insured_region_id)
    received_on = complete_on
    institution = Institution.objects.filter(code=cast.institution_code(spec.institution)).first() if spec.institution else None
    if spec.situation == "filed_not_settled":
        place = institution.region if institution else Region.objects.get(code=cast.code(spec.manual_institution["region"]))
        admission = _within_filing(person, place, admission, discharge)
    manual = spec.manual_institution
    details = services.ClaimDetails(
        care_type=spec.care_type,
        situation=spec.situation,
        admission_date=admission,
        discharge_date=discharge,
        invoice_numbers=f"{spec.key},{spec.key}-2",
        total_amount=spec.total,
        in_scope_amount=spec.in_scope,
        class_b_self_pay=spec.class_b,
        over_limit_self_pay=spec.over_limit,
        self_funded_amount=spec.self_funded,
        payee_name=person.name,
        bank_name=f"中国工商银行{person.insured_region.short_name}分行",
        bank_account=f"6222{person.id_number[6:14]}{person.pk:07d}",
        institution=institution,
        institution_name=manual.get("name", ""),
        treatment_region=Region.objects.get(code=cast.code(manual["region"])) if manual else None,
        hospital_level=manual.get("level", ""),
        designated=True,
        rescue=spec.rescue,
        settlement_failure=spec.settlement_failure if spec.situation == "filed_not_settled" else "",
        hospital_number=f"ZY{discharge:%Y}{person.pk:05d}" if spec.care_type in ("inpatient", "maternity") else "",
        admission_method="急诊入院" if spec.rescue else ("门诊入院" if spec.care_type in ("inpatient", "maternity") else ""),
        department={"inpatient": "内科", "maternity": "产科"}.get(spec.care_type, ""),
        main_diagnosis=spec.diagnosis,
        phone=person.phone,
    )
    requirements = services.checklist_for(
        region_code=person.insured_region_id, on_date=received_on, care_type=spec.care_type, rescue=spec.rescue
    )
    moments: list[tuple[str, datetime]] = []
    claim = services.claim_create(
        by=clerk, person=person, details=details, ticked=_ticks(requirements, spec.missing), today=received_on
    )
    moments += [("create", _at(received_on, 9, 10)), ("state", _at(received_on, 9, 12))]
    target = spec.target
    if target in ("incomplete", "cancelled"):
        if target == "cancelled":
            services.claim_cancel(claim=claim, by=clerk, reason=spec.reason, today=today)
            moments.append(("cancel", _at(today, 8, 50)))
        _backdate(claim, moments)
        return claim
    day = complete_on
    if target == "special":
        special_day = min(add_working_days(day, 1).as_date(), today)
        services.claim_mark_special(claim=claim, by=supervisor, reason=spec.reason, today=special_day)
        moments.append(("special", _at(special_day, 10)))
    if spec.delay_notice:
        due = Claim.objects.get(pk=claim.pk).due_on
        notice_day = min(add_working_days(due, -1).as_date(), today)
        services.claim_record_delay_notice(
            claim=claim,
            by=clerk,
            reason=spec.reason,
            expected_on=add_working_days(due, 5).as_date(),
            method="phone",
            today=notice_day,
        )
        moments.append(("delay", _at(notice_day, 15)))
    if target == "accepted" and not spec.calculate:
        _backdate(claim, moments)
        return claim
    services.claim_calculate(claim=claim, by=clerk)
    calc_day = add_working_days(day, 1).as_date() if day < today else today
    moments.append(("calculate", _at(min(calc_day, today), 10)))
    if target == "accepted":
        _backdate(claim, moments)
        return claim
    services.claim_submit(claim=claim, by=clerk)
    moments.append(("submit", _at(min(calc_day, today), 10, 30)))
    if target in ("submitted", "special"):
        _backdate(claim, moments)
        return claim
    decide_day = min(add_working_days(calc_day, 1).as_date(), today)
    if target == "returned":
        services.claim_return(claim=claim, by=supervisor, reason=spec.reason)
        moments.append(("return", _at(decide_day, 14)))
        _backdate(claim, moments)
        return claim
    if target == "rejected":
        services.claim_reject(claim=claim, by=supervisor, reason=spec.reason, today=decide_day)
        moments.append(("reject", _at(decide_day, 14)))
        _backdate(claim, moments)
        return claim
    services.claim_approve(claim=claim, by=supervisor)
    moments.append(("approve", _at(decide_day, 14)))
    Claim.objects.filter(pk=claim.pk).update(decided_at=_at(decide_day, 14))
    if target == "approved":
        _backdate(claim, moments)
        return claim
    notice_day = min(add_working_days(decide_day, 1).as_date(), today)
    batch = batches.get((clerk.agency.region_id, notice_day))
    if batch is None:
        batch = services.payment_batch_create(claims=[claim], by=finance, today=notice_day)
        batches[(clerk.agency.region_id, notice_day)] = batch
    else:  # keep one notice per day: add to the day's batch
        claim.refresh_from_db()
        _join_batch(claim, batch, by=finance)
    PaymentBatch.objects.filter(pk=batch.pk).update(created_at=_at(notice_day, 11))
    moments.append(("notice", _at(notice_day, 11)))
    if target == "payment_notified":
        _backdate(claim, moments)
        return claim
    if target in ("payment_returned", "payee_unverified"):  # 退票: back to 已审批（待付款）
        returned_on = min(add_working_days(notice_day, 2).as_date(), today)
        claim.refresh_from_db()
        services.payment_return_record(claim=claim, by=finance, reason=spec.reason, returned_on=returned_on, today=today)
        moments.append(("returned", _at(returned_on, 15)))
        PaymentReturn.objects.filter(claim=claim).update(recorded_at=_at(returned_on, 15))
        if target == "payee_unverified":  # the counter corrected the account; a supervisor has to verify it
            corrected_on = min(add_working_days(returned_on, 1).as_date(), today)
            services.claim_correct_payee(claim=claim, by=clerk, payee_name=claim.payee_name,
                                         bank_name=demo_cast.current().text("中国工商银行南京城南支行"), bank_account="6222 0212 3456 7800 018")
            moments.append(("corrected", _at(corrected_on, 10)))
            PaymentReturn.objects.filter(claim=claim).update(resolved_at=_at(corrected_on, 10))
        _backdate(claim, moments)
        return claim
    paid_on = min(add_working_days(notice_day, 2).as_date(), today)
    services.payment_record(claims=[claim], by=finance, paid_on=paid_on, reference=f"ZF{paid_on:%Y%m%d}{claim.pk:04d}", today=today)
    moments.append(("paid", _at(paid_on, 16)))
    _backdate(claim, moments)
    return claim


def _within_filing(person: InsuredPerson, region: Region, admission: date, discharge: date) -> date:
    """Keep a demo stay inside the person's filing (around long holidays working days stretch further back)."""
    from filings.selectors import filings_covering

    filing = filings_covering(person=person, day=discharge, treatment_region=region).order_by("start_date").first()
    if filing is not None and admission < filing.start_date:
        return min(filing.start_date, discharge)
    return admission


def _last_vacation_day(before: date, region_code: str) -> date:
    """A day of the region's latest student vacation not after `before` (the 20th of a default
    vacation month, or the last day of a published vacation that ended earlier)."""
    from reimbursement.eligibility import in_vacation

    periods: dict[int, tuple | None] = {}
    day = before
    while True:
        if day.year not in periods:
            periods[day.year] = services.vacation_periods(region_code, day.year)
        if in_vacation(day, periods[day.year]):
            if periods[day.year] is None:  # default months: the 20th, as the demo always had
                return min(day.replace(day=20), before) if day.day >= 20 else day
            return day
        day -= timedelta(days=1)


def _join_batch(claim: Claim, batch: PaymentBatch, *, by) -> None:
    from core.audit import log_action

    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.PAYMENT_NOTIFIED, payment_batch=batch)
    batch.claim_count += 1
    batch.total_amount += claim.fund_payment
    batch.save(update_fields=["claim_count", "total_amount"])
    log_action(
        action=AuditLog.Action.TRANSITION,
        user=by,
        obj=claim,
        from_state=Claim.Status.APPROVED,
        to_state=Claim.Status.PAYMENT_NOTIFIED,
        message=f"列入付款通知 {batch.number}",
    )


def seed(stdout=None, today: date | None = None) -> None:
    today = today or timezone.localdate()
    regions = {region.code: region for region in Region.objects.all()}
    new_policies = seed_policies()
    seed_reference(regions)
    created = 0
    problems: list[str] = []
    cast = demo_cast.current()
    for suffix, specs in (("nanjing", NANJING), ("wuxi", WUXI)):
        clerk = User.objects.get(username=cast.username(f"clerk_{suffix}"))
        supervisor = User.objects.get(username=cast.username(f"supervisor_{suffix}"))
        finance = User.objects.get(username=cast.username(f"finance_{suffix}"))
        batches: dict = {}
        for spec in specs:
            try:
                with transaction.atomic():
                    if _make(spec, today=today, clerk=clerk, supervisor=supervisor, finance=finance, batches=batches):
                        created += 1
            except (DomainError, InsuredPerson.DoesNotExist) as exc:
                problems.append(f"{spec.key}：{getattr(exc, 'message', exc)}")
    services.refresh_deadline_flags(today=today)
    if stdout:
        stdout.write(
            f"  reimbursement: {PolicyVersion.objects.count()} 个待遇政策版本（新增 {new_policies}），"
            f"{Claim.objects.count()} 件零星报销申请（本次新增 {created} 件），"
            f"{ClaimNotice.objects.count()} 份告知记录，{ClaimMaterial.objects.count()} 项材料"
        )
        for problem in problems:
            stdout.write(f"  reimbursement: 演示申请未能生成 {problem}")
