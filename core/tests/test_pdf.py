import logging
import time
from decimal import Decimal

import pytest

from core.pdf import PDF_STATIC_ROOT, RefusedURL, _url_fetcher_class, html_to_pdf, render_pdf
from core.selftest import render_sample_form
from core.tests.pdfutil import has_embedded_cjk_font, pdf_fonts, pdf_page_count, pdf_text

pytestmark = pytest.mark.django_db


def test_sample_form_embeds_a_cjk_font_and_the_text_extracts_back():
    content = render_sample_form(remark="测试备注")
    assert content.startswith(b"%PDF")
    assert has_embedded_cjk_font(content), pdf_fonts(content)
    text = pdf_text(content)
    for expected in ["异地就医经办服务平台打印自检样表", "南京市", "宿迁市", "合计", "单位负责人", "制表日期", "测试备注"]:
        assert expected in text
    assert "1,234.56" in text
    assert "壹仟贰佰叁拾肆元伍角陆分" in text


def test_a_page_renders_in_well_under_a_second_or_two():
    """Guards the libharfbuzz-subset0 fact: without it a CJK page takes ~15 s."""
    render_sample_form()  # warm the font cache
    started = time.monotonic()
    render_sample_form()
    assert time.monotonic() - started < 5


def test_markup_in_data_is_printed_as_text_not_obeyed():
    content = render_pdf(
        "pdf/sample_form.html",
        {"title": "表", "rows": [], "total": Decimal("0"), "remark": '<img src="file:///etc/passwd">张三'},
    )
    text = pdf_text(content)
    assert '<img src="file:///etc/passwd">张三' in text
    assert "root:" not in text


def test_fetching_outside_static_is_refused(caplog):
    fetcher = _url_fetcher_class()([PDF_STATIC_ROOT])
    for url in ["file:///etc/passwd", "http://example.com/x.png", "https://cdn.example.com/a.css", "ftp://x/y"]:
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    traversal = (PDF_STATIC_ROOT / ".." / "config" / "settings.py").as_uri()
    with pytest.raises(RefusedURL):
        fetcher.fetch(traversal)
    response = fetcher.fetch((PDF_STATIC_ROOT / "pdf" / "forms.css").as_uri())
    assert b"@page" in response.read()
    response.close()


def _png(path):
    from PIL import Image

    Image.new("RGB", (8, 8), (200, 30, 30)).save(path)
    return path


def test_an_image_outside_static_never_reaches_the_pdf(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    outside = _png(tmp_path / "outside.png")
    content = html_to_pdf(f'<html><body><p>正文</p><img src="{outside.as_uri()}"></body></html>')
    assert "正文" in pdf_text(content)
    assert b"/Subtype /Image" not in content


def test_an_image_inside_static_is_allowed(tmp_path):
    """The positive control for the test above: the same image from static/ is embedded."""
    inside = _png(PDF_STATIC_ROOT / "pdf" / "test-control-image.png")
    try:
        content = html_to_pdf(f'<html><body><img src="{inside.as_uri()}"></body></html>')
    finally:
        inside.unlink()
    assert b"/Subtype /Image" in content


def test_landscape_tables_and_page_numbers():
    html = (
        '<html><head><link rel="stylesheet" href="pdf/forms.css"></head><body>'
        '<div class="landscape"><p>第一页横向</p></div><div class="page-break">第二页</div></body></html>'
    )
    content = html_to_pdf(html)
    assert pdf_page_count(content) == 2
    assert "第 1 页 共 2 页" in pdf_text(content)


def test_font_garbage_is_collected_once_the_process_is_big(monkeypatch):
    from core import pdf

    calls = []
    monkeypatch.setattr(pdf.gc, "collect", lambda *args: calls.append(args) or 0)
    monkeypatch.setattr(pdf, "GC_ABOVE_MB", 10**6)
    pdf._collect_font_garbage()
    assert calls == []
    monkeypatch.setattr(pdf, "GC_ABOVE_MB", 0)
    monkeypatch.setattr(pdf, "_resident_after_collection", 0)
    monkeypatch.setattr(pdf, "_resident_mb", lambda: 600)
    pdf._collect_font_garbage()
    assert calls == [()]
    pdf._collect_font_garbage()  # still 600 MB after collecting: not again until it grows
    assert calls == [()]
    monkeypatch.setattr(pdf, "_resident_mb", lambda: 600 + pdf.GC_GROWTH_MB + 1)
    pdf._collect_font_garbage()
    assert calls == [(), ()]


# --- Small CJK font subsets (core/pdf_fonts.py) ---------------------------------------------


def _embedded_font_programs(content: bytes) -> dict[str, bytes]:
    import io

    from pypdf import PdfReader

    programs = {}
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            stream = descriptor.get("/FontFile3") or descriptor.get("/FontFile2")
            programs[str(font["/BaseFont"])] = stream.get_object().get_data()
    return programs


def _outlines(font_bytes: bytes) -> dict[str, list]:
    import io

    from fontTools.pens.recordingPen import RecordingPen
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(font_bytes))
    glyphs = font.getGlyphSet()
    result = {}
    for name in font.getGlyphOrder():
        pen = RecordingPen()
        glyphs[name].draw(pen)
        result[name] = pen.value
    return result


SAMPLE_HTML = (
    '<html><head><link rel="stylesheet" href="pdf/forms.css"></head><body>'
    '<h1 class="form-title">异地就医零星报销受理回执</h1><p>南京市医疗保障基金管理中心 合计 1,234.56 元 壹仟贰佰叁拾肆元伍角陆分</p>'
    "</body></html>"
)


def test_the_cjk_fonts_are_subset_to_the_glyphs_drawn_with_their_ids_and_outlines_unchanged():
    from weasyprint import HTML

    bare = HTML(string=SAMPLE_HTML, base_url=PDF_STATIC_ROOT.as_uri() + "/").write_pdf()
    ours = html_to_pdf(SAMPLE_HTML)
    assert len(ours) < len(bare) / 5, (len(ours), len(bare))
    assert pdf_text(ours) == pdf_text(bare)
    bare_fonts, our_fonts = _embedded_font_programs(bare), _embedded_font_programs(ours)
    assert set(our_fonts) == set(bare_fonts) and any("Sans-CJK-SC-Bold" in name for name in our_fonts)  # 黑体 title
    for name, program in our_fonts.items():
        before, after = _outlines(bare_fonts[name]), _outlines(program)
        assert list(after) == list(before)  # same glyph ids: the content streams address them
        drawn = {glyph for glyph, outline in after.items() if outline}
        assert 10 < len(drawn) < 100, name
        assert all(after[glyph] == before[glyph] for glyph in drawn)
        assert all(not outline for glyph, outline in after.items() if glyph not in drawn and glyph != ".notdef")


def test_a_font_the_compaction_cannot_read_is_embedded_as_weasyprint_subset_it(caplog):
    from core.pdf_fonts import compact_cff_font

    truetype = b"\x00\x01\x00\x00" + bytes(40)
    assert compact_cff_font(truetype, {1, 2}) == truetype
    broken = b"OTTO" + bytes(2) + b"\x00"  # truncated table directory
    assert compact_cff_font(broken, {1}) == broken
    no_cff = b"OTTO\x00\x00" + bytes(6)
    assert compact_cff_font(no_cff, {1}) == no_cff


def test_the_compacted_font_keeps_valid_checksums():
    import io
    import struct

    from fontTools.ttLib import TTFont

    ours = html_to_pdf(SAMPLE_HTML)
    for program in _embedded_font_programs(ours).values():
        font = TTFont(io.BytesIO(program), checkChecksums=2)  # raises on a wrong table checksum
        assert font["CFF "].cff
        padded = program + bytes(-len(program) % 4)
        assert sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF == 0xB1B0AFBA
