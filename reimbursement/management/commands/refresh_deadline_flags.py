from datetime import date

from django.core.management.base import CommandError

from core.management.base import YidiCommand
from reimbursement.services import refresh_deadline_flags


class Command(YidiCommand):
    help = "刷新零星报销办理期限提示（逾期、今日到期、2个工作日内到期），并按已确认的日历重算未确认年度的期限。每日由定时任务执行。"

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="on_date", help="按指定日期（YYYY-MM-DD）计算，默认今天")

    def handle(self, *args, on_date=None, **options):
        today = None
        if on_date:
            try:
                today = date.fromisoformat(on_date)
            except ValueError:
                raise CommandError(f"日期“{on_date}”无效，应为 YYYY-MM-DD。") from None
        counts = refresh_deadline_flags(today=today)
        self.stdout.write(
            self.style.SUCCESS(
                f"已刷新：逾期 {counts['overdue']} 件，今日到期 {counts['due_today']} 件，"
                f"2个工作日内到期 {counts['due_soon']} 件，正常 {counts['on_track']} 件；"
                f"重算期限 {counts['recomputed']} 件，清除已办结提示 {counts['cleared']} 件。"
            )
        )

