"""Region scoping: staff see and change only their own region's objects.

Every model that belongs to a region uses a queryset built on
`RegionScopedQuerySet` and names the paths to its region(s) in
`region_scope_fields`; views fetch objects through `for_user()` or
`get_object_for_user()`, so another region's object is a 404, never a 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db import models
from django.db.models import Q
from django.http import Http404

if TYPE_CHECKING:
    from core.models import User

M = TypeVar("M", bound=models.Model)


class RegionScopedQuerySet(models.QuerySet):
    #: Lookups from the model to a Region; an object is visible to a city's
    #: staff when any of them is that city.
    region_scope_fields: tuple[str, ...] = ()

    def for_user(self, user: User) -> RegionScopedQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.sees_all_regions:
            return self
        region_code = user.region_code
        if region_code is None or not self.region_scope_fields:
            return self.none()
        condition = Q()
        for field in self.region_scope_fields:
            condition |= Q(**{field: region_code})
        return self.filter(condition)


def get_object_for_user(user: User, queryset: models.QuerySet[M] | type[M], **lookup) -> M:
    """The object if `user` may see it, else 404 (also for another region's object)."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    try:
        return queryset.for_user(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该记录，或您无权查看。") from None
