"""State changes of manual-reimbursement claims. One function per change.

Every function is keyword-only, runs in one transaction, checks the current
status first and raises `DomainError` with a message the clerk can act on;
after a refusal nothing has been written. Transitions two people can race on
(approve / reject / return, payment) lock the claim row (`select_for_update`)
and re-check the status inside the lock.

Modules by purpose: `details` (what the counter records and its checks),
`eligibility` (the filing query and the rules), `materials` (the checklist),
`notices` (告知书, 回执, printable forms), `intake` (受理, corrections, 补收, 撤销),
`deadlines` (办理时限, special cases, 延期告知, the daily flags), `decisions`
(calculation, 提交复核, approve / reject / return), `payments` (付款通知, 支付)
and `returns` (退票); `common` holds what they share. Callers import from here.
"""

from .deadlines import claim_mark_special, claim_record_delay_notice, deadline_flag, refresh_deadline_flags
from .decisions import NOTHING_TO_PAY, claim_approve, claim_calculate, claim_reject, claim_return, claim_submit
from .details import DETAIL_FIELDS, FEE_FIELDS, ClaimDetails, validate_details
from .eligibility import check_eligibility, filing_lookup, retroactive_limit, vacation_periods
from .intake import (
    FOREIGN_PERSON_MESSAGE,
    claim_cancel,
    claim_create,
    claim_materials_receive,
    claim_number,
    claim_update,
)
from .materials import checklist_for, published_materials, ticks_of
from .notices import SETTLEMENT_STATUSES, check_settlement_printable, claim_print, settlement_printable
from .payments import payment_batch_create, payment_batch_regenerate, payment_record
from .returns import claim_correct_payee, claim_verify_payee, payment_return_record

__all__ = [
    "DETAIL_FIELDS",
    "FEE_FIELDS",
    "FOREIGN_PERSON_MESSAGE",
    "NOTHING_TO_PAY",
    "SETTLEMENT_STATUSES",
    "ClaimDetails",
    "check_eligibility",
    "check_settlement_printable",
    "checklist_for",
    "claim_approve",
    "claim_calculate",
    "claim_cancel",
    "claim_correct_payee",
    "claim_create",
    "claim_mark_special",
    "claim_materials_receive",
    "claim_number",
    "claim_print",
    "claim_record_delay_notice",
    "claim_reject",
    "claim_return",
    "claim_submit",
    "claim_update",
    "claim_verify_payee",
    "deadline_flag",
    "filing_lookup",
    "payment_batch_create",
    "payment_batch_regenerate",
    "payment_record",
    "payment_return_record",
    "published_materials",
    "refresh_deadline_flags",
    "retroactive_limit",
    "settlement_printable",
    "ticks_of",
    "validate_details",
    "vacation_periods",
]
