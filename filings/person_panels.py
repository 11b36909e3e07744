"""What the person page shows of filings (core.search)."""

from __future__ import annotations

from core.search import PersonPanel
from filings.models import Filing

LIMIT = 50


def person_for_number(*, user, number: str) -> int | None:
    return Filing.objects.for_user(user).filter(number=number).values_list("insured_person_id", flat=True).first()


def panel(*, person, user) -> PersonPanel:
    filings = list(
        Filing.objects.for_user(user).filter(insured_person=person)
        .select_related("destination").order_by("-start_date", "-pk")[: LIMIT + 1]
    )
    return PersonPanel(title="异地就医备案", template="filings/_person_panel.html",
                       context={"filings": filings[:LIMIT], "more": len(filings) > LIMIT}, count=len(filings[:LIMIT]), order=10)
