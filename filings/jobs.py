"""Background jobs of the filings app (autodiscovered by core)."""

from __future__ import annotations

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat

from core.documents import store_document
from core.errors import DomainError
from core.jobs import job_handler
from filings.models import Filing
from filings.printing import FORMS, document_key, form_available, render_form

RENDER_FORM = "filings.render_form"

DOCUMENT_KINDS = {
    **{f"filing_{code}": f"{spec.annex} {spec.title}" for code, spec in FORMS.items()},
    "filing_upload": "备案信息上传省平台文件",
}


def institution_documents(user) -> Q:
    """A hospital's account sees the printed forms of the referrals it may see
    (keys `filing:<pk>:<form>`, see printing.document_key), nothing else of the city."""
    filings = Filing.objects.for_user(user)
    condition = Q(pk__in=[])
    for code in FORMS:
        keys = filings.annotate(
            document_key=Concat(Value("filing:"), Cast("pk", output_field=CharField()), Value(f":{code}"))
        ).values("document_key")
        condition |= Q(kind=f"filing_{code}", key__in=keys)
    return condition


@job_handler(RENDER_FORM)
def render_filing_form(job, progress) -> dict:
    """Render one of 附件1/7/8 for a filing and archive it (idempotent per job)."""
    code = job.params.get("form")
    filing = (
        Filing.objects.select_related("insured_person", "insured_region__agency", "destination")
        .filter(pk=job.params.get("filing"))
        .first()
    )
    if filing is None:
        raise DomainError("备案记录不存在（可能是已删除的草稿）。")
    problem = form_available(filing, code)
    if problem:
        raise DomainError(problem)
    spec = FORMS[code]
    progress(0, 1, f"正在生成{spec.annex} {spec.title}")
    content = render_form(filing, code)
    document = store_document(
        kind=f"filing_{code}",
        key=document_key(filing, code),
        title=f"{spec.annex} {spec.title}（{filing.insured_person.name}，{filing.number}）",
        filename=f"{spec.annex}-{filing.number}.pdf",
        content=content,
        by=job.created_by,
        region=filing.insured_region,
        job=job,
    )
    progress(1, 1, "完成", force=True)
    return {"document": document.pk, "summary": f"{spec.annex} {spec.title}已生成（{document.size // 1024} KB）"}
