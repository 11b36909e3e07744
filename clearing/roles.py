"""What each role may do in the clearing (merged by core.roles.sync_role_groups).

Views check roles; services check the business rules (a city's finance staff
record only their own city's payments); querysets scope by region.
"""

from core.models import Role

VIEW = [
    "clearing.view_clearingperiod",
    "clearing.view_clearingresult",
    "clearing.view_paymentdue",
    "clearing.view_transfer",
    "clearing.view_intraadvance",
    "clearing.view_crossadvance",
    "clearing.view_advanceentry",
    "clearing.view_advanceyear",
    "clearing.view_emergencyincrease",
]

PERMISSIONS = {
    Role.CLEARING_OFFICER: [
        *VIEW,
        "clearing.view_settlement",
        "clearing.add_settlement",
        "clearing.view_importbatch",
        "clearing.add_importbatch",
        "clearing.change_clearingperiod",
        "clearing.compute_clearing",
        "clearing.issue_notices",
        "clearing.record_transfer",
        "clearing.manage_advances",
        "clearing.add_crossallotment",
        "clearing.change_crossallotment",
        "clearing.view_crossallotment",
        "clearing.add_emergencyincrease",
        "clearing.view_advancepolicy",
    ],
    Role.FINANCE: [*VIEW, "clearing.record_transfer", "clearing.add_transfer"],
    Role.SUPERVISOR: VIEW,
    Role.ADMINISTRATOR: [
        *VIEW,
        "clearing.view_advancepolicy",
        "clearing.add_advancepolicy",
        "clearing.change_advancepolicy",
        "clearing.view_importbatch",
    ],
}
