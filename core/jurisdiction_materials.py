"""The materials lists of each province, as data (domain.md §2, §3, §8).

Two lists differ by province and by date, so they are part of a rule set
(``core.jurisdictions.RuleSet.materials``):

* 备案材料 — per person type, a tuple of requirements; a requirement is met by any one of
  its options and an option needs every material in it (户口簿首页 *and* 常住人口登记卡,
  *or* the 个人承诺书);
* 零星报销材料 — per expense type the base items, and the items each extra circumstance
  (抢救, 意外伤害, 双通道药品, 外购药品, 死亡) adds.

Material codes are one vocabulary for every province, because filings store them: a
province's list chooses among them and words its requirements as its own document does.
This module is pure (no models, no settings): the person-type and expense-type keys are
the string values of ``filings.models.PersonType`` and ``reimbursement.models.CareType``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COMMITMENT_LETTER = "commitment_letter"

#: Filing material code -> label, in the order the checklist shows them.
FILING_MATERIALS: dict[str, str] = {
    "medical_e_voucher": "医保电子凭证",
    "id_card": "有效身份证件",
    "social_security_card": "社会保障卡",
    "household_register": "户口簿首页",
    "residence_registration_card": "本人常住人口登记卡",
    "residence_proof": "居住证明",
    "dispatch_certificate": "参保地工作单位派出证明",
    "employer_certificate": "异地工作单位证明",
    "labour_contract": "工作合同",
    "referral_certificate": "参保地定点医疗机构开具的转诊转院证明",
    COMMITMENT_LETTER: "长期异地居住人员个人承诺书（附件1）",
    "proxy_id_proof": "代办人有效身份证明",
}


@dataclass(frozen=True)
class FilingRequirement:
    key: str
    label: str
    options: tuple[tuple[str, ...], ...]  # any one option; every material of that option

    @property
    def allows_commitment(self) -> bool:
        return any(option == (COMMITMENT_LETTER,) for option in self.options)

    @property
    def material_codes(self) -> list[str]:
        seen: list[str] = []
        for option in self.options:
            for code in option:
                if code not in seen:
                    seen.append(code)
        return seen

    @property
    def describe(self) -> str:
        """“户口簿首页和本人常住人口登记卡，或个人承诺书（附件1）”"""
        texts = ["和".join(FILING_MATERIALS[code] for code in option) for option in self.options]
        if len(texts) == 1:
            return texts[0]
        if self.allows_commitment and len(texts) > 2:
            return "、".join(texts[:-1]) + "任选其一，或" + texts[-1]
        return "，或".join(texts) if self.allows_commitment else "、".join(texts) + "任选其一"


@dataclass(frozen=True)
class ClaimRequirement:
    code: str
    label: str
    alternatives: tuple[str, ...] = ()
    source: str = "base"  # base / extra / region
    care_types: frozenset[str] | None = None  # an extra that only some expense types need

    @property
    def choices(self) -> tuple[str, ...]:
        """What the clerk can tick: the alternatives, or the item itself."""
        return self.alternatives or (self.label,)


@dataclass(frozen=True)
class MaterialRules:
    """A province's two materials lists and the articles that set them."""

    filing: dict[str, tuple[FilingRequirement, ...]]
    filing_article: str
    claim_base: dict[str, tuple[ClaimRequirement, ...]]
    #: circumstance (rescue, patient_deceased, accidental_injury, dual_channel_drugs,
    #: drugs_bought_outside) -> the items it adds, in the order the checklist shows them.
    claim_extras: dict[str, tuple[ClaimRequirement, ...]]
    claim_article: str
    #: Where a list is the province's own reading of a document that leaves it to the regions
    #: or to a list not among the seeds: said under the checklist, so nobody takes it for more.
    filing_note: str = ""
    claim_note: str = ""
    proxy: FilingRequirement = field(
        default_factory=lambda: FilingRequirement("proxy_id_proof", "代办人身份证明", (("proxy_id_proof",),))
    )


# --- 备案材料 ------------------------------------------------------------------------

ID_PROOF = FilingRequirement(
    "id_proof",
    "本人有效身份证明",
    (("medical_e_voucher",), ("id_card",), ("social_security_card",)),
)
RESETTLEMENT = FilingRequirement(
    "resettlement",
    "异地安置认定材料",
    (("household_register", "residence_registration_card"), (COMMITMENT_LETTER,)),
)
RESIDENCE = FilingRequirement("residence", "长期居住认定材料", (("residence_proof",), (COMMITMENT_LETTER,)))
WORK = FilingRequirement(
    "work",
    "异地工作证明材料",
    (("dispatch_certificate",), ("employer_certificate",), ("labour_contract",), (COMMITMENT_LETTER,)),
)

#: 江苏规程 第八条: the national list of 2023 (全国医疗保障经办政务服务事项清单), word for word;
#: 异地急诊抢救人员 视同已备案 (第八条(五)), so no list.
JIANGSU_FILING: dict[str, tuple[FilingRequirement, ...]] = {
    "retired_resettled": (ID_PROOF, RESETTLEMENT),
    "long_term_resident": (ID_PROOF, RESIDENCE),
    "posted_worker": (ID_PROOF, WORK),
    "referral": (ID_PROOF, FilingRequirement("referral", "转诊转院证明材料", (("referral_certificate",),))),
    "emergency": (),
    "other_temporary": (ID_PROOF,),
}

#: 新医保发〔2022〕39号 三(二)、三(三)、三(四): the three long-term kinds prove their stay with
#: the same papers, a personal commitment standing in "暂时无法提供相关材料的" until they are
#: handed in within the set time; a referral is arranged by the insured region's designated
#: hospital (转诊手续), which is what the counter asks for; the person shows 医保电子凭证,
#: 社会保障卡 "等有效凭证".
XINJIANG_FILING: dict[str, tuple[FilingRequirement, ...]] = {
    "retired_resettled": (ID_PROOF, RESETTLEMENT),
    "long_term_resident": (ID_PROOF, RESIDENCE),
    "posted_worker": (ID_PROOF, WORK),
    "referral": (
        ID_PROOF,
        FilingRequirement("referral", "转诊手续（由参保地规定的定点医疗机构办理）", (("referral_certificate",),)),
    ),
    "emergency": (),
    "other_temporary": (ID_PROOF,),
}


# --- 零星报销材料 --------------------------------------------------------------------

ID_PROOF_ALTERNATIVES = ("医保电子凭证", "有效身份证件", "社会保障卡")


def _claim_id_proof() -> ClaimRequirement:
    return ClaimRequirement("id_proof", "有效身份证明材料（医保电子凭证、有效身份证件或社会保障卡）", ID_PROOF_ALTERNATIVES)


HOSPITALISED = frozenset({"inpatient", "maternity"})

#: 江苏规程 第二十七条: the base list per expense type.
JIANGSU_CLAIM_BASE: dict[str, tuple[ClaimRequirement, ...]] = {
    "inpatient": (
        _claim_id_proof(),
        ClaimRequirement("invoice", "医院收费票据"),
        ClaimRequirement("inpatient_fee_list", "住院费用清单"),
        ClaimRequirement("diagnosis_or_summary", "诊断证明（或出院小结）", ("诊断证明", "出院小结")),
    ),
    "outpatient": (
        _claim_id_proof(),
        ClaimRequirement("invoice", "医院收费票据"),
        ClaimRequirement("outpatient_fee_list", "门诊费用清单"),
        ClaimRequirement("prescription_or_record", "门诊处方底方（或门诊病历）", ("门诊处方底方", "门诊病历")),
    ),
    "emergency": (
        _claim_id_proof(),
        ClaimRequirement("invoice", "医院收费票据"),
        ClaimRequirement("emergency_fee_list", "医药费明细清单"),
        ClaimRequirement("emergency_diagnosis_or_record", "急诊诊断证明（或急诊病历）", ("急诊诊断证明", "急诊病历")),
    ),
    "maternity": (
        _claim_id_proof(),
        ClaimRequirement("maternity_invoice", "生育或产前检查医药费票据"),
        ClaimRequirement("medical_fee_list", "医疗费明细清单"),
        ClaimRequirement("discharge_summary", "出院小结"),
    ),
}

#: 江苏规程 第二十七条, the paragraph after the list.
JIANGSU_CLAIM_EXTRAS: dict[str, tuple[ClaimRequirement, ...]] = {
    "rescue": (
        ClaimRequirement("rescue_record", "门诊抢救病历", source="extra"),
        ClaimRequirement("discharge_summary", "出院小结", source="extra", care_types=HOSPITALISED),
    ),
    "patient_deceased": (ClaimRequirement("death_record", "死亡记录及死亡证明", source="extra"),),
    "accidental_injury": (
        ClaimRequirement(
            "accident_proof",
            "交通事故认定书、法院判决书、调解协议书等公检法部门出具的证明材料（无法提供的先填写个人承诺书）",
            ("交通事故认定书", "法院判决书", "调解协议书", "外伤无第三方责任承诺书（附件7）"),
            source="extra",
        ),
    ),
    "dual_channel_drugs": (
        ClaimRequirement("dual_channel_form", "《参保患者“双通道”管理及单独支付药品用药申请表》", source="extra"),
    ),
    "drugs_bought_outside": (
        ClaimRequirement("outside_invoice", "外购发票", source="extra"),
        ClaimRequirement(
            "outside_order_or_prescription",
            "住院医嘱单（或外购药处方原件复印件）",
            ("住院医嘱单", "外购药处方原件复印件"),
            source="extra",
        ),
    ),
}

JS = "《江苏省异地就医经办服务规程》"
XIN = "新医保发〔2022〕39号"
GAN_2020 = "赣医保发〔2020〕13号"
GAN = "赣医保发〔2025〕17号"
NATIONAL = "医保发〔2024〕21号"

#: Said under a claim list that the province's documents leave to the insured region.
CLAIM_NOTE = "本表为报销必需的票据、清单和诊断材料，参保地事前公示的补充材料另列"

JIANGSU = MaterialRules(
    filing=JIANGSU_FILING,
    filing_article=f"{JS}第八条",
    claim_base=JIANGSU_CLAIM_BASE,
    claim_extras=JIANGSU_CLAIM_EXTRAS,
    claim_article=f"{JS}第二十七条",
)

#: 新疆 writes its own filing list (三(二)); for 手工报销 it sends the person to the insured
#: region's rules (二(四) "按参保地规定申请医保手工报销"): the papers any claim needs, and what
#: a region publishes in advance on top of them.
XINJIANG = MaterialRules(
    filing=XINJIANG_FILING,
    filing_article=f"{XIN}三(二)",
    claim_base=JIANGSU_CLAIM_BASE,
    claim_extras=JIANGSU_CLAIM_EXTRAS,
    claim_article=f"{XIN}二(四)：按参保地规定申请医保手工报销",
    claim_note=CLAIM_NOTE,
)

#: 江西 prints no list of its own in the seeds: 赣医保发〔2025〕17号 一(二) has every region follow
#: 全省医疗保障经办政务服务事项清单 (and 赣医保发〔2020〕13号 before it the national 清单,
#: 医保发〔2020〕18号), whose items are those 江苏 第八条 copies; regions publish them in
#: their 备案告知书, and "不得擅自出台视同异地就医备案或免备案规定" (一(三)).
def _jiangxi(article: str, note: str) -> MaterialRules:
    return MaterialRules(
        filing=JIANGSU_FILING,
        filing_article=article,
        claim_base=JIANGSU_CLAIM_BASE,
        claim_extras=JIANGSU_CLAIM_EXTRAS,
        claim_article="参保地规定",
        filing_note=note,
        claim_note=CLAIM_NOTE,
    )


JIANGXI_2020 = _jiangxi(
    f"{GAN_2020}（转发医保发〔2020〕23号）四", "按全国医疗保障经办政务服务事项清单（医保发〔2020〕18号）规范备案材料"
)
JIANGXI_2026 = _jiangxi(f"{GAN}一(二)", "按全省医疗保障经办政务服务事项清单规范备案材料，参保地在线上备案告知书中公布")

#: A province without rows of its own: the national list (医保发〔2024〕21号 一(一)).
NATIONAL_DEFAULT = MaterialRules(
    filing=JIANGSU_FILING,
    filing_article=f"{NATIONAL}一(一)：严格执行《全国医疗保障经办政务服务事项清单（2023年版）》",
    claim_base=JIANGSU_CLAIM_BASE,
    claim_extras=JIANGSU_CLAIM_EXTRAS,
    claim_article="参保地规定",
    claim_note=CLAIM_NOTE,
)
