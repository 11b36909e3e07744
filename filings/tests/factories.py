"""factory_boy factories for filings (reimbursement's tests may import them too).

`FilingFactory` writes a filing row directly, in any status, for tests of
queries and pages; tests of the rules go through `filings.services`.
"""

from __future__ import annotations

from datetime import date

import factory

from core.tests.factories import InsuredPersonFactory, region
from filings.models import Basis, Channel, Filing, PersonType, UploadStatus, group_of


class FilingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Filing

    insured_person = factory.SubFactory(InsuredPersonFactory)
    insured_region = factory.LazyAttribute(lambda o: o.insured_person.insured_region)
    person_type = PersonType.LONG_TERM_RESIDENT
    person_group = factory.LazyAttribute(lambda o: group_of(o.person_type))
    basis = Basis.MATERIALS
    destination = factory.LazyFunction(lambda: region("110000"))
    channel = Channel.COUNTER
    status = Filing.Status.ACTIVE
    applied_on = factory.LazyAttribute(lambda o: o.start_date)
    start_date = date(2026, 1, 5)
    end_date = factory.LazyAttribute(
        lambda o: None if group_of(o.person_type) == "long_term" else date(o.start_date.year + 1, 1, 4)
    )
    materials = factory.LazyAttribute(lambda o: _default_materials(o.person_type))
    upload_status = UploadStatus.UPLOADED
    number = factory.Sequence(lambda n: f"T{n:09d}")


def _default_materials(person_type: str) -> list[str]:
    from filings.materials import sufficient_materials

    return sufficient_materials(person_type)
