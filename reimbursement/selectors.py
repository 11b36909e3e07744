"""Reads the pages need, with a constant number of queries per page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from core.figures import kept_figures
from core.workdays import add_working_days
from reimbursement.models import Claim, ClaimMaterial, ClaimNotice, PaymentBatch


@dataclass(frozen=True)
class DeadlineWindow:
    """Today, and the last day counted as "due within 2 working days"."""

    today: date
    soon_limit: date

    @classmethod
    def for_today(cls, today: date | None = None) -> DeadlineWindow:
        today = today or timezone.localdate()
        return cls(today=today, soon_limit=add_working_days(today, 2).as_date())

    def q(self, flag: str) -> Q:
        """Claims with the clock running whose deadline is in the given state."""
        clock = Q(status__in=Claim.CLOCK_STATUSES)
        if flag == "overdue":
            return clock & Q(due_on__lt=self.today)
        if flag == "due_today":
            return clock & Q(due_on=self.today)
        if flag == "due_soon":
            return clock & Q(due_on__gt=self.today, due_on__lte=self.soon_limit)
        if flag == "due_within":  # today or the next 2 working days
            return clock & Q(due_on__gte=self.today, due_on__lte=self.soon_limit)
        if flag == "needs_notice":
            return clock & Q(due_on__lte=self.soon_limit) & ~Exists(_delay_notices())
        raise ValueError(flag)

    def flag_of(self, claim: Claim) -> str:
        if not claim.clock_running or claim.due_on is None:
            return ""
        if claim.due_on < self.today:
            return "overdue"
        if claim.due_on == self.today:
            return "due_today"
        if claim.due_on <= self.soon_limit:
            return "due_soon"
        return "on_track"


def _delay_notices():
    return ClaimNotice.objects.filter(claim=OuterRef("pk"), kind=ClaimNotice.Kind.DELAY)


def claim_list(*, user) -> QuerySet[Claim]:
    """The list every claim page starts from: scoped to the user, with what the rows show
    (whether the applicant was told of a delay: mark_delay_notices, for the rows shown)."""
    return Claim.objects.for_user(user).select_related("person", "treatment_region", "intake_by", "region")


def mark_delay_notices(claims: Iterable[Claim]) -> None:
    """Set `has_delay_notice` on the claims a page shows, in one query. As an EXISTS in the list's
    own query PostgreSQL planned it as a hash of every delay notice of the city, built for each page
    (0.7 ms at 100k claims, growing with the notices)."""
    claims = list(claims)
    told = set(
        ClaimNotice.objects.filter(claim_id__in=[claim.pk for claim in claims], kind=ClaimNotice.Kind.DELAY)
        .values_list("claim_id", flat=True)
    ) if claims else set()
    for claim in claims:
        claim.has_delay_notice = claim.pk in told


#: What every queue row shows of a claim (with the person's name).
QUEUE_ROW_FIELDS = ("number", "status", "region_id", "care_type", "fund_payment", "due_on", "intake_by_id",
                    "person__name")


def queue_rows(queryset: QuerySet[Claim], *fields: str, related: tuple[str, ...] = ("person",)) -> QuerySet[Claim]:
    """A queue's rows with the columns its page shows only (a claim has some sixty, and each is
    loaded and converted for every row): `fields` are the page's own beyond QUEUE_ROW_FIELDS."""
    return queryset.select_related(None).select_related(*related).only(*QUEUE_ROW_FIELDS, *fields)


#: What a row of the claims list shows beyond a queue row's columns.
LIST_ROW_FIELDS = ("intake_at", "rescue", "institution_name", "total_amount", "finished_on", "special", "return_reason",
                   "person__id_number", "treatment_region__name", "intake_by__first_name", "intake_by__last_name",
                   "intake_by__full_name")


def list_rows(queryset: QuerySet[Claim]) -> QuerySet[Claim]:
    """The claims list's rows (templates/reimbursement/claim_list.html) with their columns only."""
    return queue_rows(queryset, *LIST_ROW_FIELDS, related=("person", "treatment_region", "intake_by"))


def claim_detail(*, user, pk: int) -> Claim:
    from core.scoping import get_object_for_user

    queryset = Claim.objects.select_related(
        "person",
        "person__insured_region",
        "region",
        "treatment_region",
        "institution",
        "filing",
        "filing__destination",
        "other_case",
        "policy",
        "intake_by",
        "submitted_by",
        "decided_by",
        "special_by",
        "paid_by",
        "calculated_by",
        "payment_batch",
    ).prefetch_related(
        Prefetch("materials", queryset=ClaimMaterial.objects.select_related("received_by").order_by("sort_order", "pk")),
        Prefetch("notices", queryset=ClaimNotice.objects.select_related("issued_by", "document").order_by("created_at", "pk")),
    )
    return get_object_for_user(user, queryset, pk=pk)


@dataclass(frozen=True)
class DeadlineSection:
    """One part of the deadlines page: the first claims by due date and how many there are in all."""

    flag: str
    claims: list[Claim]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.claims)


DEADLINE_SECTIONS = ("overdue", "due_today", "due_soon")


def deadline_lists(*, user, window: DeadlineWindow, per_section: int = 25) -> dict[str, DeadlineSection]:
    """Open claims that are overdue, due today, due within 2 working days: each section's first
    `per_section` by due date, and its true total (counted from the index, like the home figures).
    The whole of a section is the claims list filtered by that deadline, which pages."""
    totals = dashboard_counts(user=user, window=window, only=DEADLINE_SECTIONS)
    ordered = queue_rows(claim_list(user=user), *DEADLINE_ROW_FIELDS, related=("person", "intake_by")).order_by("due_on", "pk")
    sections = {
        flag: DeadlineSection(flag=flag, claims=list(ordered.filter(window.q(flag))[:per_section]), total=totals[flag])
        for flag in DEADLINE_SECTIONS
    }
    mark_delay_notices(claim for section in sections.values() for claim in section.claims)
    return sections


#: What a row of the deadlines page shows beyond a queue row's columns (reimbursement/_claim_table.html).
DEADLINE_ROW_FIELDS = ("total_amount", "special", "return_reason", "person__id_number", "intake_by__first_name",
                       "intake_by__last_name", "intake_by__full_name")


#: The home figures, and the ones each role's panel shows (reimbursement.dashboard).
DASHBOARD_FIGURES = (
    "incomplete", "accepted", "submitted", "approved", "payment_notified", "overdue", "due_today", "due_soon",
    "needs_notice", "returned", "approved_amount", "paid_this_month", "paid_amount_this_month",
    "decided_this_month", "open_returns", "unverified_returns",
)
_DEADLINE_FIGURES = ("overdue", "due_today", "due_soon", "needs_notice")


def dashboard_counts(*, user, window: DeadlineWindow, only: tuple[str, ...] | set[str] = DASHBOARD_FIGURES) -> dict:
    """The home-page figures of manual reimbursement (`only` those a user's panels show) in one
    query, whatever the volume: each figure is a count of its own index range (`core.figures`,
    indexes region/status/due_on and the partial ones of the model), read without the table and
    without testing every filter on every open claim. "临期未告知" is the claims due by the soon
    limit less those of them already told of the delay, counted from the delay notices.
    """
    from core.figures import figures
    from reimbursement.models import PaymentReturn

    wanted = set(only)
    if "needs_notice" in wanted:
        wanted |= {"overdue", "due_today", "due_soon"}
    month_start = window.today.replace(day=1)
    since = timezone.make_aware(datetime.combine(month_start, time.min))
    claims = Claim.objects.for_user(user)
    approved = claims.filter(status=Claim.Status.APPROVED)
    paid = claims.filter(status=Claim.Status.PAID, paid_on__gte=month_start)
    parts = {
        "incomplete": lambda: claims.filter(status=Claim.Status.INCOMPLETE),
        "accepted": lambda: claims.filter(status=Claim.Status.ACCEPTED),
        "submitted": lambda: claims.filter(status=Claim.Status.SUBMITTED),
        "approved": lambda: approved,
        "payment_notified": lambda: claims.filter(status=Claim.Status.PAYMENT_NOTIFIED),
        "overdue": lambda: claims.filter(window.q("overdue")),
        "due_today": lambda: claims.filter(window.q("due_today")),
        "due_soon": lambda: claims.filter(window.q("due_soon")),
        "returned": lambda: claims.filter(status=Claim.Status.ACCEPTED).exclude(return_reason=""),
        "approved_amount": lambda: (approved, "fund_payment"),
        "paid_this_month": lambda: paid,
        "paid_amount_this_month": lambda: (paid, "fund_payment"),
        "decided_this_month": lambda: claims.filter(status__in=DECIDED_STATUSES, decided_at__gte=since),
        # the delay notices (few) matched to the claims due, not a look-up per claim due
        "needs_notice": lambda: ClaimNotice.objects.filter(
            kind=ClaimNotice.Kind.DELAY, claim__in=claims.filter(window.q("overdue") | window.q("due_within"))
        ).values("claim_id").distinct(),
        "open_returns": lambda: approved.filter(pk__in=PaymentReturn.objects.open().values("claim_id")),
        "unverified_returns": lambda: approved.filter(pk__in=PaymentReturn.objects.unverified().values("claim_id")),
    }
    counts = figures(**{name: part() for name, part in parts.items() if name in wanted})
    if "needs_notice" in wanted:  # due by the soon limit, less those already told of the delay
        counts["needs_notice"] = counts["overdue"] + counts["due_today"] + counts["due_soon"] - counts["needs_notice"]
    return counts


#: A decision was taken on these (the home figure "本月已审批").
DECIDED_STATUSES = (Claim.Status.APPROVED, Claim.Status.PAYMENT_NOTIFIED, Claim.Status.PAID, Claim.Status.REJECTED)


def awaiting_approval(*, user) -> QuerySet[Claim]:
    """The supervisor's queue: submitted claims, the earliest deadline first."""
    return claim_list(user=user).filter(status=Claim.Status.SUBMITTED).order_by("due_on", "pk")


def awaiting_approval_count(*, user) -> int:
    """The approvals queue's true total, kept like the home figures until a claim of the region
    changes (core.figures), not a COUNT of the city's submitted claims on every visit."""
    return kept_figures("reimbursement", user=user, variant="approvals-waiting", count=awaiting_approval(user=user).count)


def awaiting_payment_totals(*, user) -> dict:
    """How many approved claims wait for a payment notice, and their fund payment: one aggregate
    (COUNT(*), not COUNT(id): the partial index claim_approved_amount then answers without the
    table), kept like the home figures until a claim of the region changes (core.figures)."""
    waiting = approved_for_payment(user=user).order_by()
    totals = kept_figures("reimbursement", user=user, variant="payments-waiting",
                          count=lambda: waiting.aggregate(count=Count("*"), amount=Sum("fund_payment")))
    return {"count": totals["count"], "amount": totals["amount"] or Decimal("0.00")}


def approved_for_payment(*, user) -> QuerySet[Claim]:
    """Approved claims waiting for a payment notice (a claim with nothing to pay is closed at approval)."""
    from reimbursement.models import PaymentReturn

    returns = PaymentReturn.objects.filter(claim=OuterRef("pk"))
    return (
        claim_list(user=user)
        .filter(status=Claim.Status.APPROVED, fund_payment__gt=0)
        .annotate(
            open_return=Exists(returns.open()),
            corrected_return=Exists(returns.filter(resolved_at__isnull=False, account_changed=True)),
            unverified_return=Exists(returns.unverified()),
            confirmed_return=Exists(returns.filter(resolved_at__isnull=False, account_changed=False)),
        )
        .order_by("decided_at", "pk")
    )


def payment_batches(*, user) -> QuerySet[PaymentBatch]:
    return PaymentBatch.objects.for_user(user).select_related("region", "created_by", "job")


def person_year_usage(*, person_id: int, year: int, exclude_claim_id: int | None = None) -> dict[str, dict[str, Decimal]]:
    """What a person's other decided claims used this year, by care type (detail page)."""
    from reimbursement.benefits import COUNTED_STATUSES
    from reimbursement.models import BenefitUsage

    rows = (
        BenefitUsage.objects.filter(claim__person_id=person_id, year=year, claim__status__in=COUNTED_STATUSES)
        .exclude(claim_id=exclude_claim_id)
        .values("care_type")
        .annotate(deductible=Sum("deductible_applied"), fund=Sum("fund_payment"), claims=Count("claim"))
    )
    return {row["care_type"]: row for row in rows}
