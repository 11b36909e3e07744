"""The header's search and the person page: everything the agency holds on one insured person."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from core.decorators import role_required
from core.models import InsuredPerson
from core.scoping import get_object_for_user
from core.search import SEARCH_ROLES, person_panels, search_people


@role_required(*SEARCH_ROLES)
@require_GET
def search(request):
    result = search_people(user=request.user, query=request.GET.get("q", ""))
    if len(result.persons) == 1 and not result.problem:
        return redirect("person_detail", pk=result.persons[0].pk)
    return render(request, "core/search.html", {"result": result})


@role_required(*SEARCH_ROLES)
@require_GET
def person_detail(request, pk: int):
    person = get_object_for_user(request.user, InsuredPerson.objects.select_related("insured_region"), pk=pk)
    history = list(person.history.select_related("history_user").order_by("-history_date")[:20])
    panels = [
        {"title": panel.title, "count": panel.count, "html": render_to_string(panel.template, panel.context, request)}
        for panel in person_panels(person=person, user=request.user)
    ]
    return render(request, "core/person_detail.html", {"person": person, "panels": panels, "person_history": history})
