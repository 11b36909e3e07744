#!/usr/bin/env python
"""Benchmark of the printed forms: the project's renderers next to bare WeasyPrint.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yidi_bench .venv/bin/python scripts/benchmark_pdfs.py

For every kind of generated PDF (附件1–13, the claim notices, the payment notice, the monitoring
report) the script calls the project's own renderer — the code the background jobs run: context
from the database, the Django template, WeasyPrint, the font compaction of core/pdf_fonts.py — and
captures the HTML it produced. It then renders that same HTML with bare WeasyPrint
(`HTML(string=…, base_url=static/).write_pdf()`, no finisher), interleaved (project, bare, project,
bare, …), and prints per kind the median milliseconds per page of both, their ratio, and the bytes
per page of both (bare WeasyPrint's size is what the project stored before the fonts were compacted).
The month's 28 notices (附件10–13) are summed separately: issue 15's goal is ≤ 1.3× bare WeasyPrint
per page. A script, not a test: the figures depend on the machine (one process, one core).

The database needs the demo data (`manage.py seed_demo`); the script seeds an empty one itself.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("YIDI_JOB_RUNNER", "sync")

NOTICE_KINDS = ("clearing.annex10", "clearing.annex11", "clearing.annex12", "clearing.annex13")


def _renderables() -> list[tuple[str, Callable[[], bytes]]]:
    """(kind, render) for one or more documents of every kind the demo data has."""
    from clearing import notices
    from clearing.models import AdvanceYear, ClearingPeriod, EmergencyIncrease
    from filings import printing as filing_printing
    from filings.models import LONG_TERM_TYPES, Filing
    from monitoring import reports, rules
    from monitoring.models import PeriodSummary
    from reimbursement import printing
    from reimbursement.models import Claim, ClaimNotice, PaymentBatch

    found: list[tuple[str, Callable[[], bytes]]] = []
    period = ClearingPeriod.objects.filter(computed_at__isnull=False).order_by("-period").first()
    if period is not None:
        found += [(notice.kind, notice.render) for notice in notices.period_notice_files(period)]
    year = AdvanceYear.objects.order_by("-year").first()
    if year is not None:
        for scope in ("intra", "cross"):
            files = notices.advance_notice_files(year.year, scope)
            by_kind = {}
            for notice in files:
                by_kind.setdefault(notice.kind, notice)
            found += [(notice.kind, notice.render) for notice in by_kind.values()]
    increase = EmergencyIncrease.objects.order_by("-pk").first()
    if increase is not None:
        found += [(notice.kind, notice.render) for notice in notices.emergency_notice_files(increase)[:1]]
    for kind, render in (
        (ClaimNotice.Kind.RECEIPT, printing.render_receipt),
        (ClaimNotice.Kind.MISSING_MATERIALS, printing.render_missing_materials_notice),
        (ClaimNotice.Kind.DELAY, printing.render_delay_notice),
    ):
        notice = ClaimNotice.objects.filter(kind=kind).select_related("claim").order_by("pk").first()
        if notice is not None:
            found.append((f"reimbursement.{kind}", lambda notice=notice, render=render: render(notice)))
    claim = Claim.objects.filter(payment_batch__isnull=False).order_by("pk").first()  # approved: 附件9 has its figures
    if claim is not None:
        found.append(("reimbursement.settlement", lambda: printing.render_settlement_statement(claim)))
    batch = PaymentBatch.objects.order_by("-claim_count", "pk").first()
    if batch is not None:
        found.append(("reimbursement.payment_notice", lambda: printing.render_payment_notice(batch)))
    filing = Filing.objects.filter(person_type__in=LONG_TERM_TYPES).order_by("pk").first()
    if filing is not None:
        for code in filing_printing.FORMS:
            found.append((f"filings.{code}", lambda code=code: filing_printing.render_form(filing, code)))
    summary = PeriodSummary.objects.order_by("-period").first()
    if summary is not None:
        spec = rules.parse_period(summary.period)
        found.append(("monitoring.report", lambda: reports.render_report(spec)))
    return found


def _pages(content: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(content)).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each document, project and bare interleaved")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from weasyprint import HTML

    from core import pdf
    from reimbursement.models import Claim

    call_command("migrate", verbosity=0)
    if not Claim.objects.exists():
        print("seeding the demo data first (manage.py seed_demo) …", flush=True)
        call_command("seed_demo", verbosity=0)

    captured: list[str] = []
    project_html_to_pdf = pdf.html_to_pdf

    def capturing(html: str) -> bytes:
        captured.append(html)
        return project_html_to_pdf(html)

    pdf.html_to_pdf = capturing
    base_url = pdf.PDF_STATIC_ROOT.as_uri() + "/"
    fetcher = pdf._url_fetcher_class()([pdf.PDF_STATIC_ROOT])

    def bare(html: str) -> bytes:
        return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()

    renderables = _renderables()
    # One warm-up of each template (font cache, template loading), measured neither way.
    for _kind, render in renderables:
        render()
    rows: dict[str, list[dict]] = defaultdict(list)
    for kind, render in renderables:
        ours, theirs = [], []
        for _ in range(args.repeat):
            captured.clear()
            started = time.perf_counter()
            content = render()
            ours.append(time.perf_counter() - started)
            (html,) = captured
            started = time.perf_counter()
            bare_content = bare(html)
            theirs.append(time.perf_counter() - started)
        pages = _pages(content)
        rows[kind].append({
            "pages": pages, "ours": statistics.median(ours), "bare": statistics.median(theirs),
            "size": len(content), "bare_size": len(bare_content),
        })
    pdf.html_to_pdf = project_html_to_pdf

    print(f"\n{'kind':<34}{'docs':>5}{'pages':>6}{'ms/page':>9}{'bare':>8}{'ratio':>7}{'KB/page':>9}{'bare KB':>9}")

    def line(label: str, docs: list[dict]) -> None:
        pages = sum(doc["pages"] for doc in docs)
        ours = sum(doc["ours"] for doc in docs)
        theirs = sum(doc["bare"] for doc in docs)
        size = sum(doc["size"] for doc in docs)
        bare_size = sum(doc["bare_size"] for doc in docs)
        print(
            f"{label:<34}{len(docs):>5}{pages:>6}{ours / pages * 1000:>9.1f}{theirs / pages * 1000:>8.1f}"
            f"{ours / theirs:>6.2f}×{size / pages / 1024:>9.1f}{bare_size / pages / 1024:>9.1f}"
        )

    for kind in sorted(rows):
        line(kind, rows[kind])
    notices = [doc for kind in NOTICE_KINDS for doc in rows.get(kind, [])]
    if notices:
        line("month's notices 附件10–13", notices)
    line("all", [doc for docs in rows.values() for doc in docs])
    largest_one_page = max((doc["size"] for docs in rows.values() for doc in docs if doc["pages"] == 1), default=0)
    print(f"\nlargest one-page PDF: {largest_one_page / 1024:.1f} KB (goal: well under 100 KB)")


if __name__ == "__main__":
    main()
