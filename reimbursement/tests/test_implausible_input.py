"""Absurd or implausible claims are refused with a Chinese message, never a 500, and
nothing is written (issue 14, finding 5)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from core.models import InsuredPerson
from reimbursement import services
from reimbursement.models import Claim
from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details, person_nanjing
from reimbursement.tests.test_views import intake_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_the_counter(client, clerk, policy):
    client.force_login(clerk)
    return client


@pytest.mark.parametrize("field", ["total_amount", "in_scope_amount", "self_funded_amount"])
def test_1e20_in_an_amount_is_a_form_error_not_a_500(at_the_counter, hospital, field):
    response = at_the_counter.post(reverse("reimbursement:intake"), intake_data(hospital, **{field: "1e20"}))
    assert response.status_code == 200
    assert "金额过大：单笔零星报销不能超过 9,999,999.99 元" in response.content.decode()
    assert not Claim.objects.exists()


@pytest.mark.parametrize("value", ["1e20", "-1e20", "1e400", "999999999999999999"])
def test_the_live_panel_survives_absurd_amounts(at_the_counter, hospital, value):
    response = at_the_counter.post(reverse("reimbursement:intake_panel"), intake_data(hospital, total_amount=value),
                                   HTTP_HX_REQUEST="true")
    assert response.status_code == 200


def test_a_trillion_yuan_claim_is_refused(at_the_counter, hospital):
    data = intake_data(hospital, total_amount="999999999999.99", in_scope_amount="999999998999.99")
    page = at_the_counter.post(reverse("reimbursement:intake"), data).content.decode()
    assert "金额过大：单笔零星报销不能超过 9,999,999.99 元" in page
    assert not Claim.objects.exists()


def test_the_service_refuses_a_trillion_too(clerk, policy, person, hospital, long_term_filing):
    details = inpatient_details(hospital, total_amount=Decimal("999999999999.99"),
                                in_scope_amount=Decimal("999999998799.99"))
    with pytest.raises(DomainError) as excinfo:
        services.claim_create(by=clerk, person=person, details=details, ticked=ALL_INPATIENT_TICKS)
    assert "总费用金额过大：单笔零星报销不能超过 9,999,999.99 元" in excinfo.value.message
    assert not Claim.objects.exists()


def test_care_dated_1900_is_refused(at_the_counter, hospital):
    data = intake_data(hospital, admission_date="1900-01-02", discharge_date="1900-01-05")
    page = at_the_counter.post(reverse("reimbursement:intake"), data).content.decode()
    assert "入院（就诊）日期 1900-01-02 早于" in page and "请核对年份" in page
    assert not Claim.objects.exists()
    assert not InsuredPerson.objects.exists()


def test_care_before_the_persons_birth_is_refused(clerk, policy, hospital):
    today = timezone.localdate()
    person = person_nanjing(name="新生儿", birth_date=today - timedelta(days=30))
    before_birth = person.birth_date - timedelta(days=20)
    details = inpatient_details(hospital, admission_date=before_birth, discharge_date=before_birth + timedelta(days=2))
    with pytest.raises(DomainError) as excinfo:
        services.claim_create(by=clerk, person=person, details=details, ticked=ALL_INPATIENT_TICKS, today=today)
    assert f"早于参保人的出生日期 {person.birth_date:%Y-%m-%d}" in excinfo.value.message
    assert not Claim.objects.exists()


def test_an_id_number_of_region_990000_is_refused(at_the_counter, hospital):
    from core.idcard import build_id_number

    number = build_id_number("990000", date(1980, 1, 1), 11)
    page = at_the_counter.post(reverse("reimbursement:intake"), intake_data(hospital, id_number=number)).content.decode()
    assert "前两位99不是任何省级行政区划的代码" in page
    assert not Claim.objects.exists() and not InsuredPerson.objects.exists()


@pytest.mark.parametrize("field", ["name", "payee_name", "bank_name"])
def test_a_right_to_left_override_in_a_name_is_refused(at_the_counter, hospital, field):
    page = at_the_counter.post(reverse("reimbursement:intake"),
                               intake_data(hospital, **{field: "新\u202e保参"})).content.decode()
    assert "含有不可见的控制字符（U+202E）" in page
    assert not Claim.objects.exists() and not InsuredPerson.objects.exists()


def test_the_person_service_refuses_control_characters_whoever_calls_it(clerk):
    from core.idcard import build_id_number
    from core.models import Region
    from core.services import insured_person_upsert

    with pytest.raises(DomainError) as excinfo:
        insured_person_upsert(id_number=build_id_number("320106", date(1980, 1, 1), 11), name="王\u202e五",
                              insurance_type="310", insured_region=Region.objects.get(code="320100"), by=clerk)
    assert "姓名中含有不可见的控制字符" in excinfo.value.message
    assert not InsuredPerson.objects.exists()
