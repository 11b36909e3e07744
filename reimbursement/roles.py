"""What each role may do with manual reimbursement (merged by core.roles.sync_role_groups)."""

from core.models import Role

_VIEW = ["reimbursement.view_claim", "reimbursement.view_policyversion", "reimbursement.view_benefitrule",
         "reimbursement.view_situationadjustment", "reimbursement.view_publishedmaterial",
         "reimbursement.view_otherallowedcase", "reimbursement.view_studentvacation"]

PERMISSIONS = {
    Role.CLERK: [*_VIEW, "reimbursement.add_claim", "reimbursement.change_claim"],
    Role.SUPERVISOR: [*_VIEW, "reimbursement.approve_claim"],
    Role.FINANCE: [
        *_VIEW,
        "reimbursement.pay_claim",
        "reimbursement.view_paymentbatch",
        "reimbursement.add_paymentbatch",
        "reimbursement.view_paymentreturn",
        "reimbursement.add_paymentreturn",
    ],
    Role.ADMINISTRATOR: [
        *_VIEW,
        *(
            f"reimbursement.{action}_{model}"
            for model in (
                "policyversion", "benefitrule", "situationadjustment", "publishedmaterial", "otherallowedcase",
                "studentvacation",
            )
            for action in ("add", "change", "delete")
        ),
        "reimbursement.view_paymentbatch",
    ],
}
