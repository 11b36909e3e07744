"""Reads the pages need, with a constant number of queries per page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

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
            return clock & Q(due_on__lte=self.soon_limit, has_delay_notice=False)
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


def _open_returns():
    from reimbursement.models import PaymentReturn

    return PaymentReturn.objects.open().filter(claim=OuterRef("pk"))


def _unverified_returns():
    from reimbursement.models import PaymentReturn

    return PaymentReturn.objects.unverified().filter(claim=OuterRef("pk"))


def claim_list(*, user) -> QuerySet[Claim]:
    """The list every claim page starts from: scoped to the user, with what the rows show."""
    return (
        Claim.objects.for_user(user)
        .select_related("person", "treatment_region", "intake_by", "region")
        .annotate(has_delay_notice=Exists(_delay_notices()))
    )


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


def deadline_lists(*, user, window: DeadlineWindow, limit: int = 200) -> dict[str, list[Claim]]:
    """Open claims that are overdue, due today, due within 2 working days (one query)."""
    claims = list(
        claim_list(user=user)
        .filter(window.q("overdue") | window.q("due_within"))
        .order_by("due_on", "pk")[:limit]
    )
    result: dict[str, list[Claim]] = {"overdue": [], "due_today": [], "due_soon": []}
    for claim in claims:
        result[window.flag_of(claim)].append(claim)
    return result


#: The statuses the home tiles count whatever the date (the others only when decided or paid this month).
DASHBOARD_OPEN_STATUSES = (Claim.Status.INCOMPLETE, *Claim.CLOCK_STATUSES)


def dashboard_counts(*, user, window: DeadlineWindow) -> dict:
    """The home-page figures of manual reimbursement in one query."""
    month_start = window.today.replace(day=1)
    since = timezone.make_aware(datetime.combine(month_start, time.min))
    # Every figure is about an open claim or one decided or paid this month: read only those
    # (through the region's status, decision-time and payment-date indexes), not a city's years of closed ones.
    claims = Claim.objects.for_user(user).filter(
        Q(status__in=DASHBOARD_OPEN_STATUSES) | Q(decided_at__gte=since) | Q(paid_on__gte=month_start)
    ).annotate(
        has_delay_notice=Exists(_delay_notices()), has_open_return=Exists(_open_returns()),
        has_unverified_return=Exists(_unverified_returns()),
    )
    return claims.aggregate(
        open_returns=Count("pk", filter=Q(status=Claim.Status.APPROVED, has_open_return=True)),
        unverified_returns=Count("pk", filter=Q(status=Claim.Status.APPROVED, has_unverified_return=True)),
        incomplete=Count("pk", filter=Q(status=Claim.Status.INCOMPLETE)),
        accepted=Count("pk", filter=Q(status=Claim.Status.ACCEPTED)),
        returned=Count("pk", filter=Q(status=Claim.Status.ACCEPTED) & ~Q(return_reason="")),
        submitted=Count("pk", filter=Q(status=Claim.Status.SUBMITTED)),
        approved=Count("pk", filter=Q(status=Claim.Status.APPROVED)),
        approved_amount=Sum("fund_payment", filter=Q(status=Claim.Status.APPROVED)),
        payment_notified=Count("pk", filter=Q(status=Claim.Status.PAYMENT_NOTIFIED)),
        paid_this_month=Count("pk", filter=Q(status=Claim.Status.PAID, paid_on__gte=month_start)),
        paid_amount_this_month=Sum("fund_payment", filter=Q(status=Claim.Status.PAID, paid_on__gte=month_start)),
        decided_this_month=Count(
            "pk",
            filter=Q(status__in=[Claim.Status.APPROVED, Claim.Status.PAYMENT_NOTIFIED, Claim.Status.PAID, Claim.Status.REJECTED])
            & Q(decided_at__date__gte=month_start),
        ),
        overdue=Count("pk", filter=window.q("overdue")),
        due_today=Count("pk", filter=window.q("due_today")),
        due_soon=Count("pk", filter=window.q("due_soon")),
        needs_notice=Count("pk", filter=window.q("needs_notice")),
        special=Count("pk", filter=Q(status__in=Claim.CLOCK_STATUSES, special=True)),
    )


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
