"""Reads of filings: the coverage query reimbursement uses, and what the pages list.

`filing_check()` is the public contract with the reimbursement app: given a
person, a date (or an admission date) and where they were treated, was the
person filed, deemed filed (emergency), filed late (补办) or not filed, and
under which filing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.jurisdictions import rules_for
from core.models import InsuredPerson, Region, province_code_of
from filings.models import (
    Basis,
    Filing,
    FilingStatus,
    PersonGroup,
    PersonType,
    UploadStatus,
)

__all__ = [
    "FilingCheck",
    "FilingStatus",
    "PersonGroup",
    "PersonType",
    "filing_check",
    "filings_covering",
]


@dataclass(frozen=True)
class FilingCheck:
    status: str  # a FilingStatus value
    filing: Filing | None  # the filing that covers the case (None for not filed / deemed filed without one)
    message: str  # Chinese explanation for the clerk

    @property
    def is_covered(self) -> bool:
        """Filed, filed late or deemed filed: anything but NOT_FILED."""
        return self.status != FilingStatus.NOT_FILED

    @property
    def status_label(self) -> str:
        return FilingStatus(self.status).label


def filings_covering(*, person: InsuredPerson, day: date, treatment_region: Region | str) -> QuerySet[Filing]:
    """Filings of `person` valid on `day` whose destination includes `treatment_region`:
    the region itself, or the whole province the region belongs to."""
    code = treatment_region.code if isinstance(treatment_region, Region) else treatment_region
    # GB/T 2260: NN0000 is always the province, so the set is "the region or its province".
    destinations = {code, province_code_of(code)}
    return (
        Filing.objects.valid_on(day)
        .filter(insured_person=person, destination_id__in=destinations)
        .select_related("destination", "referring_institution")
    )


def _is_late(filing: Filing, day: date) -> bool:
    """A 补办 filing covers `day` late when the day came before the 补办 was made."""
    return filing.retroactive and day < filing.applied_on


def _preference(filing: Filing, day: date) -> tuple:
    # Prefer an in-time filing over a late one, long-term over temporary (the
    # better benefit), the more specific destination (a city over its province),
    # then the most recent.
    return (
        _is_late(filing, day),
        filing.person_group != PersonGroup.LONG_TERM,
        filing.destination.is_province,
        -filing.start_date.toordinal(),
        -(filing.pk or 0),
    )


def filing_check(
    *,
    person: InsuredPerson,
    on_date: date,
    treatment_region: Region,
    admission_date: date | None = None,
    emergency: bool = False,
) -> FilingCheck:
    """Was `person` filed for a treatment in `treatment_region`?

    `on_date` is the visit or discharge date. With `admission_date`, a filing
    valid on the day of admission covers the whole stay even if it ends before
    discharge (江苏 第十三条). A filing counts when it was valid on that day,
    even if it was changed, cancelled or expired later; drafts, applications
    awaiting review and rejected applications never count. A 补办 filing covers
    the days before it was made as LATE_FILED (新疆 二(四)); an emergency
    treatment without a covering filing is DEEMED_FILED (江苏 第八条(五)).
    """
    day = admission_date or on_date
    region_name = treatment_region.name
    candidates = list(filings_covering(person=person, day=day, treatment_region=treatment_region))
    if candidates:
        filing = min(candidates, key=lambda f: _preference(f, day))
        status = FilingStatus.LATE_FILED if _is_late(filing, day) else FilingStatus.FILED
        return FilingCheck(
            status=status, filing=filing, message=_covered_message(filing, status, day, admission_date, on_date)
        )
    when = f"入院日期 {day:%Y-%m-%d}" if admission_date else f"{day:%Y-%m-%d}"
    if emergency:
        return FilingCheck(
            status=FilingStatus.DEEMED_FILED,
            filing=None,
            message=f"视同已备案：{when} 在{region_name}急诊抢救，异地急诊抢救人员视同已备案（无需备案手续）。",
        )
    return FilingCheck(
        status=FilingStatus.NOT_FILED,
        filing=None,
        message=f"未备案：{when} 没有覆盖{region_name}的有效异地就医备案。{_nearest_hint(person, day, treatment_region)}",
    )


def _covered_message(filing: Filing, status: str, day: date, admission_date: date | None, on_date: date) -> str:
    label = "补办备案" if status == FilingStatus.LATE_FILED else "已备案"
    group = "长期异地居住" if filing.is_long_term else "临时外出就医"
    parts = [
        f"{label}：{group}（{filing.get_person_type_display()}），备案地 {filing.destination.name}，{filing.validity_text}",
        f"备案编号 {filing.number}",
    ]
    if filing.status != Filing.Status.ACTIVE:
        parts.append(f"该备案现为“{filing.get_status_display()}”，但在{day:%Y-%m-%d}有效")
    last_day = filing.last_valid_day
    if admission_date is not None and last_day is not None and last_day < on_date:
        # Only a filing that ended before the discharge needs saying (江苏 第十三条).
        cited = rules_for(filing.insured_region_id, on=on_date).cited("admitted_while_valid")
        parts.append(f"备案有效期至 {last_day:%Y-%m-%d}（出院前已届满），入院时有效，整个住院期间按已备案结算{cited}")
    if status == FilingStatus.LATE_FILED:
        parts.append(f"补办日期 {filing.applied_on:%Y-%m-%d}")
        if filing.manual_reimbursement_eligible:
            parts.append("出院自费结算后补办，可申请手工报销")
    if filing.is_commitment and filing.materials_completed_on is None:
        parts.append("承诺制备案，证明材料尚未补齐")
    return "；".join(parts) + "。"


def _nearest_hint(person: InsuredPerson, day: date, region: Region) -> str:
    """Tell the clerk about a filing that nearly covers the case (wrong date or place)."""
    other = (
        Filing.objects.counting()
        .filter(insured_person=person)
        .select_related("destination")
        .order_by("-start_date")
        .first()
    )
    if other is None:
        return "该人员没有任何有效或历史备案记录。"
    if other.covers_day(day):
        return f"该人员当日的备案（{other.number}）备案地为{other.destination.name}，不含{region.name}。"
    return f"该人员最近一次备案 {other.number}（{other.destination.name}，{other.validity_text}）当日不在有效期内。"


# --- Lists and counts for the pages ----------------------------------------------


def filing_list(*, user) -> QuerySet[Filing]:
    """The list every filing page starts from: scoped to the user, with what rows show."""
    return Filing.objects.for_user(user).select_related(
        "insured_person", "destination", "insured_region", "created_by", "referring_institution"
    )


_MASKED = re.compile(r"(\d{6})[*＊]{4,12}(\d{3}[\dX])")


def filing_search(*, user, query: str) -> QuerySet[Filing]:
    """By ID number (full or its last digits) or by name."""
    from core.idcard import normalize_id_number
    from core.search import list_search

    text = (query or "").strip()
    filings = filing_list(user=user)
    if not text:
        return filings
    number = normalize_id_number(text)
    masked = _MASKED.fullmatch(number)
    if masked:  # 320104********1232, as the lists show it
        prefix, suffix = masked.groups()
        return filings.filter(insured_person__in=InsuredPerson.objects.with_id_tail(suffix, prefix=prefix).values("pk"))
    # Filing numbers have a trigram index (migration 0012).
    return list_search(filings, text, person="insured_person", numbers=("number",))


def queue_rows(queryset: QuerySet[Filing], *related: str) -> QuerySet[Filing]:
    """A queue's rows joined only to what its page shows (the person, the destination, and `related`):
    the list's five joins cost PostgreSQL more to plan (3.6 ms at a big city's statistics) than
    to run."""
    return queryset.select_related(None).select_related("insured_person", "destination", *related)


def commitment_due(*, user, today: date | None = None, within_days: int = 30) -> QuerySet[Filing]:
    """Commitment-letter filings whose materials are overdue or due within `within_days`."""
    today = today or timezone.localdate()
    return (
        filing_list(user=user)
        .commitment_open()
        .filter(materials_due_on__lte=today + timedelta(days=within_days))
        .order_by("materials_due_on", "pk")
    )


def not_uploaded(*, user) -> QuerySet[Filing]:
    return filing_list(user=user).filter(upload_status=UploadStatus.PENDING).order_by("upload_pending_since", "pk")


def pending_review(*, user) -> QuerySet[Filing]:
    return filing_list(user=user).filter(status=Filing.Status.PENDING_REVIEW).order_by("review_due_on", "pk")


def dashboard_counts(*, user, today: date | None = None) -> dict[str, int]:
    """The home page's figures in one query: each figure through the (partial) index matching it
    (`core.figures`), so a city's years of filings are never read row by row."""
    from core.figures import figures

    today = today or timezone.localdate()
    start_of_day = timezone.make_aware(datetime.combine(today, time.min))
    filings = Filing.objects.for_user(user)
    pending = filings.filter(status=Filing.Status.PENDING_REVIEW)
    not_uploaded = filings.filter(upload_status=UploadStatus.PENDING)
    commitment = filings.filter(
        basis=Basis.COMMITMENT,
        materials_completed_on__isnull=True,
        status__in=[Filing.Status.ACTIVE, Filing.Status.PENDING_REVIEW, Filing.Status.DRAFT],
    )
    counts = figures(
        active=filings.filter(status=Filing.Status.ACTIVE),
        today_new=filings.filter(activated_at__gte=start_of_day),
        drafts=filings.filter(status=Filing.Status.DRAFT),
        pending_review=pending,
        # overdue = all less those still in time: the backlog is read once, not twice
        review_in_time=pending.filter(Q(review_due_on__gte=today) | Q(review_due_on__isnull=True)),
        not_uploaded=not_uploaded,
        upload_in_time=not_uploaded.filter(Q(upload_pending_since__gte=start_of_day) | Q(upload_pending_since__isnull=True)),
        materials_due=commitment.filter(materials_due_on__gte=today, materials_due_on__lte=today + timedelta(days=30)),
        materials_overdue=commitment.filter(materials_due_on__lt=today),
        expiring=filings.filter(
            status=Filing.Status.ACTIVE, end_date__gte=today, end_date__lte=today + timedelta(days=30)
        ),
    )
    counts["review_overdue"] = counts["pending_review"] - counts.pop("review_in_time")
    counts["upload_overdue"] = counts["not_uploaded"] - counts.pop("upload_in_time")
    return counts
