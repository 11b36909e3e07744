"""Clearing services: one function per state change (keyword-only, typed).

Views, commands, jobs and the demo all call these. Each checks the current
state, raises DomainError with a message a clearing officer can act on, writes
inside one transaction and leaves an audit record.

Modules by purpose: `periods` (a month's life), `computation` (the monthly
clearing), `issuing` (下达 its notices), `payments` (到账, 先行支付), `advances`
(the yearly 预付金), `advance_usage` (使用率, 紧急调增), `imports` (uploaded files);
`common` holds what they share. Callers import from here.
"""

from .advance_usage import (
    UsageRow,
    cross_advance_totals,
    emergency_increase_create,
    usage_by_province,
    usage_intra_by_city,
)
from .advances import (
    advance_policy_for,
    advance_year,
    advances_carry_over,
    advances_issue_notices,
    advances_regenerate_notices,
    city_net_by_month,
    cross_advances_compute,
    cross_allotments_save,
    cross_weights,
    intra_advances_compute,
    last_year_status,
    parse_allotment_rows,
)
from .common import areas, home_cities, home_city_codes, notice_key
from .computation import clearing_compute, clearing_start_compute, compute_cells
from .imports import (
    import_batch_apply_report,
    import_batch_create,
    import_batch_fail,
    import_batch_start,
    import_batches_fail_lost_jobs,
)
from .issuing import clearing_issue_notices, clearing_regenerate_notices
from .payments import advance_balance, advances_cover_overdue, payment_cover_with_advance, transfer_record
from .periods import (
    period_close,
    period_close_data,
    period_get_or_create,
    period_register_import,
    period_reopen,
    period_yield_demo,
)

__all__ = [
    "UsageRow",
    "advance_balance",
    "advance_policy_for",
    "advance_year",
    "advances_carry_over",
    "advances_cover_overdue",
    "advances_issue_notices",
    "advances_regenerate_notices",
    "areas",
    "city_net_by_month",
    "clearing_compute",
    "clearing_issue_notices",
    "clearing_regenerate_notices",
    "clearing_start_compute",
    "compute_cells",
    "cross_advance_totals",
    "cross_advances_compute",
    "cross_allotments_save",
    "cross_weights",
    "emergency_increase_create",
    "home_cities",
    "home_city_codes",
    "import_batch_apply_report",
    "import_batch_create",
    "import_batch_fail",
    "import_batch_start",
    "import_batches_fail_lost_jobs",
    "intra_advances_compute",
    "last_year_status",
    "notice_key",
    "parse_allotment_rows",
    "payment_cover_with_advance",
    "period_close",
    "period_close_data",
    "period_get_or_create",
    "period_register_import",
    "period_reopen",
    "period_yield_demo",
    "transfer_record",
    "usage_by_province",
    "usage_intra_by_city",
]
