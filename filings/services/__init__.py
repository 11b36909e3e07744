"""Filing services: every state change of a filing, with the rules of 江苏 第八–十四条
and 新疆 二(二)–(五), 三(一)–(三).

Each service checks everything first and raises `DomainError` with a message
the clerk can act on; the writes run in one transaction, so a refusal leaves
nothing behind. Activation locks the person's row, so two clerks filing the
same person at once cannot both pass the overlap check.

By purpose: `rules` (dates, regional settings), `validation` (what an application
carries and its checks), `lifecycle` (register, activate, online applications, change,
cancel, materials, expiry), `upload` (the provincial platform), `previews` (import files
waiting for confirmation). Everything is importable from `filings.services`.
"""

from filings.services.lifecycle import (  # noqa: F401
    PersonData,
    _activate,
    _apply_contact_phone,
    _assign_number,
    _check_active,
    _check_commitment_lock,
    _check_something_changes,
    _new_filing,
    filing_activate,
    filing_approve,
    filing_cancel,
    filing_change,
    filing_complete_materials,
    filing_delete_draft,
    filing_register,
    filing_register_walk_in,
    filing_reject,
    filing_submit_online,
    filing_update_draft,
    filings_expire,
)
from filings.services.previews import (  # noqa: F401
    IMPORT_PREVIEW_FOLDER,
    _preview_storage,
    import_preview_remove,
    import_previews_sweep,
)
from filings.services.rules import (  # noqa: F401
    EARLIEST_DAY,
    LATEST_DAY,
    MAX_DAYS_AHEAD,
    _describe,
    _fmt,
    _today,
    add_months,
    commitment_unlock_date,
    date_out_of_range,
    emergency_needs_no_filing,
    minimum_end_date,
    open_filings_of,
    region_settings_save,
    settings_for,
)
from filings.services.upload import (  # noqa: F401
    UploadResult,
    _export_batch,
    province_known,
    read_upload_results,
    upload_export,
    upload_result_apply,
)
from filings.services.validation import (  # noqa: F401
    FilingData,
    _check_against_active,
    _check_person_region,
    _dates_overlap,
    _destinations_overlap,
    _lock_person,
    _referral_institution_problem,
    _validate,
    _validate_proxy,
    _validate_retroactive,
    foreign_person_message,
    own_region_of,
)
