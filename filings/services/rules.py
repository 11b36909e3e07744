"""Small rules every filing service uses: dates, regional settings, how a filing is named in messages."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import log_action
from core.jurisdictions import rules_for
from core.models import AuditLog, InsuredPerson, Region
from filings.models import (
    Filing,
    FilingRegionSettings,
)

#: How far ahead of the application a filing may start (catches mistyped years).
MAX_DAYS_AHEAD = 366
#: Dates outside these years are typing mistakes (and would overflow date arithmetic).
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2099, 12, 31)


def emergency_needs_no_filing(region=None, *, on: date | None = None) -> str:
    """Emergency treatment is deemed filed (视同已备案, 江苏 第八条(五)): no filing is made for it.
    The article is the province's own, where its rules have one."""
    article = rules_for(region, on=on).article("emergency_deemed")
    return (
        f"异地急诊抢救人员视同已备案{f'（{article}）' if article else ''}，无需办理备案：急诊抢救费用可在就医地直接结算，"
        "未能直接结算的凭急诊诊断证明申请零星报销。急诊抢救后需继续在异地治疗的，请办理异地转诊或其他临时外出就医备案。"
    )


def date_out_of_range(label: str, day: date | None) -> str:
    """The message for a date no filing can have ("" when the date is plausible)."""
    if day is None or EARLIEST_DAY <= day <= LATEST_DAY:
        return ""
    return f"{label} {_fmt(day)} 超出可办理的范围（{EARLIEST_DAY.year}—{LATEST_DAY.year}年），请核对年份。"


# --- Small date rules --------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def minimum_end_date(start: date, months: int) -> date:
    """“有效期不少于6个月”: from 2026-03-01 the filing must run at least to 2026-08-31."""
    return add_months(start, months) - timedelta(days=1)


def settings_for(region: Region | str) -> FilingRegionSettings:
    """The region's filing settings; the defaults (unsaved) where none were set."""
    code = region.code if isinstance(region, Region) else region
    found = FilingRegionSettings.objects.filter(region_id=code).first()
    return found or FilingRegionSettings(region_id=code)


def commitment_unlock_date(filing: Filing) -> date:
    """When a commitment-letter filing may be changed or cancelled: the lock runs from
    the day the commitment was made (carried over by changes), not from the start
    date, which a 补办 may set far back."""
    months = settings_for(filing.insured_region_id).commitment_lock_months
    return add_months(filing.commitment_on or filing.applied_on, months)


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _fmt(day: date | None) -> str:
    return f"{day:%Y-%m-%d}" if day else ""


def _describe(filing: Filing) -> str:
    """“备案 3201002603150000012（异地长期居住人员，就医地 北京市，2026-03-15 起长期有效）”"""
    kind = "待审核的线上申请" if filing.status == Filing.Status.PENDING_REVIEW else "备案"
    return (
        f"{kind} {filing.number}（{filing.get_person_type_display()}，就医地 {filing.destination.name}，"
        f"{filing.validity_text}）"
    )



# --- Regional settings ------------------------------------------------------------------


@transaction.atomic
def region_settings_save(*, instance: FilingRegionSettings, by) -> FilingRegionSettings:
    instance.updated_by = by
    instance.full_clean()
    instance.save()
    log_action(action=AuditLog.Action.CHANGE, user=by, obj=instance, message="修改备案地区设置")
    return instance


def open_filings_of(person: InsuredPerson) -> list[Filing]:
    return list(
        Filing.objects.filter(insured_person=person)
        .filter(Q(status__in=[Filing.Status.ACTIVE, Filing.Status.DRAFT, Filing.Status.PENDING_REVIEW]))
        .select_related("destination")
        .order_by("-start_date")
    )
