"""Any province deploys the portal: YIDI_HOME_PROVINCE decides the cities served, the
province-level agency, the clearing, the form titles and the demo (domain.md §8)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from clearing.models import Settlement
from core import demo_cast
from core.checks import check_home_province
from core.models import Agency, InsuredPerson, Region, User

pytestmark = pytest.mark.django_db

# province -> (first city, second city, another city, the form title's province name)
PROVINCES = {
    "320000": ("320100", "320200", "320500", "江苏省"),
    "650000": ("650100", "650200", "654000", "新疆维吾尔自治区"),
}


@pytest.fixture(params=sorted(PROVINCES))
def home(request, settings):
    settings.YIDI_HOME_PROVINCE = request.param
    return request.param


def _sample_month(path: Path, home: str) -> Path:
    first, second, third, _name = PROVINCES[home]
    rows = [
        f"S{home}01,2026-03,{first},{second},310,inpatient,2026-03-03,12000.00,9000.00,医院甲",
        f"S{home}02,2026-03,{third},{first},390,outpatient,2026-03-04,800.00,500.00,医院乙",
        f"S{home}03,2026-03,{first},110000,310,inpatient,2026-03-05,30000.00,21000.00,北京协和医院",
        f"S{home}04,2026-03,330100,{third},310,chronic,2026-03-06,1500.00,1000.00,医院丙",
    ]
    header = "settlement_id,period,insured_region,treatment_region,insurance_type,care_type,settled_on,total_amount,fund_amount,institution"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_clearing_commands_serve_the_home_provinces_cities(home, tmp_path):
    first, second, third, province_name = PROVINCES[home]
    call_command("import_settlements", str(_sample_month(tmp_path / "month.csv", home)), stdout=io.StringIO())
    out = io.StringIO()
    call_command("run_clearing", "--period", "2026-03", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert list(result["intra_province"]) == list(
        Region.objects.cities_of(home).order_by("sort_order", "code").values_list("code", flat=True)
    )
    assert result["intra_province"][first]["net"]["total"] == "-8500.00"
    assert result["intra_province"][second]["receivable"]["total"] == "9000.00"
    assert result["cross_province"]["payable"] == {
        first: {"110000": {"employee": "21000.00", "resident": "0.00", "total": "21000.00"}}
    }
    assert result["cross_province"]["receivable"] == {
        third: {"330000": {"employee": "1000.00", "resident": "0.00", "total": "1000.00"}}
    }
    folder = tmp_path / "out"
    call_command("render_notices", "--period", "2026-03", "--out", str(folder), stdout=io.StringIO())
    title = PdfReader(folder / "annex10-2026-03.pdf").pages[0].extract_text()
    assert f"{province_name}异地就医医疗费用清算平衡总表" in title
    assert (folder / f"annex12-2026-03-{first}.pdf").exists()


def test_a_city_of_another_province_is_a_bad_row_for_this_deployment(home, tmp_path):
    other = "650100" if home == "320000" else "320100"
    path = tmp_path / "bad.csv"
    path.write_text(
        "settlement_id,period,insured_region,treatment_region,insurance_type,care_type,settled_on,total_amount,fund_amount,institution\n"
        f"X1,2026-03,{other},110000,310,inpatient,2026-03-03,100.00,50.00,医院\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_settlements", str(path), stdout=out, stderr=io.StringIO())
    assert "第2行" in out.getvalue() or "2" in out.getvalue()
    assert not Settlement.objects.exists()


def test_province_level_staff_see_every_city_of_the_home_province(home, make_staff):
    first = PROVINCES[home][0]
    assert make_staff("officer", None, home).sees_all_regions
    assert not make_staff("city_clerk", None, first).sees_all_regions


def test_an_unknown_or_city_less_home_province_fails_the_system_check(settings):
    settings.YIDI_HOME_PROVINCE = "990000"
    assert [error.id for error in check_home_province()] == ["yidi.E010"]
    settings.YIDI_HOME_PROVINCE = "110000"  # 北京: no prefecture-level division
    assert [error.id for error in check_home_province()] == ["yidi.E011"]
    settings.YIDI_HOME_PROVINCE = "360000"
    assert check_home_province() == []


def test_the_jiangsu_demo_is_unchanged_by_the_cast():
    cast = demo_cast.Cast("320000")
    assert cast.code("320106") == "320106" and cast.username("clerk_wuxi") == "clerk_wuxi"
    assert cast.text("工作调整提前返回南京") == "工作调整提前返回南京"


@pytest.mark.parametrize(
    ("province", "users", "province_agency"),
    [
        ("360000", ["clerk_nanchang", "finance_jingdezhen", "clearing_jiangxi"], "江西省医疗保障事业管理中心"),
        ("650000", ["clerk_urumqi", "supervisor_karamay", "clearing_xinjiang"], "新疆维吾尔自治区医疗保障事业发展中心"),
    ],
)
def test_seed_demo_builds_a_working_demo_for_another_province(settings, province, users, province_agency):
    settings.YIDI_HOME_PROVINCE = province
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    for username in [*users, "admin"]:
        assert User.objects.get(username=username).check_password("yidi-demo-2026"), username
    assert User.objects.get(username=users[-1]).sees_all_regions
    assert not User.objects.filter(username="clerk_nanjing").exists()
    assert Agency.objects.get(region_id=province).name == province_agency
    cities = Region.objects.cities_of(province)
    assert Agency.objects.filter(region__in=cities).count() == cities.count()
    assert not InsuredPerson.objects.exclude(insured_region__parent_id=province).exists()

    from filings.models import Filing
    from reimbursement.models import Claim

    assert Filing.objects.filter(insured_person__insured_region__parent_id=province).count() >= 25
    assert set(Claim.objects.values_list("status", flat=True)) >= {"paid", "approved", "incomplete", "rejected"}
    assert not Settlement.objects.exclude(insured_region__startswith=province[:2]).exclude(
        treatment_region__startswith=province[:2]
    ).exists()
    assert "演示数据未能生成" not in out.getvalue() and "未能生成" not in out.getvalue()


@pytest.mark.parametrize(
    ("province", "expected"),
    [("320000", "江苏省|（江苏 第九条(二)）||《江苏省异地就医经办服务规程》第二十八条"),
     ("650000", "新疆维吾尔自治区||（新疆 三(二)）|《新疆维吾尔自治区医疗保障局")],
)
def test_templates_name_the_home_province_and_cite_its_own_rules(settings, province, expected):
    from django.template import Context, Template

    settings.YIDI_HOME_PROVINCE = province
    text = Template(
        '{% load jurisdiction %}{% home_province_name %}|{% article "online_review" as art %}'
        '{% if art %}（{{ art }}）{% endif %}|{% article "commitment_materials" as art %}'
        '{% if art %}（{{ art }}）{% endif %}|{% cite "limits" %}'
    ).render(Context())
    assert text.startswith(expected)
    assert province == "320000" or "江苏" not in text
    assert province == "650000" or "新疆" not in text  # the commitments page cited 新疆 in every province
