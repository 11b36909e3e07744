"""PDF self-test: an administrator renders a sample form in the background to
check the machine's fonts and WeasyPrint (also the job CI runs through a real
Celery worker)."""

from __future__ import annotations

import time
from decimal import Decimal

from django.utils import timezone

from core.documents import store_document
from core.jobs import job_handler
from core.jurisdictions import rules_for
from core.models import Region
from core.pdf import render_pdf
from core.reference import home_province_code

KIND = "core.pdf_selftest"


def render_sample_form(*, remark: str = "") -> bytes:
    cities = list(Region.objects.cities_of(home_province_code()).order_by("sort_order", "code")[:13])
    rows = [{"name": city.name, "amount": Decimal("1234.56") * (index + 1)} for index, city in enumerate(cities)]
    return render_pdf(
        "pdf/sample_form.html",
        {
            "title": "异地就医经办服务平台打印自检样表",
            "issuer": rules_for(None).province_agency,
            "period": f"{timezone.localdate():%Y年%m月}",
            "rows": rows,
            "total": sum((row["amount"] for row in rows), Decimal("0")),
            "remark": remark or "本表用于检查中文字体与打印排版。",
            "signatures": {"date": timezone.localdate()},
            "seal_date": timezone.localdate(),
        },
    )


@job_handler(KIND)
def run_pdf_selftest(job, progress) -> dict:
    progress(0, 1, "正在生成样表")
    started = time.monotonic()
    content = render_sample_form(remark=job.params.get("remark", ""))
    seconds = time.monotonic() - started
    document = store_document(
        kind="selftest",
        key=f"selftest:{job.pk}",
        title="打印自检样表",
        filename=f"selftest-{job.pk}.pdf",
        content=content,
        by=job.created_by,
        job=job,
    )
    progress(1, 1, "完成", force=True)
    return {"document": document.pk, "seconds": round(seconds, 3), "summary": f"样表生成用时 {seconds:.2f} 秒"}
