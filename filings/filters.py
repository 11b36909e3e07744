"""The filters of the filing list (django-filter)."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from core.models import Region
from filings.models import Basis, Channel, Filing, PersonGroup, PersonType, UploadStatus
from filings.selectors import filing_search

DATE = forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"})
SELECT = forms.Select(attrs={"class": "form-select form-select-sm"})


def person_pk(value) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


class FilingFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="身份证号/姓名/备案编号", method="filter_q",
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "placeholder": "身份证号、姓名或备案编号"}),
    )
    status = django_filters.ChoiceFilter(label="状态", choices=Filing.Status.choices, empty_label="全部状态", widget=SELECT)
    person_type = django_filters.ChoiceFilter(label="人员类别", choices=PersonType.choices, empty_label="全部类别",
                                              widget=SELECT)
    person_group = django_filters.ChoiceFilter(label="备案类型", choices=PersonGroup.choices, empty_label="长期/临时",
                                               widget=SELECT)
    destination = django_filters.ModelChoiceFilter(
        label="就医地", queryset=Region.objects.all(), method="filter_destination", empty_label="全部就医地", widget=SELECT
    )
    channel = django_filters.ChoiceFilter(label="渠道", choices=Channel.choices, empty_label="全部渠道", widget=SELECT)
    basis = django_filters.ChoiceFilter(label="办理方式", choices=Basis.choices, empty_label="全部方式", widget=SELECT)
    upload_status = django_filters.ChoiceFilter(label="省平台上传", choices=UploadStatus.choices, empty_label="上传状态",
                                                widget=SELECT)
    start_from = django_filters.DateFilter(label="开始日期从", field_name="start_date", lookup_expr="gte", widget=DATE)
    start_to = django_filters.DateFilter(label="开始日期至", field_name="start_date", lookup_expr="lte", widget=DATE)
    applied_from = django_filters.DateFilter(label="办理日期从", field_name="applied_on", lookup_expr="gte", widget=DATE)
    applied_to = django_filters.DateFilter(label="办理日期至", field_name="applied_on", lookup_expr="lte", widget=DATE)
    valid_on = django_filters.DateFilter(label="某日有效", method="filter_valid_on", widget=DATE)
    materials_overdue = django_filters.BooleanFilter(
        label="承诺材料逾期", method="filter_materials_overdue",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    review_overdue = django_filters.BooleanFilter(
        label="审核超期", method="filter_review_overdue", widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
    )
    expiring = django_filters.BooleanFilter(
        label="30天内到期", method="filter_expiring", widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
    )
    person = django_filters.CharFilter(label="参保人员", method="filter_person", widget=forms.HiddenInput)
    retroactive = django_filters.BooleanFilter(
        label="补办", widget=forms.CheckboxInput(attrs={"class": "form-check-input"}), method="filter_retroactive"
    )

    class Meta:
        model = Filing
        fields: list[str] = []

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["destination"].queryset = Region.objects.order_by("sort_order", "code")

    def filter_q(self, queryset, name, value):
        if not value:
            return queryset
        matching = filing_search(user=self.user, query=value).values("pk")
        return queryset.filter(pk__in=matching)

    def filter_person(self, queryset, name, value):
        """All filings of one person, by the person's key (no ID number in the address)."""
        pk = person_pk(value)
        return queryset.filter(insured_person_id=pk) if pk else queryset.none() if value else queryset

    def filter_destination(self, queryset, name, value):
        if not value:
            return queryset
        if value.is_province:
            return queryset.filter(Q(destination=value) | Q(destination__parent=value))
        return queryset.filter(destination=value)

    def filter_valid_on(self, queryset, name, value):
        return queryset.valid_on(value) if value else queryset

    def filter_materials_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.commitment_open().filter(materials_due_on__lt=timezone.localdate())

    def filter_review_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(status=Filing.Status.PENDING_REVIEW, review_due_on__lt=timezone.localdate())

    def filter_expiring(self, queryset, name, value):
        if not value:
            return queryset
        today = timezone.localdate()
        return queryset.filter(status=Filing.Status.ACTIVE, end_date__gte=today,
                               end_date__lte=today + timedelta(days=30))

    def filter_retroactive(self, queryset, name, value):
        return queryset.filter(retroactive=True) if value else queryset
