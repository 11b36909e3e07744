"""The materials checklist per person type (domain.md §2): the home province's list,
read from its rule set (core.jurisdictions ``materials``; 江苏 第八条 by default).

Each person type needs a list of requirements; a requirement is met by any one
of its options, and an option needs all of its materials (e.g. 户口簿首页 *and*
常住人口登记卡, *or* the 个人承诺书). Pure functions over material codes: the
form, the services, the import and the pages all read the same table. Every function
takes the province's ``MaterialRules`` (``rules=``); without it, the home province's today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from core.jurisdiction_materials import COMMITMENT_LETTER, FILING_MATERIALS, FilingRequirement, MaterialRules
from filings.models import LONG_TERM_TYPES, Basis

#: code -> label, in the order the checklist shows them (one vocabulary for every province).
MATERIALS: dict[str, str] = FILING_MATERIALS
Requirement = FilingRequirement


def material_rules(region=None, *, on: date | None = None) -> MaterialRules:
    """The materials lists in force for ``region`` (a Region, a code, or None for the home
    province) on ``on``: a filing is the insured region's, checked by the lists of its day."""
    from core.jurisdictions import rules_for

    return rules_for(region, on=on).materials


def rules_of(filing) -> MaterialRules:
    """The lists a filing was taken in under: its insured region's, on the day it was applied for."""
    return material_rules(filing.insured_region_id, on=filing.applied_on)


def requirements_for(
    person_type: str, *, by_proxy: bool = False, rules: MaterialRules | None = None
) -> tuple[Requirement, ...]:
    rules = rules or material_rules()
    requirements = rules.filing[person_type]
    if by_proxy:
        requirements = (*requirements, rules.proxy)
    return requirements


def allowed_materials(person_type: str, *, by_proxy: bool = False, rules: MaterialRules | None = None) -> list[str]:
    codes: list[str] = []
    for requirement in requirements_for(person_type, by_proxy=by_proxy, rules=rules):
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


def evaluate(
    person_type: str, provided: Iterable[str], *, by_proxy: bool = False, rules: MaterialRules | None = None
) -> ChecklistResult:
    """Which requirements the provided materials meet. Real materials are
    preferred over the commitment letter when both were handed in."""
    have = tuple(code for code in dict.fromkeys(provided) if code in MATERIALS)
    states = []
    for requirement in requirements_for(person_type, by_proxy=by_proxy, rules=rules):
        met_by = None
        for option in sorted(requirement.options, key=lambda option: option == (COMMITMENT_LETTER,)):
            if all(code in have for code in option):
                met_by = option
                break
        states.append(RequirementState(requirement, met_by))
    return ChecklistResult(person_type=person_type, states=tuple(states), provided=have)


def sufficient_materials(
    person_type: str, *, commitment: bool = False, by_proxy: bool = False, rules: MaterialRules | None = None
) -> list[str]:
    """A minimal complete set (the first option of each requirement), for demo data and tests."""
    codes: list[str] = []
    for requirement in requirements_for(person_type, by_proxy=by_proxy, rules=rules):
        option = requirement.options[0]
        if commitment and requirement.allows_commitment:
            option = (COMMITMENT_LETTER,)
        codes.extend(option)
    return codes


def labels(codes: Iterable[str]) -> list[str]:
    return [MATERIALS.get(code, code) for code in codes]
