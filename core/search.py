"""The header's search box: one query (an ID number, a name, a filing or claim number) finds
the insured person, within what the user may see.

Each app may add what it knows of a person to the person page: a module `<app>.person_panels`
with `panel(*, person, user) -> PersonPanel | None` (filings, claims, 协查/协同 …).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from core.discovery import app_modules
from core.idcard import is_id_tail, is_whole_id_number, normalize_id_number, parse_id_number
from core.models import InsuredPerson, Role

SEARCH_ROLES = (Role.CLERK, Role.SUPERVISOR, Role.FINANCE)  # 三员分立: no administrator reads persons
NAME_RESULTS = 50
_NUMBER = re.compile(r"^[A-Z]{1,4}\d{6,}$")
_ID_LIKE = re.compile(r"^\d{17}[\dXx]$")


@dataclass
class SearchResult:
    query: str
    persons: list[InsuredPerson] = field(default_factory=list)
    problem: str = ""
    truncated: bool = False


@dataclass
class PersonPanel:
    title: str
    template: str
    context: dict[str, Any]
    count: int = 0
    order: int = 50


def persons_named(text: str) -> QuerySet[InsuredPerson]:
    """Persons whose name holds `text`, in the forms the name's trigram index serves on PostgreSQL
    (core migration 0016): three characters or more anywhere in the name; one or two (a trigram
    needs three, and 张伟 is a whole name) at its start. Case-insensitive, for names in Latin letters."""
    text = text.strip()
    if len(text) >= 3:
        return InsuredPerson.objects.filter(name__icontains=text)
    return InsuredPerson.objects.filter(name__istartswith=text)


def is_name_query(text: str) -> bool:
    """Claim, filing and invoice numbers and ID numbers are ASCII: a query with Chinese in it
    can only be a name, and is searched among names alone (not OR-ed with number scans)."""
    return bool(text.strip()) and not text.isascii()


#: Up to this many matches, a search's rows are found branch by branch (`rows_matching_any`).
MATCH_CAP = 2000


def rows_matching_any(queryset: QuerySet, *conditions: Q, cap: int = MATCH_CAP) -> QuerySet:
    """`queryset` narrowed to the rows matching any of `conditions`, found one condition at a time.

    A list's search box ORs several kinds of match (a claim number, an invoice number, the last
    digits of an ID number). As one query, PostgreSQL cannot use an index for the OR and walks the
    list's sort order testing every row of the region: slow exactly when matches are few. Each
    condition alone goes through its own index (trigram, last four), so here each is read on its own,
    at most `cap` keys each, and the list is then read by its keys. When more than `cap` rows match,
    the plain OR is the better plan (matches are dense, the first page fills fast) and is returned.
    """
    keys: set = set()
    for condition in conditions:
        keys.update(queryset.filter(condition).order_by().values_list("pk", flat=True)[: cap + 1])
        if len(keys) > cap:
            either = Q()
            for part in conditions:
                either |= part
            return queryset.filter(either)
    return queryset.filter(pk__in=sorted(keys))


def list_search(queryset: QuerySet, text: str, *, person: str, numbers: Sequence[str]) -> QuerySet:
    """What a list's search box finds (claims, filings) in `queryset`, whose rows reach their
    insured person through `person` and carry the numbers `numbers`:

    * a whole ID number: that person's rows, through the blind index;
    * text with Chinese in it: a name, looked up among names alone (their trigram index);
    * anything else: a fragment of one of the numbers (their trigram indexes), a name in Latin
      letters, or the last digits of an ID number, each kind read on its own (`rows_matching_any`).
    """
    text = (text or "").strip()
    if not text:
        return queryset
    number = normalize_id_number(text)
    of_persons = f"{person}__in"
    if is_whole_id_number(number):
        return queryset.filter(**{of_persons: InsuredPerson.objects.with_id_number(number).values("pk")})
    if is_name_query(text):
        return queryset.filter(**{of_persons: persons_named(text).values("pk")})
    conditions = [Q(**{f"{field}__icontains": text}) for field in numbers]
    conditions.append(Q(**{of_persons: persons_named(text).values("pk")}))
    if is_id_tail(number):
        conditions.append(Q(**{of_persons: InsuredPerson.objects.with_id_tail(number).values("pk")}))
    return rows_matching_any(queryset, *conditions)


def normalise_query(raw: str) -> str:
    """Full-width digits and letters typed on a Chinese keyboard count as their ASCII selves."""
    import unicodedata

    return unicodedata.normalize("NFKC", raw or "").strip()[:50]


def search_people(*, user, query: str) -> SearchResult:
    query = normalise_query(query)
    result = SearchResult(query=query)
    if not query:
        return result
    people = InsuredPerson.objects.for_user(user).select_related("insured_region")
    if _ID_LIKE.match(query):
        try:
            number = parse_id_number(query).number
        except ValidationError as exc:
            result.problem = exc.messages[0]
            return result
        result.persons = list(people.with_id_number(number))
        return result
    upper = query.upper()
    if _NUMBER.match(upper):
        for module in app_modules("person_panels"):
            finder = getattr(module, "person_for_number", None)
            person_id = finder(user=user, number=upper) if finder else None
            if person_id is not None:
                result.persons = list(people.filter(pk=person_id))
                return result
        return result
    if len(query) < 2:
        result.problem = "请至少输入两个字的姓名，或完整的身份证号、备案编号、申请编号。"
        return result
    found = list(people.filter(name=query).order_by("pk")[: NAME_RESULTS + 1])
    if not found:
        found = list(people.filter(name__istartswith=query).order_by("name", "pk")[: NAME_RESULTS + 1])
    result.truncated = len(found) > NAME_RESULTS
    result.persons = found[:NAME_RESULTS]
    return result


def person_panels(*, person: InsuredPerson, user) -> list[PersonPanel]:
    panels = []
    for module in app_modules("person_panels"):
        panel = module.panel(person=person, user=user)
        if panel is not None:
            panels.append(panel)
    return sorted(panels, key=lambda panel: panel.order)
