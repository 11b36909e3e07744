"""python manage.py import_settlements FILE [FILE…] (domain.md §7)."""

from __future__ import annotations

import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.core.management.base import CommandError
from django.db import OperationalError

from clearing.importers import ImportOptions, file_checksum, import_file
from clearing.models import ImportBatch
from clearing.services import import_batch_apply_report
from core.audit import log_action
from core.management.base import YidiCommand
from core.models import AuditLog

logger = logging.getLogger(__name__)


class Command(YidiCommand):
    # A month's file is timed next to PostgreSQL's COPY: the project's system
    # checks (they load the PDF toolchain) have no bearing on an import.
    requires_system_checks = []
    help = (
        "导入结算明细（CSV：UTF-8、带 BOM 的 UTF-8 或 GB18030；或 XLSX；须有表头，列顺序不限）。"
        "每个文件单独处理：有错误的文件整体不导入，并按行号列出每一行错误；重复导入同一文件不会重复写入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--skip-invalid", action="store_true", help="跳过有错误的行，只导入有效行（须明确指定）")

    def handle(self, *args, files, dry_run=False, skip_invalid=False, **options):
        refused = 0
        verbosity = options.get("verbosity", 1)
        for name in files:
            path = Path(name)
            if not path.is_file():
                self.stderr.write(f"{name}：文件不存在或不是普通文件。")
                refused += 1
                continue

            def progress(done: int, total: int, message: str) -> None:
                if verbosity >= 2:
                    sys.stderr.write(f"\r  {done * 100 // max(total, 1):3d}%  {message}    ")

            try:
                with ThreadPoolExecutor(max_workers=1) as pool:
                    checksum = pool.submit(file_checksum, path)  # hashlib lets go of the GIL: read beside the import
                    report = import_file(path, options=ImportOptions(dry_run=dry_run, skip_invalid=skip_invalid, progress=progress))
            except OperationalError:
                raise  # the database is gone: YidiCommand says so in one line
            except Exception as exc:  # noqa: BLE001 - one Chinese line per file, never a traceback
                logger.error("import_settlements %s failed", name, exc_info=verbosity >= 2)
                self.stderr.write(
                    f"{name}：未导入（本文件的数据均未写入）。处理时发生意外错误（{type(exc).__name__}），"
                    "请联系系统管理员（加 -v 2 可在日志中看到详细原因）。"
                )
                refused += 1
                continue
            if verbosity >= 2:
                sys.stderr.write("\n")
            batch = ImportBatch(
                source=ImportBatch.Source.COMMAND,
                filename=path.name,
                size=path.stat().st_size,
                sha256=checksum.result(),
                skip_invalid=skip_invalid,
            )
            import_batch_apply_report(batch=batch, report=report, commit=not dry_run)
            log_action(
                action=AuditLog.Action.IMPORT,
                obj=batch,
                username="命令行",
                message=report.summary_line()[:500],
                data={"rows": report.rows, "inserted": report.inserted, "errors": report.error_count},
            )
            if report.refused:
                refused += 1
            # The row-numbered report is the command's output, refused or not; the
            # failure itself goes to stderr with a non-zero exit status below.
            self.stdout.write(report.text())
        if refused:
            raise CommandError(f"{refused} 个文件未导入（见上面的错误清单；这些文件中的数据均未写入）。")
