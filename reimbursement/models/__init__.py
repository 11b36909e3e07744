"""零星报销: claims, their materials and notices, benefit policies, payment batches.

By purpose: `common`, `policies`, `reference`, `claims`, `payments`; every model and helper is
importable from `reimbursement.models`.
"""

from reimbursement.models.claims import (  # noqa: F401
    BenefitUsage,
    Claim,
    ClaimCounter,
    ClaimMaterial,
    ClaimNotice,
    ClaimQuerySet,
)
from reimbursement.models.common import (  # noqa: F401
    HALF_CENT,
    MONEY,
    PERCENT_VALIDATORS,
    ZERO,
    AdjustmentSituation,
    CareType,
    HospitalLevel,
    Scope,
    SettlementFailure,
    Situation,
)
from reimbursement.models.payments import (  # noqa: F401
    PaymentBatch,
    PaymentBatchQuerySet,
    PaymentReturn,
    PaymentReturnQuerySet,
)
from reimbursement.models.policies import (  # noqa: F401
    BenefitRule,
    PolicyVersion,
    PolicyVersionQuerySet,
    SituationAdjustment,
)
from reimbursement.models.reference import (  # noqa: F401
    OtherAllowedCase,
    PublishedMaterial,
    StudentVacation,
)

__all__ = [
    "AdjustmentSituation",
    "BenefitRule",
    "BenefitUsage",
    "CareType",
    "Claim",
    "ClaimCounter",
    "ClaimMaterial",
    "ClaimNotice",
    "HospitalLevel",
    "OtherAllowedCase",
    "PaymentBatch",
    "PaymentReturn",
    "PolicyVersion",
    "PublishedMaterial",
    "Scope",
    "SettlementFailure",
    "Situation",
    "StudentVacation",
]
