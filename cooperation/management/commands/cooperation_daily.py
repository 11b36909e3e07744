from datetime import date

from django.core.management.base import CommandError

from cooperation.services import daily
from core.management.base import YidiCommand


class Command(YidiCommand):
    help = "业务协同每日任务：逾期未返回的费用协查自动顺延至下一期并计入延期统计；回复后超过10个工作日未确认的问题协同视同确认。"

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="on_date", help="按指定日期（YYYY-MM-DD）计算，默认今天")

    def handle(self, *args, on_date=None, **options):
        today = None
        if on_date:
            try:
                today = date.fromisoformat(on_date)
            except ValueError:
                raise CommandError(f"日期“{on_date}”无效，应为 YYYY-MM-DD。") from None
        counts = daily(today=today)
        self.stdout.write(self.style.SUCCESS(
            f"费用协查自动顺延 {counts['assist_rolled']} 件；问题协同视同确认 {counts['coordination_deemed_confirmed']} 件。"
        ))
