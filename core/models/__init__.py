from .audit import AuditChainCheck, AuditLog
from .calendar import CalendarDay, CalendarYear
from .jobs import Document, Job
from .people import InsuranceStatus, InsuranceType, InsuredPerson, Sex
from .regions import Agency, Institution, Region, province_code_of
from .staff import PasswordHistory, Role, User

__all__ = [
    "Agency",
    "AuditChainCheck",
    "AuditLog",
    "CalendarDay",
    "CalendarYear",
    "Document",
    "InsuranceStatus",
    "InsuranceType",
    "Institution",
    "InsuredPerson",
    "Job",
    "PasswordHistory",
    "Region",
    "Role",
    "Sex",
    "User",
    "province_code_of",
]
