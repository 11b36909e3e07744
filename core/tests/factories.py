"""factory_boy factories for core; other apps import these."""

from __future__ import annotations

from datetime import date

import factory

from core.idcard import build_id_number
from core.models import Agency, Institution, InsuredPerson, Region, Role, User
from core.roles import group_for


def region(code: str) -> Region:
    """Regions come from the data migration; tests fetch them by code."""
    return Region.objects.get(code=code)


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ["region"]

    region = factory.LazyFunction(lambda: region("320100"))
    name = factory.LazyAttribute(lambda o: f"{o.region.name}医疗保障基金管理中心")
    short_name = factory.LazyAttribute(lambda o: f"{o.region.short_name}医保中心")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name", locale="zh_CN")
    agency = factory.SubFactory(AgencyFactory)
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*(group_for(role) for role in extracted))
        if create:
            self.save()


def make_user(username: str, role: Role | None, region_code: str = "320100", **extra) -> User:
    agency = AgencyFactory(region=region(region_code))
    return UserFactory(username=username, agency=agency, roles=[role] if role else [], **extra)


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"T{n:010d}")
    name = factory.Sequence(lambda n: f"测试医院{n}")
    region = factory.LazyFunction(lambda: region("320100"))
    kind = Institution.Kind.HOSPITAL
    level = Institution.Level.LEVEL_3
    designated = True
    networked = True


class InsuredPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InsuredPerson

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # get-or-create by ID number, through its blind index (the column is encrypted)
        existing = model_class.objects.with_id_number(kwargs["id_number"]).first()
        return existing if existing is not None else super()._create(model_class, *args, **kwargs)

    class Params:
        seq = factory.Sequence(lambda n: n)

    birth_date = factory.LazyAttribute(lambda o: date(1950 + o.seq % 50, 1 + o.seq % 12, 1 + o.seq % 28))
    id_number = factory.LazyAttribute(lambda o: build_id_number("320106", o.birth_date, o.seq % 1000))
    name = factory.Faker("name", locale="zh_CN")
    sex = factory.LazyAttribute(lambda o: "M" if int(o.id_number[16]) % 2 else "F")
    insurance_type = "310"
    insured_region = factory.LazyFunction(lambda: region("320100"))
