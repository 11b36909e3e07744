"""The materials checklist per person type (江苏 第八条, domain.md §2).

Each person type needs a list of requirements; a requirement is met by any one
of its options, and an option needs all of its materials (e.g. 户口簿首页 *and*
常住人口登记卡, *or* the 个人承诺书). Pure functions over material codes: the
form, the services, the import and the pages all read the same table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from filings.models import LONG_TERM_TYPES, Basis, PersonType

COMMITMENT_LETTER = "commitment_letter"

#: code -> label, in the order the checklist shows them.
MATERIALS: dict[str, str] = {
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
class Requirement:
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
        texts = ["和".join(MATERIALS[code] for code in option) for option in self.options]
        if len(texts) == 1:
            return texts[0]
        if self.allows_commitment and len(texts) > 2:
            return "、".join(texts[:-1]) + "任选其一，或" + texts[-1]
        return "，或".join(texts) if self.allows_commitment else "、".join(texts) + "任选其一"


ID_PROOF = Requirement(
    "id_proof",
    "本人有效身份证明",
    (("medical_e_voucher",), ("id_card",), ("social_security_card",)),
)
PROXY_ID_PROOF = Requirement("proxy_id_proof", "代办人身份证明", (("proxy_id_proof",),))

CHECKLISTS: dict[str, tuple[Requirement, ...]] = {
    PersonType.RETIRED_RESETTLED: (
        ID_PROOF,
        Requirement(
            "resettlement",
            "异地安置认定材料",
            (("household_register", "residence_registration_card"), (COMMITMENT_LETTER,)),
        ),
    ),
    PersonType.LONG_TERM_RESIDENT: (
        ID_PROOF,
        Requirement("residence", "长期居住认定材料", (("residence_proof",), (COMMITMENT_LETTER,))),
    ),
    PersonType.POSTED_WORKER: (
        ID_PROOF,
        Requirement(
            "work",
            "异地工作证明材料",
            (("dispatch_certificate",), ("employer_certificate",), ("labour_contract",), (COMMITMENT_LETTER,)),
        ),
    ),
    PersonType.REFERRAL: (
        ID_PROOF,
        Requirement("referral", "转诊转院证明材料", (("referral_certificate",),)),
    ),
    PersonType.EMERGENCY: (),
    PersonType.OTHER_TEMPORARY: (ID_PROOF,),
}


def requirements_for(person_type: str, *, by_proxy: bool = False) -> tuple[Requirement, ...]:
    requirements = CHECKLISTS[person_type]
    if by_proxy:
        requirements = (*requirements, PROXY_ID_PROOF)
    return requirements


def allowed_materials(person_type: str, *, by_proxy: bool = False) -> list[str]:
    codes: list[str] = []
    for requirement in requirements_for(person_type, by_proxy=by_proxy):
        codes.extend(code for code in requirement.material_codes if code not in codes)
    return codes


@dataclass(frozen=True)
class RequirementState:
    requirement: Requirement
    met_by: tuple[str, ...] | None  # the option that meets it, or None

    @property
    def met(self) -> bool:
        return self.met_by is not None

    @property
    def by_commitment(self) -> bool:
        return self.met_by == (COMMITMENT_LETTER,)


@dataclass(frozen=True)
class ChecklistResult:
    person_type: str
    states: tuple[RequirementState, ...]
    provided: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return all(state.met for state in self.states)

    @property
    def missing(self) -> list[RequirementState]:
        return [state for state in self.states if not state.met]

    @property
    def basis(self) -> str:
        """Commitment when a long-term filing's proof is only the commitment letter."""
        if self.person_type in LONG_TERM_TYPES and any(state.by_commitment for state in self.states):
            return Basis.COMMITMENT
        return Basis.MATERIALS

    @property
    def missing_text(self) -> str:
        return "；".join(f"{state.requirement.label}（{state.requirement.describe}）" for state in self.missing)


def evaluate(person_type: str, provided: Iterable[str], *, by_proxy: bool = False) -> ChecklistResult:
    """Which requirements the provided materials meet. Real materials are
    preferred over the commitment letter when both were handed in."""
    have = tuple(code for code in dict.fromkeys(provided) if code in MATERIALS)
    states = []
    for requirement in requirements_for(person_type, by_proxy=by_proxy):
        met_by = None
        for option in sorted(requirement.options, key=lambda option: option == (COMMITMENT_LETTER,)):
            if all(code in have for code in option):
                met_by = option
                break
        states.append(RequirementState(requirement, met_by))
    return ChecklistResult(person_type=person_type, states=tuple(states), provided=have)


def sufficient_materials(person_type: str, *, commitment: bool = False, by_proxy: bool = False) -> list[str]:
    """A minimal complete set (the first option of each requirement), for demo data and tests."""
    codes: list[str] = []
    for requirement in requirements_for(person_type, by_proxy=by_proxy):
        option = requirement.options[0]
        if commitment and requirement.allows_commitment:
            option = (COMMITMENT_LETTER,)
        codes.extend(option)
    return codes


def labels(codes: Iterable[str]) -> list[str]:
    return [MATERIALS.get(code, code) for code in codes]
