"""What each role may do with filings (merged by core.roles.sync_role_groups)."""

from core.models import Role

PERMISSIONS = {
    Role.CLERK: [
        "filings.view_filing",
        "filings.add_filing",
        "filings.change_filing",
        "filings.import_filing",
        "filings.upload_filing",
        "filings.view_uploadbatch",
        "filings.view_filingregionsettings",
    ],
    Role.SUPERVISOR: [
        "filings.view_filing",
        "filings.review_filing",
        "filings.upload_filing",
        "filings.import_filing",
        "filings.view_uploadbatch",
        "filings.view_filingregionsettings",
        "filings.change_filingregionsettings",
    ],
    Role.HOSPITAL: ["filings.view_filing", "filings.add_filing"],
    Role.CLEARING_OFFICER: ["filings.view_filing"],
    Role.ADMINISTRATOR: [
        "filings.view_filing",
        "filings.view_uploadbatch",
        "filings.view_filingregionsettings",
        "filings.add_filingregionsettings",
        "filings.change_filingregionsettings",
    ],
}
