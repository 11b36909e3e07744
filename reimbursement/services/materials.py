"""The materials checklist: the province's rules plus the region's published materials,
and what a claim has handed in (收件)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from core.jurisdictions import rules_for
from reimbursement import checklists
from reimbursement.models import Claim, ClaimMaterial, PublishedMaterial


def published_materials(region_code: str, on_date: date) -> list[PublishedMaterial]:
    """The region's additional materials in force on `on_date`: published before it and filed with the province."""
    return list(
        PublishedMaterial.objects.filter(
            region_id=region_code,
            published_on__lte=on_date,
            filed_with_province_on__isnull=False,
            filed_with_province_on__lte=on_date,
        )
        .filter(Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=on_date))
        .order_by("published_on", "pk")
    )


def checklist_for(*, region_code: str, on_date: date, care_type: str, rescue=False, accidental_injury=False,
                  dual_channel_drugs=False, drugs_bought_outside=False, patient_deceased=False) -> list[checklists.Requirement]:
    regional = [
        (f"region-{material.pk}", material.name)
        for material in published_materials(region_code, on_date)
        if material.applies_to(care_type)
    ]
    return checklists.build_checklist(
        rules=rules_for(region_code or None, on=on_date).materials,  # the insured region's province
        care_type=care_type,
        rescue=rescue,
        accidental_injury=accidental_injury,
        dual_channel_drugs=dual_channel_drugs,
        drugs_bought_outside=drugs_bought_outside,
        patient_deceased=patient_deceased,
        regional=regional,
    )


def _requirements_for(claim_or_details, region_code: str, on_date: date) -> list[checklists.Requirement]:
    source = claim_or_details
    return checklist_for(
        region_code=region_code,
        on_date=on_date,
        care_type=source.care_type,
        rescue=source.rescue,
        accidental_injury=source.accidental_injury,
        dual_channel_drugs=source.dual_channel_drugs,
        drugs_bought_outside=source.drugs_bought_outside,
        patient_deceased=source.patient_deceased,
    )


def ticks_of(claim: Claim) -> set[str]:
    """The tick values (code or code:index) that reproduce a claim's received materials."""
    ticks: set[str] = set()
    for material in claim.materials.all():
        if not material.received:
            continue
        if material.alternatives:
            received = set(material.received_as.split("、"))
            ticks |= {f"{material.code}:{i}" for i, alt in enumerate(material.alternatives) if alt in received}
        else:
            ticks.add(material.code)
    return ticks


def _sync_materials(
    claim: Claim, requirements, ticked: set[str], *, by, today: date, earlier: dict | None = None
) -> list[ClaimMaterial]:
    """Make the claim's checklist match `requirements`, with `ticked` as what has been handed in.

    `earlier` maps a document handed in before (by name) to when and by whom it was received,
    so an item a corrected checklist names differently keeps its real receipt date.
    Returns the items still missing.
    """
    earlier = earlier or {}
    ticked = checklists.expand_ticks(requirements, ticked)
    existing = {material.code: material for material in claim.materials.all()}
    wanted = {requirement.code for requirement in requirements}
    for code, material in existing.items():
        if code not in wanted:
            material.delete()
    missing = []
    for order, requirement in enumerate(requirements):
        material = existing.get(requirement.code) or ClaimMaterial(claim=claim, code=requirement.code)
        material.label = requirement.label
        material.alternatives = list(requirement.alternatives)
        material.source = requirement.source
        material.sort_order = order
        got = checklists.satisfied(requirement, ticked)
        if got:
            if not material.received:
                before = [earlier[name] for name in got if name in earlier]
                material.received_on, material.received_by = min(before, key=lambda item: item[0]) if before else (today, by)
            material.received = True
            material.received_as = "、".join(got)
        else:
            material.received = False
            material.received_as = ""
            material.received_on = None
            material.received_by = None
            missing.append(material)
        material.save()
    return missing
