"""python manage.py render_notices --period YYYY-MM --out DIR (domain.md §7)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from clearing import notices, services
from clearing.models import ClearingPeriod
from core.document_batches import render_in_processes
from core.errors import DomainError
from core.management.base import YidiCommand


class Command(YidiCommand):
    help = "把某月的附件10、附件11和各设区市的附件12、附件13写成 PDF 文件（与后台任务同一套生成代码）。"

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="清算所属期 YYYY-MM")
        parser.add_argument("--out", required=True, help="输出目录（不存在则创建）")
        parser.add_argument(
            "--processes", type=int, default=None, help="同时生成的进程数（默认每个 CPU 核一个；1 为逐个生成）"
        )

    def handle(self, *args, period: str, out: str, **options):
        try:
            record = services.period_get_or_create(period)
            if record.is_editable and (record.computed_at is None or record.results_stale):
                record = services.clearing_compute(period=record, by=None)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        record = ClearingPeriod.objects.get(pk=record.pk)
        directory = Path(out)
        directory.mkdir(parents=True, exist_ok=True)
        files = notices.period_notice_files(record)
        for notice, content in zip(files, render_in_processes(files, processes=options.get("processes")), strict=True):
            (directory / notice.filename).write_bytes(content)
            if options.get("verbosity", 1) >= 2:
                self.stdout.write(f"  {notice.filename}  {notice.title}")
        self.stdout.write(f"已写入 {len(files)} 个 PDF 到 {directory}")
