"""Reading PDFs back in tests: text, fonts and page count."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def pdf_fonts(content: bytes) -> set[str]:
    """Base font names of every font used, e.g. {'ABCDEF+NotoSerifCJKsc-Regular'}."""
    reader = PdfReader(io.BytesIO(content))
    names: set[str] = set()
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        fonts = resources.get("/Font") or {}
        for font in fonts.values():
            font = font.get_object()
            names.add(str(font.get("/BaseFont", "")))
    return names


def has_embedded_cjk_font(content: bytes) -> bool:
    return any("CJK" in name for name in pdf_fonts(content))


def pdf_page_count(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)
