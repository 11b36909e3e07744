"""Another region's insured person: a clerk learns nothing about them (name, phone) and writes nothing."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from core.idcard import build_id_number
from core.models import InsuredPerson
from core.tests.factories import InsuredPersonFactory, region
from filings.models import Filing
from filings.services import PersonData, filing_register_walk_in
from filings.tests.conftest import TODAY

pytestmark = pytest.mark.django_db

FOREIGN = "该参保人不属于本统筹区（无锡市），异地就医备案应由其参保地经办机构办理。"


@pytest.fixture
def nanjing_person(db):
    return InsuredPersonFactory(name="钱玉兰", phone="13951700001", insured_region=region("320100"),
                                id_number=build_id_number("320104", date(1956, 3, 12), 24))


def walk_in(person_id, name, by, make_data):
    return filing_register_walk_in(
        person_data=PersonData(id_number=person_id, name=name, insurance_type="310", insured_region=by.region,
                               phone="13000000000"),
        data=make_data(), by=by, today=TODAY,
    )


@pytest.mark.parametrize("name", ["随便写", "钱玉兰"])
def test_other_regions_person_is_refused_before_any_name_comparison(
    nanjing_person, clerk_wuxi, make_data, nothing_written, name
):
    with nothing_written(), pytest.raises(DomainError) as exc:
        walk_in(nanjing_person.id_number, name, clerk_wuxi, make_data)
    assert exc.value.message == FOREIGN
    assert "姓名" not in exc.value.message and "钱玉兰" not in exc.value.message
    nanjing_person.refresh_from_db()
    assert nanjing_person.phone == "13951700001"


def test_counter_form_shows_only_the_other_region_error(client, clerk_wuxi, nanjing_person, nothing_written):
    client.force_login(clerk_wuxi)
    today = timezone.localdate().isoformat()
    with nothing_written():
        response = client.post(reverse("filings:new"), {
            "id_number": nanjing_person.id_number, "name": "", "phone": "", "person_type": "long_term_resident",
            "destination": "110000", "start_date": today, "materials": ["id_card", "residence_proof"],
        })
    text = response.text
    assert response.status_code == 200
    assert FOREIGN in text
    assert "新参保人员" not in text and "这个字段是必填项" not in text and "请填写" not in text.split(FOREIGN)[0][-200:]
    assert "钱玉兰" not in text and "13951700001" not in text
    assert 'name="name"' not in text  # no person fields to fill in


def test_lookup_shows_only_the_other_region_error(client, clerk_wuxi, nanjing_person):
    client.force_login(clerk_wuxi)
    text = client.get(reverse("filings:person_lookup"), {"id_number": nanjing_person.id_number}).text
    assert FOREIGN in text
    assert "新参保人员" not in text and "钱玉兰" not in text and 'name="name"' not in text


def test_online_import_refuses_other_regions_person_before_the_name(client, clerk_wuxi, nanjing_person):
    client.force_login(clerk_wuxi)
    today = timezone.localdate().isoformat()
    csv = ("申请流水号,申请日期,公民身份号码,姓名,险种类型,联系电话,人员类别,就医地,开始日期,结束日期,材料\n"
           f"WSX9,{today},{nanjing_person.id_number},别的名字,职工,13999999999,异地长期居住人员,北京市,{today},,"
           "有效身份证件、居住证明\n")
    upload = io.BytesIO(csv.encode("utf-8"))
    upload.name = "a.csv"
    text = client.post(reverse("filings:import"), {"file": upload}).text
    assert "第2行" in text and FOREIGN in text
    assert "姓名" not in text.split(FOREIGN)[0][-100:] and "不一致" not in text
    client.post(reverse("filings:import"), {"confirm": "1"})
    assert not Filing.objects.exists()
    assert InsuredPerson.objects.get(pk=nanjing_person.pk).phone == "13951700001"
