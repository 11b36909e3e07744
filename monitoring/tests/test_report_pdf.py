"""The 运行分析报告: a job renders the PDF and archives it with checksum and versions."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse

from core.errors import DomainError
from core.models import Document, Job, Region
from monitoring import commentary, rules, services
from monitoring.rules import Totals


@pytest.fixture
def months(march):
    services.summary_rebuild(periods=["2026-03", "2026-02", "2025-03"])


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_report_job_archives_a_pdf_with_checksum_and_versions(months, clearing_officer, django_capture_on_commit_callbacks):
    services.threshold_save(region=Region.objects.get(code="320000"), indicator="avg_cost_mom", direction="both",
                            value=Decimal("20"), by=clearing_officer)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.report_start(period="2026-03", by=clearing_officer)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    document = Document.objects.get(kind="monitoring.report")
    content = document.file.read()
    assert content.startswith(b"%PDF") and document.sha256 == Document.checksum(content)
    assert (document.period, document.region_id, document.version) == ("2026-03", "320000", 1)
    text = pdf_text(content)
    assert "江苏异地就医直接结算运行分析报告" in text and "2026年3月" in text
    flat = text.replace("\n", "").replace(" ", "")
    assert "次均费用环比上升63.3%，主要来自" in flat  # the province: 272.28 ÷ 166.78 − 1
    assert "超过预警线20.0%" in flat
    with django_capture_on_commit_callbacks(execute=True):
        services.report_start(period="2026-03", by=clearing_officer)
    versions = Document.objects.filter(key=document.key).order_by("version")
    assert [d.version for d in versions] == [1, 2] and [d.is_latest for d in versions] == [False, True]


def test_a_report_needs_data_and_a_month_or_quarter(db, clearing_officer):
    with pytest.raises(DomainError, match="没有结算数据"):
        services.report_start(period="2031-01", by=clearing_officer)
    with pytest.raises(DomainError, match="按月或按季度"):
        services.report_start(period="2026", by=clearing_officer)


def test_only_the_province_officer_starts_a_report_and_cities_download_it(client, months, clearing_officer, finance,
                                                                          django_capture_on_commit_callbacks):
    client.force_login(finance)
    assert client.post(reverse("monitoring:reports"), {"period": "2026-03"}).status_code == 403
    client.force_login(clearing_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("monitoring:reports"), {"period": "2026Q1"})
    assert response.status_code == 302
    document = Document.objects.get(kind="monitoring.report")
    assert document.period == "2026Q1"
    client.force_login(finance)
    page = client.get(reverse("monitoring:reports")).content.decode()
    assert "运行分析报告（2026年第一季度）" in page
    assert client.get(reverse("document_download", args=[document.pk])).status_code == 200


def test_commentary_names_the_category_that_moved_the_average():
    spec = rules.parse_period("2026-03")
    parts = [
        commentary.Part("职工 · 住院", Totals(2, Decimal("3000")), Totals(2, Decimal("1000"))),
        commentary.Part("居民 · 门诊", Totals(2, Decimal("200")), Totals(2, Decimal("400"))),
    ]
    text = commentary.direction_paragraph(
        subject="江苏参保人员异地就医（差出）", spec=spec, current=Totals(4, Decimal("3200"), Decimal("2000")),
        previous=Totals(4, Decimal("1400")), year_ago=None, parts=parts,
        regions=[("南京", Decimal("0.5")), ("无锡", Decimal("-0.1"))],
    )
    # average 800 against 350: +128.6 %; 职工住院 adds (3000 − 1000) ÷ 4 = 500 yuan to the average
    assert "次均费用环比上升128.6%，主要来自职工住院（拉高次均费用500.00元）" in text
    assert "上年同期无数据，不计算同比" in text
    assert "南京次均费用环比上升50.0%，幅度最大；无锡下降10.0%" in text
