"""HTML -> PDF with WeasyPrint, for the official forms (附件1-13) and notices.

Renderers are plain functions returning bytes; they never run inside a web
request (background jobs store the bytes once in the document archive).
Only the project's own static files may be fetched while rendering: any other
URL (http, file outside static/, …) is refused, so data that slipped into a
template as markup can never read local files or reach the network.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string

PDF_STATIC_ROOT = Path(settings.BASE_DIR) / "static"


class RefusedURL(ValueError):
    pass


def _url_fetcher_class():
    from weasyprint.urls import URLFetcher

    class StaticOnlyURLFetcher(URLFetcher):
        """Serve `file:` URLs inside static/ and `data:` URLs; refuse everything else."""

        def __init__(self, roots: list[Path]) -> None:
            super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=False)
            self._roots = [root.resolve() for root in roots]

        def fetch(self, url: str, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                raise RefusedURL(f"refused to fetch {url!r} while rendering a PDF")
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if not any(path.is_relative_to(root) for root in self._roots):
                raise RefusedURL(f"refused to fetch {url!r}: outside the project's static files")
            return super().fetch(path.as_uri(), headers)

    return StaticOnlyURLFetcher


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    from core.pdf_fonts import compact_embedded_fonts

    fetcher = _url_fetcher_class()([PDF_STATIC_ROOT])
    document = HTML(string=html, base_url=PDF_STATIC_ROOT.as_uri() + "/", url_fetcher=fetcher)
    try:
        return document.write_pdf(finisher=compact_embedded_fonts)
    finally:
        del document
        _collect_font_garbage()


#: A rendered document leaves reference cycles holding the CJK font data (tens
#: of MB each); collected by allocation counts alone they pile up between
#: renders. A full collection costs ~60 ms, so it runs only once the process
#: holds more than this. Measured: seed_demo (~120 forms, two job threads)
#: peaks at 1.44 GB and 33.6 s without it, 0.76 GB and 35.2 s with it.
GC_ABOVE_MB = 500
#: ... and only once it has grown this much since the last collection: memory freed by a collection
#: mostly stays with the process, so a process above GC_ABOVE_MB after collecting would otherwise
#: collect after every document (~60 ms each; measured in scripts/benchmark_pdfs.py).
GC_GROWTH_MB = 200
_resident_after_collection = 0


def _resident_mb() -> int | None:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1048576
    except (OSError, ValueError, IndexError):
        return None  # not Linux


def _collect_font_garbage() -> None:
    global _resident_after_collection
    resident = _resident_mb()
    if resident is None:
        gc.collect()  # no measure of the process: always collect
    elif resident > max(GC_ABOVE_MB, _resident_after_collection + GC_GROWTH_MB):
        gc.collect()
        _resident_after_collection = _resident_mb() or 0


def render_pdf(template_name: str, context: dict | None = None) -> bytes:
    """Render a Django template (autoescaped) to PDF bytes."""
    html = render_to_string(template_name, context or {})
    return html_to_pdf(html)
