"""Display helpers for reimbursement data."""

from __future__ import annotations

import re


def normalize_bank_account(value: str) -> str:
    """Keep digits only (clerks type accounts with blanks or dashes)."""
    return re.sub(r"[\s\-]", "", value or "")


def mask_bank_account(value: str) -> str:
    """6222021234567891234 -> '6222 **** **** 1234' (first and last four digits only)."""
    digits = normalize_bank_account(value)
    if not digits:
        return ""
    if len(digits) <= 8:
        return "*" * (len(digits) - 4) + digits[-4:] if len(digits) > 4 else "*" * len(digits)
    return f"{digits[:4]} **** **** {digits[-4:]}"


def normalize_invoice_numbers(value: str) -> list[str]:
    """Split on commas, semicolons, blanks and Chinese punctuation; keep order, drop duplicates."""
    parts = re.split(r"[\s,，;；、]+", (value or "").strip())
    seen: list[str] = []
    for part in parts:
        part = part.strip().upper()
        if part and part not in seen:
            seen.append(part)
    return seen
