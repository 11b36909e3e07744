"""Pagination for the lists of a big city (scale, issue 15).

A city's claims or filings run to hundreds of thousands: counting all of them on every page view,
and an OFFSET as deep as the last of them, cost as much as the rows. The lists count up to a cap
and show "10000+ 条"; pages go as far as the cap, and what lies further is reached by a filter
(dates, status, a search), which the page then says. A page past the first reads its keys alone
through the sort's index (skipping the rows before it there) and then only its own rows with their
joins and annotations ("deferred join"), so page 400 costs about what page 1 does.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

LIST_COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    #: True once the count stopped at the cap: there are more rows than `count`.
    capped = False

    def __init__(self, object_list, per_page, *, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = LIST_COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        # Only the keys of the first cap + 1 rows, in any order: no sort, no annotations, and an
        # index-only read where one matches the filter.
        counted = self.object_list.order_by().values("pk")[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if not bottom or not isinstance(self.object_list, QuerySet):
            return self._get_page(self.object_list[bottom:top], number, self)
        keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in self.object_list.order_by().filter(pk__in=keys)}
        return self._get_page([rows[key] for key in keys if key in rows], number, self)
