"""The materials a manual-reimbursement claim needs: the insured region's province list
(core.jurisdictions ``materials``; 江苏规程 第二十七条 by default).

Base materials depend on the expense type; extra circumstances add items; a
region may add materials only if it published them in advance and filed them
with the province — those come from `PublishedMaterial` rows (reference data,
not code) and are passed in here as plain (code, label) pairs.

An item with alternatives ("诊断证明 或 出院小结") is satisfied by any one of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.jurisdiction_materials import ClaimRequirement, MaterialRules

Requirement = ClaimRequirement


def _home_rules() -> MaterialRules:
    from core.jurisdictions import rules_for

    return rules_for(None).materials


def base_requirements(care_type: str, *, rules: MaterialRules | None = None) -> tuple[Requirement, ...]:
    try:
        return (rules or _home_rules()).claim_base[care_type]
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
    rules: MaterialRules | None = None,
) -> list[Requirement]:
    """The items each extra circumstance adds, in the province's order; an item meant for some
    expense types only (抢救 adds 出院小结 to a hospital stay) is left out for the others."""
    given = {
        "rescue": rescue,
        "patient_deceased": patient_deceased,
        "accidental_injury": accidental_injury,
        "dual_channel_drugs": dual_channel_drugs,
        "drugs_bought_outside": drugs_bought_outside,
    }
    extras: list[Requirement] = []
    for circumstance, items in (rules or _home_rules()).claim_extras.items():
        if given.get(circumstance):
            extras += [item for item in items if item.care_types is None or care_type in item.care_types]
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
    rules: MaterialRules | None = None,
) -> list[Requirement]:
    """Base + extras + the region's published additions, each item once. ``rules``: the insured
    region's province lists (core.jurisdictions ``materials``); the home province's by default."""
    rules = rules or _home_rules()
    items: list[Requirement] = list(base_requirements(care_type, rules=rules))
    items += extra_requirements(
        care_type=care_type,
        rescue=rescue,
        accidental_injury=accidental_injury,
        dual_channel_drugs=dual_channel_drugs,
        drugs_bought_outside=drugs_bought_outside,
        patient_deceased=patient_deceased,
        rules=rules,
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

