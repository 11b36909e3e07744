"""What differs by province, as data with an effective date (domain.md §8).

One deployment serves one province (``YIDI_HOME_PROVINCE``). Its procedure, agency
names, reduction caps, filing validity and lock months, processing limits and advance
formulas are rows of ``RULE_SETS`` below, each in force from a date, read through one
API::

    from core.jurisdictions import rules_for
    rules = rules_for(region, on=discharge_date)   # a Region, a code, or None for the home province
    rules.reduction_cap("cross_province", "referral")   # Cap(points=Decimal("5"), article="…第十八条…")

No service or template asks which province it is: they read the rule set.
This module is pure (no models), so rules can be tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core import jurisdiction_materials as material_lists
from core.jurisdiction_materials import MaterialRules
from core.reference import home_province_code

D = Decimal
INTRA = "intra_province"
CROSS = "cross_province"


@dataclass(frozen=True)
class Cap:
    """The most percentage points a city may cut for a situation; ``points`` None = the
    province sets no cap (the insured region's own rule)."""

    points: Decimal | None
    article: str = ""

    def refuses(self, value: Decimal) -> bool:
        return self.points is not None and value > self.points


NO_CAP = Cap(None)


@dataclass(frozen=True)
class AdvanceFormula:
    """How a yearly advance (预付金) is set. ``method`` is a clearing.AdvancePolicy.Method value."""

    method: str
    factor: Decimal
    article: str


@dataclass(frozen=True)
class ProcessingLimits:
    """Manual-reimbursement time limits in working days (江苏 第二十八条)."""

    small_amount: Decimal = D("1000.00")  # 以下 includes the number itself (民法典 第1259条)
    small_days: int = 5
    general_days: int = 10
    special_days: int = 20
    article: str = ""


@dataclass(frozen=True)
class RuleSet:
    province: str
    effective_from: date
    procedure: str  # the document forms and notices cite, with its book-title marks
    procedure_short: str  # 江苏规程
    province_agency: str
    province_agency_short: str
    province_agency_phone: str
    province_agency_address: str
    city_agency_suffix: str  # 南京市 + 医疗保障基金管理中心
    caps: dict[str, dict[str, Cap]] = field(default_factory=dict)
    temporary_validity_months: int = 6  # at least (江苏 第十条, 新疆 二(三))
    referral_validity_months: int = 6
    commitment_lock_months: int = 6  # a long-term filing by commitment letter
    materials_lock_months_max: int = 0  # how long a region may lock one made with real materials
    limits: ProcessingLimits = field(default_factory=ProcessingLimits)
    intra_advance: AdvanceFormula | None = None
    cross_advance: AdvanceFormula | None = None
    articles: dict[str, str] = field(default_factory=dict)  # named citations: materials, limits, …
    materials: MaterialRules = material_lists.NATIONAL_DEFAULT  # 备案材料 and 零星报销材料 (core.jurisdiction_materials)

    def reduction_cap(self, scope: str, situation: str) -> Cap:
        return self.caps.get(scope, {}).get(situation, NO_CAP)

    def article(self, topic: str) -> str:
        """The province's own citation for a topic, "" where its documents set no such rule."""
        return self.articles.get(topic, "")

    def cited(self, topic: str) -> str:
        """The topic's article in brackets for a message, "（第十八条）"; "" where the province's
        documents have no such article (the message then states the rule without a citation)."""
        article = self.article(topic)
        return f"（{article}）" if article else ""

    def cite(self, topic: str) -> str:
        """The citation for a topic, e.g. cite("materials") -> 《江苏省异地就医经办服务规程》第二十七条.
        The materials lists carry their own articles ("materials": the claim list, "filing_materials")."""
        derived = {"materials": self.materials.claim_article, "filing_materials": self.materials.filing_article}
        return self.articles.get(topic) or derived.get(topic) or self.procedure

    @property
    def province_name(self) -> str:
        from core.reference import province_rows

        return next((name for code, name, _short in province_rows() if code == self.province), self.province)


JS = "《江苏省异地就医经办服务规程》"
JS_CAPS = {
    "long_term": Cap(D("0"), f"{JS}第十七条：在备案地就医，支付比例与参保地一致"),
    "referral": Cap(D("5"), f"{JS}第十八条：按规定转诊到设区市外就医，降低幅度不超过5个百分点"),
    "emergency": Cap(D("0"), f"{JS}第十九条：急诊抢救费用不降低支付比例"),
    "unfiled": Cap(D("20"), f"{JS}第十八条：未按规定备案直接异地就医，降低幅度不超过20个百分点"),
}
GAN = "赣医保发〔2025〕17号"
XIN = "新医保发〔2022〕39号"
NATIONAL = "医保发〔2024〕21号"


def _cross_caps(doc: str, article: str) -> dict[str, Cap]:
    return {
        "long_term": Cap(D("0"), f"{doc}{article}：长期异地居住人员在备案地就医执行参保地标准"),
        "referral": Cap(D("10"), f"{doc}{article}：跨省异地转诊人员降幅不超过10个百分点"),
        "emergency": Cap(D("10"), f"{doc}{article}：异地急诊抢救人员降幅不超过10个百分点"),
        "other_temporary": Cap(D("20"), f"{doc}{article}：其他跨省临时外出就医人员降幅不超过20个百分点"),
    }


RULE_SETS: list[RuleSet] = [
    RuleSet(
        province="320000",
        effective_from=date(2023, 1, 1),
        procedure=JS,
        procedure_short="江苏规程",
        province_agency="江苏省医疗保障基金管理中心",
        province_agency_short="省医保中心",
        province_agency_phone="025-83270000",
        province_agency_address="南京市玄武区中央路（演示地址）",
        city_agency_suffix="医疗保障基金管理中心",
        # 第二条: the 规程 governs every 异地 visit of a 江苏 insured person, in the province and outside it.
        caps={INTRA: JS_CAPS, CROSS: JS_CAPS},
        limits=ProcessingLimits(article=f"{JS}第二十八条"),
        intra_advance=AdvanceFormula("net_outflow_share", D("0.2000"), f"{JS}第二十九条：上年度差出额的20%"),
        cross_advance=AdvanceFormula("national_share", D("1"), f"{JS}第三十一条：按各地市上年跨省基金支出占比分解"),
        articles={
            "online_review": "江苏 第九条(二)",
            "upload": "江苏 第九条(一)",
            "emergency_deemed": "江苏 第八条(五)",
            "advances": "第三十、三十一条",
            "advance_carry_over": "第三十二条",
            "materials_lock": f"{JS}第十条：以证明材料办理的长期异地居住人员可以随时变更或取消备案",
            "commitment_lock": f"{JS}第十条：个人承诺方式办理的需满6个月方可申请变更或取消",
            "validity": f"{JS}第十条：临时外出就医人员备案有效期原则上不少于6个月",
            "status_change": "江苏规程第十条：参保状态发生变更的，长期异地居住备案不再长期有效",
            # Short citations inside messages (the 规程 is named once, where the page names it).
            "admitted_while_valid": "第十三条",
            "unfiled": "第十八条",
            "emergency_not_reduced": "第十九条",
            "non_designated": "江苏规程第十九条",
            "maternity_designated": "江苏规程第二十六条第四项",
            "processing_limits": "第二十八条",
            "year_split": "江苏规程第四十四条",
            "intra_advance_use": "第三十条(二)",
            "cross_advance_use": "第三十一条(三)",
            "emergency_increase": "第三十一条(二)",
            "clearing_delay": "第四十九条",
            "deduction": "第五十三条",
            "audit_assist": "第五十六条",
            "audit_assist_source": f"{JS}第五十六条",
            "coordination": "第五十七条",
            "audit_assist_procedure": "江苏规程第五十六条",
            "coordination_procedure": "江苏规程第五十七条",
            "upload_same_day": "江苏 第九条",
            "published_materials": "第二十七条：事前公示并报省级备案",
            "reconciliation": "第四十三条",
            "correction": "第四十一、四十二条",
            "refunds": "第四十五条",
            "clearing_calendar": "第四十七条",
            "cross_payout_due": "第四十八条(二)3",
            "cross_advance_payout": "第三十一条(一)",
            "cross_advance_split": "第三十一条(一)",
            "report": "第五十四条",
            "materials": f"{JS}第二十七条",
            "limits": f"{JS}第二十八条",
            "clearing": f"{JS}第四十七至四十九条",
        },
        materials=material_lists.JIANGSU,
    ),
    RuleSet(
        province="360000",
        effective_from=date(2020, 1, 1),
        procedure="《江西省医疗保障局 江西省财政厅转发国家医保局 财政部关于切实做好2020年跨省异地就医医疗费用结算工作的通知》（赣医保发〔2020〕13号）",
        procedure_short="赣医保发〔2020〕13号",
        province_agency="江西省医疗保障事业管理中心",
        province_agency_short="省医保中心",
        province_agency_phone="0791-12393",
        province_agency_address="南昌市红谷滩区（演示地址）",
        city_agency_suffix="医疗保障事业管理中心",
        # Before 2026-02-01 跨省 care used a 个人先行自付 share, not a reduction: no caps.
        caps={},
        intra_advance=AdvanceFormula("net_outflow_share", D("0.2000"), "参保地规定"),
        cross_advance=AdvanceFormula("national_share", D("1"), f"{NATIONAL}"),
        articles={"audit_assist": f"{NATIONAL}三(二)", "audit_assist_source": f"{NATIONAL}三(二)"},
        materials=material_lists.JIANGXI_2020,
    ),
    RuleSet(
        province="650000",
        effective_from=date(2022, 12, 1),
        procedure=f"《新疆维吾尔自治区医疗保障局 新疆维吾尔自治区财政厅关于进一步做好基本医疗保险跨省异地就医直接结算工作的通知》（{XIN}）",
        procedure_short=XIN,
        province_agency="新疆维吾尔自治区医疗保障事业发展中心",
        province_agency_short="自治区医保中心",
        province_agency_phone="0991-12393",
        province_agency_address="乌鲁木齐市天山区（演示地址）",
        city_agency_suffix="医疗保障事业发展中心",
        caps={CROSS: _cross_caps(XIN, "二(六)")},
        # 二(三): 变更或取消跨省异地长期居住人员备案的时限原则上不超过6个月.
        materials_lock_months_max=6,
        articles={
            "materials_lock": f"{XIN}二(三)：变更或取消跨省异地长期居住人员备案的时限原则上不超过6个月",
            "commitment_lock": f"{XIN}二(三)：变更或取消跨省异地长期居住人员备案的时限原则上不超过6个月",
            "commitment_materials": "新疆 三(二)",  # 个人承诺办理的，在规定时限内补齐相关材料
            "validity": f"{XIN}二(三)：跨省临时外出就医人员备案有效期原则上不少于6个月",
            "deduction": f"{XIN}六",
            "audit_assist": f"{NATIONAL}三(二)",
            "audit_assist_source": f"{NATIONAL}三(二)",
        },
        intra_advance=AdvanceFormula("net_outflow_share", D("0.2000"), "参保地规定"),
        cross_advance=AdvanceFormula("q4_monthly_average", D("2"), f"{XIN}四(一)：上年第四季度医保结算资金月平均值的两倍"),
        materials=material_lists.XINJIANG,
    ),
]
# 江西 from 2026-02-01: reduced ratios instead of 先行自付 for 跨省 care.
RULE_SETS.append(
    RuleSet(
        **{
            **RULE_SETS[1].__dict__,
            "effective_from": date(2026, 2, 1),
            "procedure": f"《江西省医疗保障局 江西省财政厅关于进一步加强异地就医直接结算管理服务的通知》（{GAN}）",
            "procedure_short": GAN,
            "caps": {CROSS: _cross_caps(GAN, "二")},
            "materials": material_lists.JIANGXI_2026,
            "articles": {
                "audit_assist": f"{GAN}三(二)",
                "audit_assist_source": f"{GAN}三(二)",
                "deduction": f"{GAN}四(三)",
            },
        }
    )
)


def _default_rule_set(province: str) -> RuleSet:
    """A province without its own rows: the national notice and the usual numbers."""
    return RuleSet(
        province=province,
        effective_from=date(2000, 1, 1),
        procedure=f"《国家医保局 财政部关于进一步加强异地就医直接结算管理服务的通知》（{NATIONAL}）",
        procedure_short=NATIONAL,
        province_agency="省医疗保障事业管理中心",
        province_agency_short="省医保中心",
        province_agency_phone="12393",
        province_agency_address="",
        city_agency_suffix="医疗保障事业管理中心",
        intra_advance=AdvanceFormula("net_outflow_share", D("0.2000"), "参保地规定"),
        cross_advance=AdvanceFormula("national_share", D("1"), NATIONAL),
        articles={"audit_assist": f"{NATIONAL}三(二)", "audit_assist_source": f"{NATIONAL}三(二)"},
    )


def _province_of(region) -> str:
    if region is None:
        return home_province_code()
    code = region if isinstance(region, str) else region.code
    return f"{code[:2]}0000"


def rules_for(region=None, *, on: date | None = None) -> RuleSet:
    """The rule set in force for ``region`` (a Region, a 6-digit code, or None for the home
    province) on ``on`` (default today). A city follows its province's rules."""
    from django.utils import timezone

    province = _province_of(region)
    on = on or timezone.localdate()
    candidates = sorted(
        (rule for rule in RULE_SETS if rule.province == province and rule.effective_from <= on),
        key=lambda rule: rule.effective_from,
    )
    if candidates:
        return candidates[-1]
    earliest = sorted((rule for rule in RULE_SETS if rule.province == province), key=lambda rule: rule.effective_from)
    return earliest[0] if earliest else _default_rule_set(province)


def city_agency_name(region_name: str, rules: RuleSet) -> str:
    return f"{region_name}{rules.city_agency_suffix}"
