from datetime import date

from django.core.management.base import CommandError

from core.management.base import YidiCommand
from filings.services import filings_expire, import_previews_sweep
from filings.status_changes import filings_end_on_status_change


class Command(YidiCommand):
    help = (
        "将有效期已过的临时外出就医备案置为“已到期”，并删除超过一天未确认的导入预览文件"
        "（与每日定时任务 filings.expire_filings 是同一段代码）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="on_date", help="按该日期计算（YYYY-MM-DD），默认今天")

    def handle(self, *args, on_date: str | None = None, **options):
        today = None
        if on_date:
            try:
                today = date.fromisoformat(on_date)
            except ValueError:
                raise CommandError(f"日期“{on_date}”无效，应为 YYYY-MM-DD。") from None
        count = filings_expire(today=today)
        ended = filings_end_on_status_change(today=today)
        swept = import_previews_sweep()
        self.stdout.write(self.style.SUCCESS(
            f"已到期备案：{count} 份；因参保状态变更终止的长期备案：{ended} 份；清理过期导入预览文件：{swept} 个"
        ))
