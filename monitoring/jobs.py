"""Background job of 运行监测: render and archive the analysis report (ids and
codes in; a retried job finds its document already stored)."""

from __future__ import annotations

from core.documents import store_document
from core.jobs import job_handler
from core.models import Region
from core.reference import home_province_code
from monitoring import rules

#: What the document list calls the files this app archives.
DOCUMENT_KINDS = {"monitoring.report": "异地就医直接结算运行分析报告"}


def report_key(spec: rules.PeriodSpec) -> str:
    return f"monitoring:report:{spec.code}"


@job_handler("monitoring.render_report")
def render_report(job, progress) -> dict:
    from monitoring import reports

    spec = rules.parse_period(job.params["period"])
    key = report_key(spec)
    existing = job.documents.filter(key=key).first()
    if existing is None:
        progress(0, 1, f"正在生成{spec.label}运行分析报告", force=True)
        title = reports.report_title(spec)
        existing = store_document(
            kind="monitoring.report", key=key, title=title, filename=f"运行分析报告-{spec.code}.pdf",
            content=reports.render_report(spec), by=job.created_by,
            region=Region.objects.get(code=home_province_code()), period=spec.code, job=job,
        )
        progress(1, 1, "完成", force=True)
    return {"documents": [existing.pk], "summary": f"已生成并归档：{existing.title}（第{existing.version}版）"}
