"""What the person page shows of 协查 and 问题协同 (core.search)."""

from __future__ import annotations

from cooperation.models import AssistRequest, Coordination
from core.search import PersonPanel

LIMIT = 50


def panel(*, person, user) -> PersonPanel:
    assists = list(AssistRequest.objects.for_user(user).filter(id_number_hash=person.id_number_hash)
                   .select_related("treatment_region").order_by("-pk")[:LIMIT])
    issues = list(Coordination.objects.for_user(user).filter(person_id_number_hash=person.id_number_hash)
                  .order_by("-pk")[:LIMIT])
    return PersonPanel(title="费用协查与问题协同", template="cooperation/_person_panel.html",
                       context={"assists": assists, "issues": issues}, count=len(assists) + len(issues), order=30)
