"""Reads for the cooperation pages: scoped with for_user(), constant query counts, counts in the DB."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cooperation import rules
from cooperation.models import AssistDelay, AssistRequest, Coordination
from core.idcard import id_number_hash
from core.workdays import add_working_days

#: A case is "due soon" when its due date is within this many working days.
DUE_SOON_WORKING_DAYS = 2


@dataclass(frozen=True)
class Window:
    today: date
    soon_limit: date

    @classmethod
    def for_today(cls, today: date | None = None) -> Window:
        today = today or timezone.localdate()
        return cls(today=today, soon_limit=add_working_days(today, DUE_SOON_WORKING_DAYS))

    def flag(self, due_on: date | None) -> str:
        return rules.deadline_flag(due_on, self.today, self.soon_limit)


# --- 费用协查 ------------------------------------------------------------------------------------


def assist_list(*, user) -> QuerySet[AssistRequest]:
    return AssistRequest.objects.for_user(user).select_related("insured_region", "treatment_region", "created_by")


def assist_detail(*, user, pk: int) -> AssistRequest:
    from core.scoping import get_object_for_user

    return get_object_for_user(
        user,
        AssistRequest.objects.select_related("insured_region", "treatment_region", "created_by", "answered_by",
                                             "confirmed_by", "claim"),
        pk=pk,
    )


def assist_due_on(request: AssistRequest) -> date | None:
    """The date that matters now: the answer due while awaiting one, the confirmation due after."""
    if request.status in AssistRequest.ANSWER_STATUSES:
        return request.answer_due
    if request.status == AssistRequest.Status.ANSWERED:
        return request.confirm_due
    return None


def assist_flag_filter(queryset: QuerySet[AssistRequest], flag: str, window: Window) -> QuerySet[AssistRequest]:
    awaiting = Q(status__in=AssistRequest.ANSWER_STATUSES)
    answered = Q(status=AssistRequest.Status.ANSWERED)
    if flag == "overdue":
        return queryset.filter((awaiting & Q(answer_due__lt=window.today)) | (answered & Q(confirm_due__lt=window.today)))
    if flag == "due_soon":
        return queryset.filter(
            (awaiting & Q(answer_due__gte=window.today, answer_due__lte=window.soon_limit))
            | (answered & Q(confirm_due__gte=window.today, confirm_due__lte=window.soon_limit))
        )
    if flag == "late":
        return queryset.filter(late_count__gt=0)
    return queryset


def assist_counts(*, user, window: Window) -> dict[str, int]:
    """Home-page figures for the user's region, one query."""
    region = user.region_code
    scoped = AssistRequest.objects.for_user(user)
    if user.sees_all_regions:
        ours_to_answer = Q(status__in=AssistRequest.ANSWER_STATUSES, cross_province=False)
        ours_to_confirm = Q(status=AssistRequest.Status.ANSWERED)
    else:
        ours_to_answer = Q(status__in=AssistRequest.ANSWER_STATUSES, treatment_region_id=region, cross_province=False)
        ours_to_confirm = Q(status=AssistRequest.Status.ANSWERED, insured_region_id=region)
    return scoped.aggregate(
        to_answer=Count("pk", filter=ours_to_answer),
        to_answer_overdue=Count("pk", filter=ours_to_answer & Q(answer_due__lt=window.today)),
        to_answer_soon=Count(
            "pk", filter=ours_to_answer & Q(answer_due__gte=window.today, answer_due__lte=window.soon_limit)
        ),
        to_confirm=Count("pk", filter=ours_to_confirm),
        to_confirm_overdue=Count("pk", filter=ours_to_confirm & Q(confirm_due__lt=window.today)),
        cross_not_exported=Count(
            "pk",
            filter=Q(cross_province=True, exported_at__isnull=True, status__in=AssistRequest.ANSWER_STATUSES)
            & (Q() if user.sees_all_regions else Q(insured_region_id=region)),
        ),
    )


def assist_period_statistics(*, user, period: str) -> dict[str, int]:
    """完成情况统计 of one period (YYYY-MM): answered in time, still open, and delayed — a request
    that rolled out of this period counts here as late (自动记录至下一期，并记入本期完成情况统计)."""
    scoped = AssistRequest.objects.for_user(user)
    year, month = (int(part) for part in period.split("-"))
    counts = scoped.aggregate(
        answered=Count("pk", filter=Q(answered_on__year=year, answered_on__month=month)),
        open=Count("pk", filter=Q(period=period, status__in=AssistRequest.ANSWER_STATUSES)),
    )
    counts["delayed"] = AssistDelay.objects.filter(period=period, request__in=scoped.values("pk")).count()
    return counts


def assist_findings_for_deduction(*, insured_region: str | None = None, confirmed_from: date | None = None,
                                  confirmed_to: date | None = None) -> QuerySet[AssistRequest]:
    """THE DEDUCTION HOOK (第五十三条): confirmed 核查有误 results not yet booked as a deduction.

    Each row gives what a deduction line against the insured region needs: `insured_region_id`,
    `treatment_region_id`, `settlement_id` (when raised from a settlement record), `total_amount`,
    `irregular_amount` (the amount found irregular, may be None: then the clearing officer decides),
    `finding`, `confirmed_on`, `number`. After booking, call
    `cooperation.services.assist_link_deduction(request=..., reference=..., by=...)`.
    """
    queryset = AssistRequest.objects.filter(
        status=AssistRequest.Status.CONFIRMED, result=AssistRequest.Result.HAS_ISSUE, deduction_reference=""
    ).select_related("insured_region", "treatment_region")
    if insured_region:
        queryset = queryset.filter(insured_region_id=insured_region)
    if confirmed_from:
        queryset = queryset.filter(confirmed_on__gte=confirmed_from)
    if confirmed_to:
        queryset = queryset.filter(confirmed_on__lte=confirmed_to)
    return queryset.order_by("confirmed_on", "pk")


def settlement_candidates(*, user, query: str = "", period: str = "", institution: str = "") -> QuerySet:
    """Imported inpatient settlement records of the user's insured, treated elsewhere, largest first.

    The §6 import format carries no personal identity, so the text query matches the settlement
    id and the institution (ID number and name are searched on 零星报销 claims instead)."""
    from clearing.models import CareType, Settlement

    records = Settlement.objects.filter(care_type=CareType.INPATIENT)
    if not user.sees_all_regions:
        records = records.filter(insured_region=user.region_code)
    query = (query or "").strip()
    if query:
        records = records.filter(Q(settlement_id__icontains=query) | Q(institution__icontains=query))
    if period:
        records = records.filter(period=period)
    if institution:
        records = records.filter(institution__icontains=institution.strip())
    return records.order_by("-total_amount", "settlement_id")


def claim_candidates(*, user, query: str = "") -> QuerySet:
    """零星报销 inpatient claims of the user's region, searchable by ID number, name, number, hospital."""
    from reimbursement.models import CareType, Claim

    claims = Claim.objects.for_user(user).filter(care_type=CareType.INPATIENT).select_related(
        "person", "treatment_region"
    )
    query = (query or "").strip()
    if query:
        claims = claims.filter(
            Q(person__id_number_hash=id_number_hash(query)) | Q(person__name__icontains=query) | Q(number__icontains=query)
            | Q(institution_name__icontains=query)
        )
    return claims.order_by("-total_amount", "-pk")


def assist_initial_from_settlement(settlement) -> dict:
    return {
        "treatment_region": settlement.treatment_region,
        "institution_name": settlement.institution,
        "discharge_date": settlement.settled_on,
        "total_amount": settlement.total_amount,
        "settlement_id": settlement.settlement_id,
    }


def assist_initial_from_claim(claim) -> dict:
    person = claim.person
    return {
        "treatment_region": claim.treatment_region_id,
        "id_number": person.id_number,
        "name": person.name,
        "sex": person.sex,
        "institution_name": claim.institution_name,
        "hospital_number": claim.hospital_number,
        "invoice_number": claim.invoice_numbers,
        "admission_date": claim.admission_date,
        "discharge_date": claim.discharge_date,
        "total_amount": claim.total_amount,
        "claim": claim.pk,
    }


# --- 问题协同 ------------------------------------------------------------------------------------


def coordination_list(*, user) -> QuerySet[Coordination]:
    return Coordination.objects.for_user(user).select_related("requester", "receiver", "requester__region",
                                                              "receiver__region")


def coordination_detail(*, user, pk: int) -> Coordination:
    from core.scoping import get_object_for_user

    return get_object_for_user(
        user,
        Coordination.objects.select_related("requester", "receiver", "created_by", "replied_by", "confirmed_by",
                                            "parent", "extended_by"),
        pk=pk,
    )


def coordination_due_on(coordination: Coordination) -> date | None:
    if coordination.status == Coordination.Status.OPEN:
        return coordination.reply_due
    if coordination.status == Coordination.Status.REPLIED:
        return coordination.deemed_confirmed_on
    return None


def coordination_flag_filter(queryset, flag: str, window: Window):
    open_ = Q(status=Coordination.Status.OPEN)
    if flag == "overdue":
        return queryset.filter(open_ & Q(reply_due__lt=window.today))
    if flag == "due_soon":
        return queryset.filter(open_ & Q(reply_due__gte=window.today, reply_due__lte=window.soon_limit))
    return queryset


def coordination_counts(*, user, window: Window) -> dict[str, int]:
    agency = user.agency_id
    mine_to_reply = Q(status=Coordination.Status.OPEN, receiver_id=agency)
    return Coordination.objects.for_user(user).aggregate(
        to_reply=Count("pk", filter=mine_to_reply, distinct=True),
        to_reply_overdue=Count("pk", filter=mine_to_reply & Q(reply_due__lt=window.today), distinct=True),
        to_reply_soon=Count("pk", filter=mine_to_reply & Q(reply_due__gte=window.today, reply_due__lte=window.soon_limit),
                        distinct=True),
        to_confirm=Count("pk", filter=Q(status=Coordination.Status.REPLIED, requester_id=agency), distinct=True),
        helping=Count("pk", filter=Q(status=Coordination.Status.OPEN, helpers__agency_id=agency), distinct=True),
        disputed=Count("pk", filter=Q(status=Coordination.Status.DISPUTED, requester_id=agency), distinct=True),
    )

