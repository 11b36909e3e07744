"""The printable forms of manual reimbursement. Each renderer returns PDF bytes;
they run in background jobs (reimbursement.jobs), never inside a web request.

* 一次性告知书 — every missing item at once (第二十七条)
* 受理回执 — the acceptance receipt with the deadline (第二十八条)
* 延期办理告知书 — the advance notice that a claim cannot finish in time
* 附件9 异地就医住院结算单 — laid out like the form in the 江苏规程
* 付款通知 — the payment notice for finance (payees, masked accounts, figures and 大写)
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.utils import timezone

from core.idcard import mask_id_number
from core.models import Agency
from core.money import amount_in_words
from core.pdf import render_pdf
from filings.printing import fit_class
from reimbursement.formatting import mask_bank_account
from reimbursement.models import CareType, Claim, ClaimNotice, PaymentBatch

ZERO = Decimal("0.00")


def agency_of(region) -> Agency | None:
    return Agency.objects.filter(region=region).first()


def _issuer(region) -> tuple[str, str, str]:
    agency = agency_of(region)
    if agency is None:
        return f"{region.name}医疗保障基金管理中心", "", ""
    return agency.name, agency.phone, agency.address


def _claim_context(claim: Claim) -> dict:
    issuer, phone, address = _issuer(claim.region)
    return {
        "claim": claim,
        "person": claim.person,
        "masked_id": mask_id_number(claim.person.id_number),
        "issuer": issuer,
        "issuer_phone": phone,
        "issuer_address": address,
        "received": [m for m in claim.materials.all() if m.received],
        "received_papers": received_papers(claim.materials.all()),
        "missing": [m for m in claim.materials.all() if not m.received],
    }


def received_papers(materials) -> list[str]:
    """The papers received, each named once: one 出院小结 may satisfy two checklist lines
    (an inpatient rescue asks for 诊断证明（或出院小结） and 出院小结)."""
    papers: list[str] = []
    for material in materials:
        if material.received:
            name = material.received_as or material.label
            if name not in papers:
                papers.append(name)
    return papers


def render_missing_materials_notice(notice: ClaimNotice) -> bytes:
    claim = notice.claim
    context = _claim_context(claim)
    materials = {m.label: m for m in claim.materials.all()}
    items = [
        {"label": label, "alternatives": materials[label].alternatives if label in materials else []}
        for label in notice.items
    ]
    # One paper may satisfy two lines (an inpatient rescue: "诊断证明（或出院小结）" and "出院小结"): say so.
    position = {item["label"]: index for index, item in enumerate(items, start=1)}
    for item in items:
        item["covered_by"] = [
            (position[alternative], alternative) for alternative in item["alternatives"] if alternative in position
        ]
    context.update(
        {
            "notice": notice,
            "items": items,
            "seal_date": notice.issued_on,
            "sequence": claim.notices.filter(kind=notice.kind, pk__lte=notice.pk).count(),
            # What had arrived when the notice was given: everything not listed as missing.
            "received": [m for m in claim.materials.all() if m.label not in notice.items and m.received_on
                         and m.received_on <= notice.issued_on],
        }
    )
    return render_pdf("pdf/reimbursement_missing_materials.html", context)


def render_receipt(notice: ClaimNotice) -> bytes:
    claim = notice.claim
    context = _claim_context(claim)
    # Everything about the limit comes from the notice: a reprint shows what the applicant was told.
    snapshot = notice.processing_days is not None
    context.update(
        {
            "notice": notice,
            "seal_date": notice.issued_on,
            "due_on": notice.due_on or claim.due_on,
            "complete_on": notice.complete_on or claim.complete_on,
            "processing_days": notice.processing_days if snapshot else None,
            "special": notice.special,
            "deadline_confirmed": notice.deadline_confirmed if snapshot else claim.deadline_confirmed,
        }
    )
    return render_pdf("pdf/reimbursement_receipt.html", context)


def render_delay_notice(notice: ClaimNotice) -> bytes:
    context = _claim_context(notice.claim)
    context.update({"notice": notice, "seal_date": notice.issued_on, "deadline_confirmed": notice.deadline_confirmed})
    return render_pdf("pdf/reimbursement_delay_notice.html", context)


def settlement_fund_lines(claim: Claim) -> list[tuple[str, Decimal | None]]:
    """#参保地基金1–6 of 附件9: the fund items the insured region paid (here: the pooled fund)."""
    lines: list[tuple[str, Decimal | None]] = [("基本医疗保险统筹基金", claim.fund_payment)]
    while len(lines) < 6:
        lines.append(("", None))
    return lines


def render_settlement_statement(claim: Claim) -> bytes:
    """附件9 ＿市异地就医住院结算单, filled from the claim (the city is the settling agency's)."""
    context = _claim_context(claim)
    city = claim.region.name
    if city.endswith("市"):
        city = city[:-1]
    funds = settlement_fund_lines(claim)
    context.update(
        {
            "city": city,
            "age": claim.person.age_on(claim.admission_date),
            "stay_days": claim.stay_days,
            "fund_lines": funds,
            "first_fund": funds[0],
            "other_funds": funds[1:],
            "is_inpatient": claim.care_type in (CareType.INPATIENT, CareType.MATERNITY),
            "printed_on": timezone.localdate(),
            # Long values shrink inside their cells so the form stays one page (as 附件8 does).
            "fit": {
                "institution": fit_class(claim.institution_name, small=36, tiny=60),
                "main_diagnosis": fit_class(claim.main_diagnosis, small=20, tiny=40),
                "secondary_diagnosis": fit_class(claim.secondary_diagnosis, small=42, tiny=84),
                "department": fit_class(claim.department, small=12, tiny=24),
                "hospital_number": fit_class(claim.hospital_number, small=12, tiny=24),
            },
        }
    )
    return render_pdf("pdf/reimbursement_settlement.html", context)


def _names(users) -> str:
    """Distinct full names in order of first appearance, joined with 、."""
    names: list[str] = []
    for user in users:
        name = user.get_full_name() if user is not None else ""
        if name and name not in names:
            names.append(name)
    return "、".join(names)


def payment_signatures(batch: PaymentBatch, claims: list[Claim]) -> dict:
    """审核人: who reviewed the claims and submitted them; 复核人: the supervisors who approved them."""
    return {
        "auditor": _names(claim.submitted_by for claim in claims),
        "reviewer": _names(claim.decided_by for claim in claims),
        "preparer": batch.created_by.get_full_name(),
        "date": timezone.localtime(batch.created_at).date(),
    }


def _batch_claims(batch: PaymentBatch) -> list[Claim]:
    """The claims the notice lists: those on it now and those that left it after a 退票."""
    current = list(batch.claims.select_related("person", "submitted_by", "decided_by"))
    returned = [
        record.claim
        for record in batch.returns.select_related("claim__person", "claim__submitted_by", "claim__decided_by")
        if record.claim_id not in {claim.pk for claim in current}
    ]
    return sorted(current + returned, key=lambda claim: claim.number)


def payment_rows(
    batch: PaymentBatch, progress: Callable[[int, int], None] | None = None, claims: list[Claim] | None = None
) -> list[dict]:
    """One row per claim on the notice. A claim whose payment came back (退票) keeps the row it had,
    with the account it was paid to and a note; a reprint shows what the notice asked finance to pay."""
    claims = _batch_claims(batch) if claims is None else claims
    returns = {record.claim_id: record for record in batch.returns.order_by("pk")}
    rows = []
    for index, claim in enumerate(claims, start=1):
        record = returns.get(claim.pk) if claim.payment_batch_id != batch.pk else None
        amount = record.amount if record else (claim.fund_payment or ZERO)
        rows.append(
            {
                "index": index,
                "number": claim.number,
                "person": claim.person.name,
                "masked_id": mask_id_number(claim.person.id_number),
                "payee": record.payee_before if record else claim.payee_name,
                "bank": record.bank_before if record else claim.bank_name,
                "account": record.account_before if record else mask_bank_account(claim.bank_account),
                "amount": amount,
                "amount_words": amount_in_words(amount),
                "returned": f"{record.returned_on:%Y-%m-%d} 退票" if record else "",
            }
        )
        if progress:
            progress(index, len(claims))
    return rows


def render_payment_notice(batch: PaymentBatch, progress: Callable[[int, int], None] | None = None) -> bytes:
    """The finance notice of a batch. A claim whose payment came back (退票) leaves the table, the 合计
    and the sentence that asks finance to pay: it is listed apart, with the account it was paid to,
    and goes on a new notice once its account is corrected. A batch of returned claims only asks for
    nothing."""
    claims = _batch_claims(batch)
    every = payment_rows(batch, progress, claims=claims)
    returned = [row for row in every if row["returned"]]
    rows = [row for row in every if not row["returned"]]
    for index, row in enumerate(rows, start=1):
        row["index"] = index
    total = sum((row["amount"] for row in rows), ZERO)
    issuer, phone, _address = _issuer(batch.region)
    return render_pdf(
        "pdf/reimbursement_payment_notice.html",
        {
            "batch": batch,
            "rows": rows,
            "total": total,
            "total_words": amount_in_words(total),
            "returned_rows": returned,
            "issuer": issuer,
            "issuer_phone": phone,
            "seal_date": timezone.localtime(batch.created_at).date(),
            "signatures": payment_signatures(batch, claims),
        },
    )
