"""The printed forms keep to one page and to their boxes with long values."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date

import pytest
from pypdf import PdfReader

from core.tests.factories import InsuredPersonFactory, region
from filings.printing import render_annex1, render_annex8
from filings.tests.factories import FilingFactory

pytestmark = pytest.mark.django_db

LONG_DIAGNOSIS = (
    "冠状动脉粥样硬化性心脏病，不稳定型心绞痛，经皮冠状动脉介入治疗术后，2型糖尿病伴多个并发症，"
    "高血压病3级（极高危），慢性肾脏病3期，高脂血症，脑梗死后遗症期，慢性阻塞性肺疾病"
)


def pages(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


def words(content: bytes) -> list[tuple[str, float, float, float]]:
    """(text, xMin, xMax, yMin) of every word pdftotext finds."""
    out = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=content, capture_output=True, check=True).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"[^>]*>([^<]*)</word>'
    return [(m.group(4), float(m.group(1)), float(m.group(3)), float(m.group(2)))
            for m in re.finditer(pattern, out.decode())]


def text(content: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()


@pytest.mark.parametrize("length", [len(LONG_DIAGNOSIS), 200])
def test_annex8_with_a_long_diagnosis_stays_on_one_page(length):
    person = InsuredPersonFactory(name="阿卜杜热合曼·艾合麦提江·买买提明")
    filing = FilingFactory(insured_person=person, person_type="referral")
    diagnosis = (LONG_DIAGNOSIS * 3)[:length]
    content = render_annex8(filing, today=date(2026, 3, 16), department="心血管内科介入病区第三护理单元",
                            diagnosis=diagnosis, outside_institution="江苏省人民医院（南京医科大学第一附属医院）核医学科")
    assert pages(content) == 1
    flat = text(content).replace("\n", "").replace(" ", "")
    assert diagnosis[:40] in flat and diagnosis[-20:] in flat
    assert "医疗保险办公室盖章" in flat and filing.number in flat and person.name in flat


@pytest.mark.parametrize(("name", "max_lines"), [("阿卜杜热合曼·艾合麦提江·买买提明", 2),
                                               ("MUHAMMADALIABDURAHMANOVICHSULTANBEKOV", 3)])
def test_annex1_long_name_stays_in_its_box(name, max_lines):
    person = InsuredPersonFactory(name=name, phone="13851234567", phone_alt="025-84561234-8001")
    filing = FilingFactory(insured_person=person, destination=region("650000"), person_type="posted_worker",
                           basis="commitment", materials_due_on=date(2026, 9, 16))
    content = render_annex1(filing, today=date(2026, 3, 16))
    assert pages(content) == 1
    found = words(content)
    label = next(w for w in found if w[0] == "姓名")
    sex = next(w for w in found if w[0] == "性别")
    parts = [w for w in found if w[0] and w[0] in name and w[0] not in ("姓名", "性别")]
    assert "".join(w[0] for w in parts) == name
    assert all(label[2] < w[1] and w[2] < sex[1] for w in parts), (label, sex, parts)
    # A smaller size for a long name: the 姓名 row stays compact.
    assert len({round(w[3]) for w in parts}) <= max_lines, parts


def test_annex1_prints_the_agencys_consultation_phone_as_claim_notices_do():
    """One consultation number for the applicant: 附件1 and the 受理回执 both print the agency's phone."""
    from core.tests.factories import AgencyFactory
    from reimbursement.printing import _issuer

    agency = AgencyFactory(region=region("320100"), phone="025-12393")
    filing = FilingFactory(person_type="posted_worker", basis="commitment", materials_due_on=date(2026, 9, 16))
    flat = text(render_annex1(filing, today=date(2026, 3, 16))).replace("\n", "").replace(" ", "")
    assert "咨询电话：025-12393" in flat
    assert _issuer(filing.insured_region)[1] == agency.phone
