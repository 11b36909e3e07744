"""Materials lists and article citations follow the province (core.jurisdictions, domain.md §2, §3, §8).

江苏 lists its 备案材料 in 第八条 and its 零星报销材料 in 第二十七条; 新疆 writes its own filing list
(新医保发〔2022〕39号 三(二): a referral is arranged by the designated hospital) and leaves 手工报销
to the insured region (二(四)); 江西 has every region follow the province's 政务服务事项清单
(赣医保发〔2025〕17号 一(二), before 2026-02-01 the national 清单 through 赣医保发〔2020〕13号).
Messages cite the article of the province in force, or none where its documents have none.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from django.urls import reverse

from cooperation.rules import assist_refusal
from core.jurisdictions import rules_for
from core.models import Role
from core.tests.factories import InsuredPersonFactory, region
from filings import materials as checklist
from reimbursement.checklists import build_checklist
from reimbursement.eligibility import EligibilityFacts, adjustment_note, assess

ON = date(2026, 3, 16)
CITY = {"320000": "320100", "360000": "360100", "650000": "650100"}
FILING_ARTICLE = {
    "320000": "《江苏省异地就医经办服务规程》第八条",
    "360000": "赣医保发〔2025〕17号一(二)",
    "650000": "新医保发〔2022〕39号三(二)",
}
CLAIM_ARTICLE = {
    "320000": "《江苏省异地就医经办服务规程》第二十七条",
    "360000": "参保地规定",
    "650000": "新医保发〔2022〕39号二(四)",
}


def _codes(requirements) -> list[list[tuple[str, ...]]]:
    return [list(requirement.options) for requirement in requirements]


@pytest.mark.parametrize("province", sorted(CITY))
def test_each_province_names_the_document_its_lists_come_from(province):
    lists = rules_for(CITY[province], on=ON).materials
    assert lists.filing_article.startswith(FILING_ARTICLE[province])
    assert lists.claim_article.startswith(CLAIM_ARTICLE[province])
    assert rules_for(CITY[province], on=ON).cite("materials") == lists.claim_article


def test_jiangsu_filing_list_is_article_8_as_before():
    lists = rules_for("320100", on=ON).materials
    id_proof = [("medical_e_voucher",), ("id_card",), ("social_security_card",)]
    assert _codes(lists.filing["retired_resettled"]) == [
        id_proof, [("household_register", "residence_registration_card"), ("commitment_letter",)]
    ]
    assert _codes(lists.filing["posted_worker"])[1] == [
        ("dispatch_certificate",), ("employer_certificate",), ("labour_contract",), ("commitment_letter",)
    ]
    assert [r.label for r in lists.filing["referral"]] == ["本人有效身份证明", "转诊转院证明材料"]
    assert lists.filing["emergency"] == () and _codes(lists.filing["other_temporary"]) == [id_proof]
    assert lists.filing_note == lists.claim_note == ""


def test_xinjiang_asks_for_the_referral_the_designated_hospital_arranged():
    xinjiang = rules_for("650100", on=ON).materials.filing["referral"]
    jiangsu = rules_for("320100", on=ON).materials.filing["referral"]
    assert xinjiang[1].label == "转诊手续（由参保地规定的定点医疗机构办理）" != jiangsu[1].label
    # The long-term kinds: the same papers, a personal commitment standing in until they are handed in.
    for person_type in ("retired_resettled", "long_term_resident", "posted_worker"):
        requirement = rules_for("650100", on=ON).materials.filing[person_type][1]
        assert requirement.allows_commitment


def test_jiangxi_list_changes_its_source_on_2026_02_01():
    before = rules_for("360100", on=date(2026, 1, 31)).materials
    after = rules_for("360100", on=date(2026, 2, 1)).materials
    assert before.filing_article.startswith("赣医保发〔2020〕13号")
    assert after.filing_article.startswith("赣医保发〔2025〕17号一(二)")
    assert "全省医疗保障经办政务服务事项清单" in after.filing_note


def test_the_checklist_functions_read_the_lists_they_are_given():
    xinjiang = rules_for("650100", on=ON).materials
    result = checklist.evaluate("referral", ["id_card"], rules=xinjiang)
    assert not result.complete and "转诊手续（由参保地规定的定点医疗机构办理）" in result.missing_text
    default = checklist.evaluate("referral", ["id_card"])  # the home province: 江苏
    assert "转诊转院证明材料" in default.missing_text
    assert checklist.sufficient_materials("referral", rules=xinjiang) == ["medical_e_voucher", "referral_certificate"]


def test_claim_extras_keep_their_order_and_the_hospital_only_items():
    items = build_checklist(care_type="outpatient", rescue=True, patient_deceased=True, drugs_bought_outside=True,
                            rules=rules_for("650100", on=ON).materials)
    assert [item.code for item in items][4:] == [
        "rescue_record", "death_record", "outside_invoice", "outside_order_or_prescription"
    ]


# --- Pages ---------------------------------------------------------------------------------


@pytest.fixture(params=sorted(CITY))
def home(request, settings):
    settings.YIDI_HOME_PROVINCE = request.param
    return request.param


@pytest.mark.django_db
def test_the_filing_checklist_shows_the_provinces_list_and_source(home, client, make_staff):
    clerk = make_staff(f"clerk_{home}", Role.CLERK, CITY[home])
    client.force_login(clerk)
    page = client.post(reverse("filings:checklist"), {"person_type": "referral"}).text
    assert f"材料依据：{FILING_ARTICLE[home]}" in page
    assert "零星报销" not in page  # the claim list's note stays with the claim list
    assert ("转诊手续（由参保地规定的定点医疗机构办理）" in page) is (home == "650000")
    assert ("转诊转院证明材料" in page) is (home != "650000")
    for other in set(FILING_ARTICLE.values()) - {FILING_ARTICLE[home]}:
        assert other not in page
    retired = client.post(reverse("filings:checklist"), {"person_type": "retired_resettled"}).text
    assert "户口簿首页" in retired and "长期异地居住人员个人承诺书" in retired


@pytest.mark.django_db
def test_the_claim_checklist_shows_the_provinces_source(home, client, make_staff):
    clerk = make_staff(f"clerk_{home}", Role.CLERK, CITY[home])
    client.force_login(clerk)
    page = client.post(reverse("reimbursement:intake_panel"), {"care_type": "inpatient"},
                       HTTP_HX_REQUEST="true").content.decode()
    assert f"材料依据：{CLAIM_ARTICLE[home]}" in page
    assert ("参保地事前公示的补充材料另列" in page) is (home != "320000")
    assert "住院费用清单" in page
    assert ("第二十七条" in page) is (home == "320000")


# --- Messages ------------------------------------------------------------------------------


def _unfiled(insured: str, treatment: str) -> EligibilityFacts:
    return EligibilityFacts(
        situation="other_allowed", filing_status="not_filed", filing_person_type=None, filing_message="",
        care_type="inpatient", rescue=False, insurance_type="310", insured_region=insured,
        treatment_region=treatment, treatment_region_name="就医地", institution_name="某医院", designated=False,
        admission_date=date(2026, 3, 2), discharge_date=date(2026, 3, 10), other_case_given=True,
    )


def test_an_unfiled_visit_cites_the_insured_provinces_article_or_none():
    jiangsu = adjustment_note(_unfiled("320100", "110000"), "unfiled")
    assert jiangsu.endswith("支付比例按参保地规定降低（第十八条，降幅不超过20个百分点）")
    xinjiang = adjustment_note(_unfiled("650100", "110000"), "unfiled")
    assert xinjiang.endswith("支付比例按参保地规定降低") and "第十八条" not in xinjiang


def test_a_non_designated_hospital_is_refused_with_the_provinces_article():
    assert "（江苏规程第十九条）" in assess(_unfiled("320100", "110000")).message
    message = assess(_unfiled("650100", "110000")).message
    assert "医保基金不予支付。" in message and "江苏" not in message


def test_a_late_retroactive_emergency_says_not_reduced_only_where_the_cap_is_zero():
    late = replace(_unfiled("320100", "110000"), situation="retroactive", filing_status="late_filed",
                   filing_person_type="other_temporary", filing_applied_on=date(2026, 9, 1),
                   retroactive_limit=date(2026, 6, 10), care_type="emergency")
    assert "；急诊抢救不降低支付比例（第十九条）" in adjustment_note(late, "emergency")
    xinjiang = adjustment_note(replace(late, insured_region="650100"), "emergency")
    assert "不降低" not in xinjiang and "第十八条" not in xinjiang  # 新疆: emergencies may lose up to 10 points


@pytest.mark.parametrize(("on", "article"), [
    (date(2026, 3, 1), "赣医保发〔2025〕17号三(二)"),
    (date(2025, 3, 1), "医保发〔2024〕21号三(二)"),
])
def test_an_audit_assist_below_the_threshold_cites_the_home_provinces_rule(settings, on, article):
    settings.YIDI_HOME_PROVINCE = "360000"
    message = assist_refusal("29,999.99", article=rules_for(None, on=on).article("audit_assist_source"))
    assert message.startswith(f"依据{article}，") and "江苏" not in message
    settings.YIDI_HOME_PROVINCE = "320000"
    assert assist_refusal("1.00", article=rules_for(None).article("audit_assist_source")).startswith(
        "依据《江苏省异地就医经办服务规程》第五十六条，"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("province", "cited"), [("320000", "（江苏 第八条(五)）"), ("650000", "")])
def test_an_emergency_filing_is_refused_citing_the_provinces_article(settings, make_staff, province, cited):
    from core.errors import DomainError
    from filings.services import FilingData, filing_register

    settings.YIDI_HOME_PROVINCE = province
    clerk = make_staff(f"clerk_{province}", Role.CLERK, CITY[province])
    person = InsuredPersonFactory(name="阿依古丽", insured_region=region(CITY[province]))
    data = FilingData(person_type="emergency", destination=region("110000"), start_date=ON, materials=[])
    with pytest.raises(DomainError) as exc:
        filing_register(person=person, data=data, by=clerk, today=ON)
    assert exc.value.message.startswith(f"异地急诊抢救人员视同已备案{cited}，无需办理备案")


def test_special_case_limit_follows_the_provinces_days():
    assert rules_for("320100", on=ON).limits.special_days == 20
    assert rules_for("320100", on=ON).cited("processing_limits") == "（第二十八条）"
    assert rules_for("650100", on=ON).cited("processing_limits") == ""


def test_no_page_template_quotes_an_article_itself():
    """Pages cite through {% cited %} / {% article %} (the PDF forms are laid out per the 江苏 annexes)."""
    import re
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR) / "templates"
    quoting = [
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        if path.parts[len(root.parts)] != "pdf" and re.search(r"江苏|第[一二三四五六七八九十]+条", path.read_text())
    ]
    assert quoting == []


@pytest.mark.parametrize(("province", "text"), [("320000", "（江苏规程第五十七条）"), ("650000", "")])
def test_a_page_citation_follows_the_home_province(settings, province, text):
    from django.template import Context, Template

    settings.YIDI_HOME_PROVINCE = province
    rendered = Template('{% load jurisdiction %}10个工作日{% cited "coordination_procedure" %}。').render(Context())
    assert rendered == f"10个工作日{text}。"
