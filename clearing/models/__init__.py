"""清算与预付金: settlement records, monthly clearing periods and their results,
payments due with the transfers against them, and the yearly advances (预付金).

Amounts are yuan (元, Decimal with two decimals) unless the field says 万元
(whole 万元, as the advance forms 附件2–6 state them).

By purpose: `common`, `settlements`, `periods`, `advances`, `reconciliation`; every model and helper
is importable from `clearing.models` (migrations name `clearing.models.import_upload_to`).
"""

from clearing.models.advances import (  # noqa: F401
    AdjustmentQuerySet,
    AdvanceEntry,
    AdvanceEntryQuerySet,
    AdvancePolicy,
    AdvanceQuerySet,
    AdvanceYear,
    ClearingAdjustment,
    CrossAdvance,
    CrossAllotment,
    EmergencyIncrease,
    EmergencyIncreaseLine,
    ForeignAdvanceEntry,
    ForeignAdvanceEntryQuerySet,
    IntraAdvance,
)
from clearing.models.common import (  # noqa: F401
    DEMO_ID_PREFIX,
    ZERO,
    CareType,
    Scope,
    money_field,
)
from clearing.models.periods import (  # noqa: F401
    ClearingPeriod,
    ClearingPeriodQuerySet,
    ClearingResult,
    PaymentDue,
    PaymentDueQuerySet,
    Transfer,
    TransferQuerySet,
)
from clearing.models.reconciliation import (  # noqa: F401
    ReconciliationCorrection,
    ReconciliationQuerySet,
    ReconciliationResult,
)
from clearing.models.settlements import (  # noqa: F401
    ImportBatch,
    ImportBatchQuerySet,
    Settlement,
    SettlementQuerySet,
    import_upload_to,
)
