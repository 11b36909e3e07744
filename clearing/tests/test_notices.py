"""The official forms as PDFs: CJK font embedded, amounts and 大写 read back,
the archive (checksum, versions, downloads that never re-render) and the jobs."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from clearing import jobs as clearing_jobs  # noqa: F401  (registers the handlers)
from clearing import notices, selectors, services
from clearing.models import ClearingPeriod, EmergencyIncrease
from clearing.tests.factories import Row, import_rows
from clearing.tests.test_advances import result
from core.jobs import run_job_now, start_job
from core.models import Document, Job, Region

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def embedded_cjk_fonts(content: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(content))
    names = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                if any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.add(str(font["/BaseFont"]))
    return {name for name in names if "CJK" in name}


def is_landscape(content: bytes) -> bool:
    box = PdfReader(io.BytesIO(content)).pages[0].mediabox
    return box.width > box.height


@pytest.fixture
def february(tmp_path, clearing_officer):
    import_rows(
        tmp_path,
        [
            Row("A1", "320100", "320200", fund_amount="12345.67", insurance_type="310"),
            Row("A2", "320200", "320100", fund_amount="345.00", insurance_type="390"),
            Row("A3", "320100", "330100", fund_amount="300.00", insurance_type="310"),
            Row("A4", "510100", "320100", fund_amount="88.80", insurance_type="390"),
        ],
    )
    period = services.clearing_compute(period=ClearingPeriod.objects.get(), by=clearing_officer)
    services.clearing_issue_notices(period=period, by=clearing_officer, stamp_date=date(2026, 3, 26))
    return ClearingPeriod.objects.get(pk=period.pk)


def notice(files, kind: str, region: str | None = None):
    return next(f for f in files if f.kind == kind and (region is None or f.region.code == region))


def test_balance_table_annex10(february):
    content = notice(notices.period_notice_files(february), "clearing.annex10").render()
    text = pdf_text(content)
    assert embedded_cjk_fonts(content)
    assert is_landscape(content)
    for words in ("附件10", "江苏省异地就医医疗费用清算平衡总表", "所属日期：2026年02月", "单位：元(保留两位小数)", "应回收垫付异地的医疗费用",
                  "应支付异地垫付的医疗费用", "差额", "职工医疗", "城居医疗", "合计", "单位负责人", "审核人", "复核人", "制表人", "制表日期：2026年3月26日"):
        assert words in text, words
    assert "-12000.67" in text  # 南京: 345.00 received - 12345.67 paid
    assert "12000.67" in text and "12690.67" in text  # 无锡's net; the receivable total


def test_cross_province_table_annex11(february):
    content = notice(notices.period_notice_files(february), "clearing.annex11").render()
    text = pdf_text(content)
    assert is_landscape(content) and embedded_cjk_fonts(content)
    for words in ("附件11", "江苏省跨省异地就医费用清算明细表", "清算所属月份：2026年02月", "收", "付", "南京市", "宿迁市", "浙", "四"):
        assert words in text, words
    assert "300.00" in text and "88.80" in text


def test_an_exceptionally_big_month_still_fits_the_tables(tmp_path, clearing_officer):
    """Amounts of 15 digits shrink the figures of 附件10/11 instead of running into the next cell."""
    rows = [Row(f"B{i}", "320100", "320200", fund_amount="999999999.99", total_amount="999999999.99") for i in range(30)]
    rows += [Row(f"C{i}", "320100", "330100", fund_amount="999999999.99", total_amount="999999999.99") for i in range(30)]
    import_rows(tmp_path, rows)
    period = services.clearing_compute(period=ClearingPeriod.objects.get(), by=clearing_officer)
    files = notices.period_notice_files(period)
    for kind, grand_total in (("clearing.annex10", "29999999999.70"), ("clearing.annex11", "29999999999.70")):
        content = notice(files, kind).render()
        assert len(PdfReader(io.BytesIO(content)).pages) == (1 if kind.endswith("10") else 2)
        assert grand_total in pdf_text(content), kind
    cells, _late = services.compute_cells(period.period)
    assert notices.amount_font_pt(list(cells.values()), ("intra",), column_mm=26.0, base_pt=9) < 9


def test_an_ordinary_month_keeps_the_forms_font_size(february):
    cells = list(services.compute_cells(february.period)[0].values())
    assert notices.amount_font_pt(cells, ("intra",), column_mm=26.0, base_pt=9) == 9
    assert notices.amount_font_pt(cells, ("cross_out",), column_mm=17.0, base_pt=7) == 7


def test_payment_notice_annex12_names_the_agency_amount_words_and_deadline(february):
    content = notice(notices.period_notice_files(february), "clearing.annex12", "320100").render()
    text = pdf_text(content).replace("\n", "")
    assert embedded_cjk_fonts(content)
    assert "南京市跨省异地就医清算费用付款通知书" in text
    assert "南京市医疗保障基金管理中心：" in text
    assert "300.00 元" in text and "人民币叁佰元整" in text
    assert "10个工作日内（2026年4月10日前）" in text  # 清明 4-4..4-6 in between
    assert "跨省异地就医费用付款汇总表" in text and "付款方：南京市" in text and "合　计" in text
    assert "签章日期：2026年3月26日" in text and "江苏省医疗保障基金管理中心" in text


def test_receipt_notice_annex13(february):
    text = pdf_text(notice(notices.period_notice_files(february), "clearing.annex13", "320100").render()).replace("\n", "")
    assert "南京市跨省异地就医清算费用收款通知书" in text
    assert "88.80" in text and "收款方：南京市" in text  # 附件13 names no amount in its sentence (seed wording)


def test_notice_uses_the_agencys_full_name(february):
    from core.models import Agency

    Agency.objects.update_or_create(region_id="320300", defaults={"name": "徐州市医疗保障基金结算中心", "short_name": "徐州医保"})
    text = pdf_text(notice(notices.period_notice_files(february), "clearing.annex12", "320300").render())
    assert "徐州市医疗保障基金结算中心：" in text and "人民币零元整" in text


@pytest.fixture
def advances_2026(jiangsu_policy, clearing_officer):
    result("2025-03", "320100", "320200", "600000.00", "400000.00")
    result("2025-05", "320100", "310000", "300000.00")
    result("2025-06", "320200", "310000", "100000.00")
    services.intra_advances_compute(year=2026, by=clearing_officer)
    services.advances_issue_notices(year=2026, scope="intra", by=clearing_officer, stamp_date=date(2026, 2, 3))
    services.cross_allotments_save(year=2026, amounts={"310000": 40, "110000": 9}, by=clearing_officer)
    services.cross_advances_compute(year=2026, by=clearing_officer)
    services.advances_issue_notices(year=2026, scope="cross", by=clearing_officer, stamp_date=date(2026, 2, 4))


def test_intra_advance_forms_annex2_and_3(advances_2026):
    files = notices.advance_notice_files(2026, "intra")
    assert [f.kind for f in files] == ["clearing.annex02", "clearing.annex03"]
    table = pdf_text(files[0].render())
    for words in ("附件2", "江苏省省内异地就医费用预付金明细表", "单位：万元", "上年额度", "本年核定额度", "实际划款额度", "合计", "南京", "以万元为单位，不保留小数", "单位负责人"):
        assert words in table, words
    letter = pdf_text(files[1].render()).replace("\n", "")
    assert "南京市省内异地就医预付金付款通知书" in letter
    assert "苏人社发〔2017〕61号" in letter
    assert "20 万元" in letter and "人民币贰拾万元整" in letter and "2026年2月24日前" in letter  # 10 working days, 春节 in between


def test_cross_advance_forms_annex4_and_5(advances_2026):
    files = notices.advance_notice_files(2026, "cross")
    table = files[0].render()
    assert is_landscape(table)
    text = pdf_text(table)
    for words in ("附件4", "江苏省跨省异地就医费用预付金明细表", "年　度：2026年", "单位：万元", "预付金划出", "南京市", "合计"):
        assert words in text, words
    nanjing = pdf_text(notice(files, "clearing.annex05", "320100").render()).replace("\n", "")
    assert "南京市跨省异地就医预付金额度调整付款通知书" in nanjing
    assert "37 万元" in nanjing and "人民币叁拾柒万元整" in nanjing  # 75 % of 40 + 75 % of 9 (30 + 7)
    assert "上年度额度指省级经办机构核定的上年预付金额(含紧急调整额度)" in nanjing


def test_emergency_increase_form_annex6(jiangsu_policy, clearing_officer):
    result("2025-05", "320100", "310000", "300000.00")
    services.cross_allotments_save(year=2026, amounts={"310000": 10}, by=clearing_officer)
    services.cross_advances_compute(year=2026, by=clearing_officer)
    result("2026-03", "320100", "310000", "95000.00")
    increase = services.emergency_increase_create(
        period=ClearingPeriod.objects.get(period="2026-03"), province=Region.objects.get(code="310000"), amount=8,
        by=clearing_officer, stamp_date=date(2026, 4, 7),
    )
    (only,) = notices.emergency_notice_files(increase)
    text = pdf_text(only.render()).replace("\n", "")
    assert "南京市跨省异地就医预付金额度紧急调增通知书" in text
    assert "8 万元" in text and "人民币捌万元整" in text and "2026年4月21日前" in text
    assert "95.0%" in text


def test_render_notices_command_writes_every_form_of_the_month(tmp_path, monkeypatch, february):
    monkeypatch.setattr(notices, "render_pdf", lambda template, context: f"{template}|{context.get('total', '')}".encode())
    call_command("render_notices", "--period", "2026-02", "--out", str(tmp_path / "out"))
    names = sorted(path.name for path in Path(tmp_path / "out").iterdir())
    assert len(names) == 2 + 13 * 2
    assert names[:2] == ["annex10-2026-02.pdf", "annex11-2026-02.pdf"]
    assert (tmp_path / "out" / "annex12-2026-02-320100.pdf").read_bytes() == b"pdf/annex12.html|300.00"


def test_render_notices_computes_a_month_not_yet_computed(tmp_path, monkeypatch):
    monkeypatch.setattr(notices, "render_pdf", lambda template, context: b"%PDF")
    import_rows(tmp_path, [Row("B1", "320100", "110000", fund_amount="5.00")])
    call_command("render_notices", "--period", "2026-02", "--out", str(tmp_path / "out"))
    assert ClearingPeriod.objects.get().status == "computed"


# --- The archive and the jobs -----------------------------------------------------------


@pytest.fixture
def fast_pdfs(monkeypatch):
    counter = {"n": 0}

    def fake(template, context):
        counter["n"] += 1
        return f"%PDF-fake {template} {counter['n']}".encode()

    monkeypatch.setattr(notices, "render_pdf", fake)
    return counter


def test_the_notice_job_archives_every_pdf_once_with_checksum(february, fast_pdfs, clearing_officer):
    job = Job.objects.get(kind="clearing.render_period_notices")
    run_job_now(job.pk)
    job.refresh_from_db()
    assert job.status == "done", job.error
    documents = Document.objects.filter(job=job)
    assert documents.count() == 28
    first = documents.get(key="clearing:2026-02:annex12:320100")
    assert first.region_id == "320100" and first.period == "2026-02" and first.version == 1
    assert first.sha256 == Document.checksum(first.file.read())

    # A redelivered task (the worker died after storing) stores nothing twice.
    Job.objects.filter(pk=job.pk).update(status="running")
    run_job_now(job.pk)
    assert Document.objects.filter(job=job).count() == 28 and fast_pdfs["n"] == 28


def test_regenerating_makes_new_versions_and_keeps_the_old(february, fast_pdfs, clearing_officer):
    run_job_now(Job.objects.get(kind="clearing.render_period_notices").pk)
    job = services.clearing_regenerate_notices(period=february, by=clearing_officer)
    run_job_now(job.pk)
    versions = Document.objects.filter(key="clearing:2026-02:annex10").order_by("version")
    assert [(d.version, d.is_latest) for d in versions] == [(1, False), (2, True)]


def test_downloads_serve_the_stored_file_without_rendering(february, fast_pdfs, client, clearing_officer, monkeypatch):
    run_job_now(Job.objects.get(kind="clearing.render_period_notices").pk)
    document = Document.objects.get(key="clearing:2026-02:annex12:320100")
    stored = document.file.read()
    monkeypatch.setattr(notices, "render_pdf", lambda *a, **k: pytest.fail("a download must not render"))
    client.force_login(clearing_officer)
    response = client.get(f"/documents/{document.pk}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == stored


def test_compute_job_takes_the_period_id(tmp_path, clearing_officer):
    import_rows(tmp_path, [Row("J1")])
    period = ClearingPeriod.objects.get()
    job = start_job(kind="clearing.compute_period", title="t", by=clearing_officer, params={"period_id": period.pk})
    run_job_now(job.pk)
    job.refresh_from_db()
    assert job.status == "done" and "1 条结算明细" in job.result["summary"]
    run_job_now(job.pk)  # finished jobs are left alone
    assert ClearingPeriod.objects.get().status == "computed"


def test_a_notice_job_for_a_period_not_issued_fails_with_a_message(tmp_path, clearing_officer):
    import_rows(tmp_path, [Row("J2")])
    job = start_job(kind="clearing.render_period_notices", title="t", by=clearing_officer, params={"period_id": ClearingPeriod.objects.get().pk})
    run_job_now(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "2026年02月清算尚未下达通知书。"


def test_emergency_and_advance_jobs_store_their_forms(advances_2026, fast_pdfs):
    for job in Job.objects.filter(kind="clearing.render_advance_notices"):
        run_job_now(job.pk)
    kinds = set(Document.objects.values_list("kind", flat=True))
    assert kinds == {"clearing.annex02", "clearing.annex03", "clearing.annex04", "clearing.annex05"}
    assert not EmergencyIncrease.objects.exists()


def test_balance_table_selector_matches_the_json(february):
    table = selectors.balance_table(february)
    doc = selectors.clearing_json(february)
    for row in table.rows:
        assert f"{row.position.net.total:.2f}" == doc["intra_province"][row.region.code]["net"]["total"]
    assert table.total.net.total == Decimal("0.00")
