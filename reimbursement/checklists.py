"""The materials a manual-reimbursement claim needs (江苏规程 第二十七条).

Base materials depend on the expense type; extra circumstances add items; a
region may add materials only if it published them in advance and filed them
with the province — those come from `PublishedMaterial` rows (reference data,
not code) and are passed in here as plain (code, label) pairs.

An item with alternatives ("诊断证明 或 出院小结") is satisfied by any one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ID_PROOF_ALTERNATIVES = ("医保电子凭证", "有效身份证件", "社会保障卡")


@dataclass(frozen=True)
class Requirement:
    code: str
    label: str
    alternatives: tuple[str, ...] = ()
    source: str = "base"  # base / extra / region

    @property
    def choices(self) -> tuple[str, ...]:
        """What the clerk can tick: the alternatives, or the item itself."""
        return self.alternatives or (self.label,)


def _id_proof() -> Requirement:
    return Requirement("id_proof", "有效身份证明材料（医保电子凭证、有效身份证件或社会保障卡）", ID_PROOF_ALTERNATIVES)


BASE: dict[str, tuple[Requirement, ...]] = {
    "inpatient": (
        _id_proof(),
        Requirement("invoice", "医院收费票据"),
        Requirement("inpatient_fee_list", "住院费用清单"),
        Requirement("diagnosis_or_summary", "诊断证明（或出院小结）", ("诊断证明", "出院小结")),
    ),
    "outpatient": (
        _id_proof(),
        Requirement("invoice", "医院收费票据"),
        Requirement("outpatient_fee_list", "门诊费用清单"),
        Requirement("prescription_or_record", "门诊处方底方（或门诊病历）", ("门诊处方底方", "门诊病历")),
    ),
    "emergency": (
        _id_proof(),
        Requirement("invoice", "医院收费票据"),
        Requirement("emergency_fee_list", "医药费明细清单"),
        Requirement("emergency_diagnosis_or_record", "急诊诊断证明（或急诊病历）", ("急诊诊断证明", "急诊病历")),
    ),
    "maternity": (
        _id_proof(),
        Requirement("maternity_invoice", "生育或产前检查医药费票据"),
        Requirement("medical_fee_list", "医疗费明细清单"),
        Requirement("discharge_summary", "出院小结"),
    ),
}

HOSPITALISED = {"inpatient", "maternity"}


def base_requirements(care_type: str) -> tuple[Requirement, ...]:
    try:
        return BASE[care_type]
    except KeyError:
        raise ValueError(f"未知的费用类型：{care_type!r}") from None


def extra_requirements(
    *,
    care_type: str,
    rescue: bool = False,
    accidental_injury: bool = False,
    dual_channel_drugs: bool = False,
    drugs_bought_outside: bool = False,
    patient_deceased: bool = False,
) -> list[Requirement]:
    extras: list[Requirement] = []
    if rescue:
        extras.append(Requirement("rescue_record", "门诊抢救病历", source="extra"))
        if care_type in HOSPITALISED:
            extras.append(Requirement("discharge_summary", "出院小结", source="extra"))
    if patient_deceased:
        extras.append(Requirement("death_record", "死亡记录及死亡证明", source="extra"))
    if accidental_injury:
        extras.append(
            Requirement(
                "accident_proof",
                "交通事故认定书、法院判决书、调解协议书等公检法部门出具的证明材料（无法提供的先填写个人承诺书）",
                ("交通事故认定书", "法院判决书", "调解协议书", "外伤无第三方责任承诺书（附件7）"),
                source="extra",
            )
        )
    if dual_channel_drugs:
        extras.append(
            Requirement("dual_channel_form", "《参保患者“双通道”管理及单独支付药品用药申请表》", source="extra")
        )
    if drugs_bought_outside:
        extras.append(Requirement("outside_invoice", "外购发票", source="extra"))
        extras.append(
            Requirement(
                "outside_order_or_prescription",
                "住院医嘱单（或外购药处方原件复印件）",
                ("住院医嘱单", "外购药处方原件复印件"),
                source="extra",
            )
        )
    return extras


def build_checklist(
    *,
    care_type: str,
    rescue: bool = False,
    accidental_injury: bool = False,
    dual_channel_drugs: bool = False,
    drugs_bought_outside: bool = False,
    patient_deceased: bool = False,
    regional: Iterable[tuple[str, str]] = (),
) -> list[Requirement]:
    """Base + extras + the region's published additions, each item once."""
    items: list[Requirement] = list(base_requirements(care_type))
    items += extra_requirements(
        care_type=care_type,
        rescue=rescue,
        accidental_injury=accidental_injury,
        dual_channel_drugs=dual_channel_drugs,
        drugs_bought_outside=drugs_bought_outside,
        patient_deceased=patient_deceased,
    )
    items += [Requirement(code, label, source="region") for code, label in regional]
    seen: set[str] = set()
    result: list[Requirement] = []
    for item in items:
        if item.code not in seen:
            seen.add(item.code)
            result.append(item)
    return result


def tick_values(requirement: Requirement) -> list[tuple[str, str]]:
    """(tick value, document name) for each way of satisfying `requirement`."""
    if not requirement.alternatives:
        return [(requirement.code, requirement.label)]
    return [(f"{requirement.code}:{index}", alternative) for index, alternative in enumerate(requirement.alternatives)]


def documents_of(requirements: Iterable[Requirement], ticked: Iterable[str]) -> set[str]:
    """The names of the documents the ticks stand for (e.g. {"出院小结", "医院收费票据"})."""
    ticked = set(ticked)
    return {name for requirement in requirements for value, name in tick_values(requirement) if value in ticked}


def expand_ticks(requirements: Iterable[Requirement], ticked: Iterable[str]) -> set[str]:
    """One paper handed in counts for every item that asks for it.

    An inpatient rescue asks for "诊断证明（或出院小结）" and, as an extra, "出院小结": one
    出院小结 satisfies both, whichever of the two boxes the clerk ticked — so the 一次性告知书
    never asks for a document already handed in.
    """
    requirements = list(requirements)
    ticked = set(ticked)
    documents = documents_of(requirements, ticked)
    return ticked | {
        value for requirement in requirements for value, name in tick_values(requirement) if name in documents
    }


#: The same paper under the name 第二十七条 gives it for each expense type. When the counter
#: corrects the expense type of a claim (a typo), a paper already handed in keeps counting:
#: the fee list of the visit is the fee list, whatever the form called it.
SAME_PAPER: tuple[frozenset[str], ...] = (
    frozenset({"医院收费票据", "生育或产前检查医药费票据"}),
    frozenset({"住院费用清单", "门诊费用清单", "医药费明细清单", "医疗费明细清单"}),
    frozenset({"诊断证明", "急诊诊断证明"}),
    frozenset({"门诊病历", "急诊病历"}),
)


def same_paper(name: str) -> frozenset[str]:
    for group in SAME_PAPER:
        if name in group:
            return group
    return frozenset({name})


def ticks_for_documents(requirements: Iterable[Requirement], documents: Iterable[str]) -> dict[str, str]:
    """The ticks (value -> the document handed in) that papers already handed in give a new checklist."""
    held = {name: name for name in documents}
    for name in list(held):
        for other in same_paper(name):
            held.setdefault(other, name)
    return {value: held[name] for requirement in requirements for value, name in tick_values(requirement) if name in held}


def satisfied(requirement: Requirement, ticked: Iterable[str]) -> list[str]:
    """The alternatives of `requirement` that were ticked (tick values are "code" or "code:index")."""
    ticked = set(ticked)
    if not requirement.alternatives:
        return [requirement.label] if requirement.code in ticked else []
    return [
        alternative
        for index, alternative in enumerate(requirement.alternatives)
        if f"{requirement.code}:{index}" in ticked
    ]


def missing_requirements(requirements: Iterable[Requirement], ticked: Iterable[str]) -> list[Requirement]:
    requirements = list(requirements)
    ticked = expand_ticks(requirements, ticked)
    return [item for item in requirements if not satisfied(item, ticked)]

