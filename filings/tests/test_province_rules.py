"""Filing rules that differ by province (core.jurisdictions): 新疆 二(三) lets a region lock
long-term filings made with real materials for up to 6 months; 江苏 第十条 lets them be changed
or cancelled at any time."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import DomainError
from core.models import Role
from core.tests.factories import InsuredPersonFactory, region
from filings.forms import RegionSettingsForm
from filings.models import Basis, FilingRegionSettings
from filings.services import filing_cancel, filing_register
from filings.tests.conftest import TODAY

pytestmark = pytest.mark.django_db

CITY = {"320000": "320100", "650000": "650100"}


def _settings_form(city: str, **values):
    data = {"commitment_materials_months": 6, "commitment_lock_months": 6, "temporary_min_months": 6,
            "retroactive_max_days": 365, "review_working_days": 1, **values}
    return RegionSettingsForm(data, instance=FilingRegionSettings(region_id=city))


@pytest.mark.parametrize(("province", "allowed"), [("320000", False), ("650000", True)])
def test_a_materials_lock_is_allowed_only_where_the_province_rules_allow_it(settings, province, allowed):
    settings.YIDI_HOME_PROVINCE = province
    form = _settings_form(CITY[province], materials_lock_months=3)
    assert form.is_valid() is allowed
    if not allowed:
        assert "第十条" in form.errors["materials_lock_months"][0]
    assert _settings_form(CITY[province]).is_valid()  # left empty: 0, any time


def test_xinjiang_region_locks_long_term_filings_made_with_materials(settings, make_staff, make_data):
    settings.YIDI_HOME_PROVINCE = "650000"
    clerk = make_staff("clerk_xj", Role.CLERK, "650100")
    FilingRegionSettings.objects.create(region=region("650100"), materials_lock_months=6)
    person = InsuredPersonFactory(name="阿依古丽", insured_region=region("650100"))
    filing = filing_register(person=person, data=make_data(destination="320000"), by=clerk, today=TODAY)
    assert filing.basis == Basis.MATERIALS
    with pytest.raises(DomainError, match="满6个月方可取消"):
        filing_cancel(filing=filing, by=clerk, reason="回参保地", today=date(2026, 9, 15))
    filing_cancel(filing=filing, by=clerk, reason="回参保地", today=date(2026, 9, 16))


def test_jiangsu_long_term_filing_with_materials_can_be_cancelled_at_once(make_data, clerk):
    person = InsuredPersonFactory(name="钱玉兰")
    filing = filing_register(person=person, data=make_data(), by=clerk, today=TODAY)
    assert filing_cancel(filing=filing, by=clerk, reason="回原籍", today=TODAY).status == "cancelled"
