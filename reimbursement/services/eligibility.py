"""Whether the details qualify for 零星报销: the filing query, student vacations and the
补办备案 limit, fed to the eligibility rules."""

from __future__ import annotations

from datetime import date

from core.models import InsuredPerson
from reimbursement.eligibility import EligibilityFacts, assess
from reimbursement.models import CareType
from reimbursement.services.details import ClaimDetails

#: 补办备案时限 when a region has no policy version yet (the field's default on PolicyVersion).
DEFAULT_RETROACTIVE_MONTHS = 3


def filing_lookup(person: InsuredPerson, details: ClaimDetails):
    """The filing query (filings.selectors.filing_check) for these details."""
    from filings.selectors import filing_check

    hospitalised = details.care_type in (CareType.INPATIENT, CareType.MATERNITY)
    return filing_check(
        person=person,
        on_date=details.discharge_date,
        treatment_region=details.treatment_region,
        admission_date=details.admission_date if hospitalised else None,
        emergency=details.emergency,
    )


def vacation_periods(region_code: str, year: int):
    """The region's student vacations of `year` (the city's own rows, else its province's);
    None when neither published any for that year (the default months apply)."""
    from core.models import province_code_of
    from reimbursement.eligibility import VacationPeriod
    from reimbursement.models import StudentVacation

    rows = list(
        StudentVacation.objects.filter(region_id__in={region_code, province_code_of(region_code)}, year=year).order_by(
            "start_date", "pk"
        )
    )
    own = [row for row in rows if row.region_id == region_code] or rows
    if not own:
        return None
    return tuple(VacationPeriod(row.name, row.start_date, row.end_date) for row in own)


def retroactive_limit(region_code: str, discharge_date: date) -> tuple[date, str]:
    """The last day a 补办 filing restores normal benefits (the policy in force at discharge)."""
    from reimbursement.eligibility import add_months
    from reimbursement.models import PolicyVersion

    policy = PolicyVersion.objects.in_force(region_code, discharge_date)
    months = policy.retroactive_filing_months if policy is not None else DEFAULT_RETROACTIVE_MONTHS
    text = f"出院后{months}个月" if months else "出院当日前"
    return add_months(discharge_date, months), text


def check_eligibility(person: InsuredPerson, details: ClaimDetails, *, check=None):
    """The filing query and the eligibility rules for these details: (FilingCheck, Eligibility)."""
    check = check or filing_lookup(person, details)
    filing = check.filing
    limit, limit_text = retroactive_limit(person.insured_region_id, details.discharge_date)
    facts = EligibilityFacts(
        situation=details.situation,
        filing_status=check.status,
        filing_person_type=filing.person_type if filing is not None else None,
        filing_message=check.message,
        care_type=details.care_type,
        rescue=details.rescue,
        insurance_type=person.insurance_type,
        insured_region=person.insured_region_id,
        treatment_region=details.treatment_region.code,
        treatment_region_name=details.treatment_region.name,
        institution_name=details.institution_name,
        designated=details.designated,
        admission_date=details.admission_date,
        discharge_date=details.discharge_date,
        settlement_failure=details.settlement_failure,
        other_case_given=details.other_case is not None,
        filing_allows_manual=bool(filing is not None and filing.manual_reimbursement_eligible),
        filing_applied_on=filing.applied_on if filing is not None else None,
        retroactive_limit=limit,
        retroactive_limit_text=limit_text,
        vacation_periods=vacation_periods(person.insured_region_id, details.admission_date.year),
    )
    return check, assess(facts)
