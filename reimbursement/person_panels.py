"""What the person page shows of 零星报销 claims (core.search)."""

from __future__ import annotations

from core.search import PersonPanel
from reimbursement.models import Claim

LIMIT = 50


def person_for_number(*, user, number: str) -> int | None:
    return Claim.objects.for_user(user).filter(number=number).values_list("person_id", flat=True).first()


def panel(*, person, user) -> PersonPanel:
    claims = list(
        Claim.objects.for_user(user).filter(person=person)
        .select_related("treatment_region").order_by("-received_on", "-pk")[: LIMIT + 1]
    )
    return PersonPanel(title="零星报销", template="reimbursement/_person_panel.html",
                       context={"claims": claims[:LIMIT], "more": len(claims) > LIMIT}, count=len(claims[:LIMIT]), order=20)
