"""The printable forms of the filing counter (附件1, 7, 8): `render_x(...) -> bytes`.

They run in the background job `filings.render_form` (never in a web request);
the job stores the bytes once in the document archive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from core.errors import DomainError
from core.pdf import render_pdf
from filings.models import LONG_TERM_TYPES, Basis, Filing, PersonType
from filings.services import add_months, settings_for


@dataclass(frozen=True)
class FormSpec:
    code: str
    annex: str
    title: str


FORMS: dict[str, FormSpec] = {
    "annex1": FormSpec("annex1", "附件1", "长期异地居住人员个人承诺书"),
    "annex7": FormSpec("annex7", "附件7", "外伤无第三方责任承诺书"),
    "annex8": FormSpec("annex8", "附件8", "住院期间外院检查治疗或双通道定点药店购药证明"),
}


def fit_class(text, *, small: int, tiny: int) -> str:
    """The CSS class that keeps a long value inside its slot of a printed form:
    "" up to `small` characters, "fit-s" up to `tiny`, "fit-xs" beyond."""
    length = len(str(text or ""))
    if length <= small:
        return ""
    return "fit-s" if length <= tiny else "fit-xs"


def form_available(filing: Filing, code: str) -> str:
    """Why a form cannot be printed for this filing ("" when it can)."""
    if code not in FORMS:
        return "没有这种表格。"
    if code == "annex1" and filing.person_type not in LONG_TERM_TYPES:
        return "个人承诺书（附件1）只适用于长期异地居住人员（异地安置退休、异地长期居住、常驻异地工作）。"
    return ""


def _agency(filing: Filing):
    return getattr(filing.insured_region, "agency", None)


def render_annex1(filing: Filing, *, today: date | None = None) -> bytes:
    problem = form_available(filing, "annex1")
    if problem:
        raise DomainError(problem)
    today = today or timezone.localdate()
    region_settings = settings_for(filing.insured_region_id)
    agency = _agency(filing)
    if filing.materials_due_on:
        due = filing.materials_due_on
    else:
        due = add_months(filing.activated_at.date() if filing.activated_at else today,
                         region_settings.commitment_materials_months)
    options = [
        {"label": label, "ticked": value == filing.person_type}
        for value, label in PersonType.choices
        if value in LONG_TERM_TYPES
    ]
    return render_pdf(
        "pdf/filing_annex1.html",
        {
            "filing": filing,
            "person": filing.insured_person,
            "insured_region": filing.insured_region,
            "destination": filing.destination,
            "type_options": options,
            "lock_months": region_settings.commitment_lock_months,
            "materials_months": region_settings.commitment_materials_months if filing.basis == Basis.COMMITMENT else 0,
            "materials_due_text": f"{due.year}年{due.month}月{due.day}日",
            "agency_name": agency.name if agency else filing.insured_region.name,
            # One consultation number for every notice: the agency's own (claims print the same).
            "agency_phone": agency.phone if agency else "",
            "notice_extra": [line.strip() for line in region_settings.commitment_notice_extra.splitlines() if line.strip()],
            "printed_on": today,
            "fit": {
                "name": fit_class(filing.insured_person.name, small=6, tiny=12),
                "phone": fit_class(filing.insured_person.phone, small=13, tiny=18),
                "phone_alt": fit_class(filing.insured_person.phone_alt, small=13, tiny=18),
                "destination": fit_class(filing.destination.name, small=8, tiny=14),
            },
        },
    )


def render_annex7(filing: Filing, *, injury: dict | None = None) -> bytes:
    injury = injury or {}
    return render_pdf(
        "pdf/filing_annex7.html",
        {
            "filing": filing,
            "person": filing.insured_person,
            "agency_short": filing.insured_region.name,
            "injury": injury,
        },
    )


def render_annex8(filing: Filing, *, today: date | None = None, department: str = "", diagnosis: str = "",
                  outside_institution: str = "") -> bytes:
    today = today or timezone.localdate()
    person = filing.insured_person
    diagnosis = diagnosis or filing.diagnosis
    return render_pdf(
        "pdf/filing_annex8.html",
        {
            "filing": filing,
            "person": person,
            "insured_region": filing.insured_region,
            "age": person.age_on(today),
            "department": department,
            "diagnosis": diagnosis,
            "outside_institution": outside_institution,
            "fit": {
                "name": fit_class(person.name, small=10, tiny=16),
                "department": fit_class(department, small=12, tiny=22),
                "diagnosis": fit_class(diagnosis, small=80, tiny=120),
                "outside_institution": fit_class(outside_institution, small=20, tiny=40),
            },
        },
    )


RENDERERS = {"annex1": render_annex1, "annex7": render_annex7, "annex8": render_annex8}


def render_form(filing: Filing, code: str) -> bytes:
    return RENDERERS[code](filing)


def document_key(filing: Filing, code: str) -> str:
    return f"filing:{filing.pk}:{code}"
