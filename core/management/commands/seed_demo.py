from django.conf import settings
from django.db import transaction

from core.demo import DEMO_PASSWORD, demo_users
from core.discovery import app_modules
from core.management.base import YidiCommand
from core.otp import DEMO_TOTP_SECRET
from core.roles import sync_role_groups
from core.services import seed_calendar_from_package


class Command(YidiCommand):
    help = "写入演示数据（可重复运行，不会重复写入）：地区、经办机构、定点机构、参保人、演示账号，以及各业务模块的演示数据。"

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="不打印演示账号")

    def handle(self, *args, quiet=False, **options):
        sync_role_groups()
        seed_calendar_from_package()
        # Each app seeds its own demo data in `<app>/demo.py`, in INSTALLED_APPS
        # order (filings before reimbursement, which uses them).
        # In-process jobs (no Redis) would run in threads of this command: they would wait for its
        # long transactions on SQLite's single writer and die with the command. Run them here instead.
        runner = settings.YIDI_JOB_RUNNER
        if runner == "thread":
            settings.YIDI_JOB_RUNNER = "sync"
        try:
            for module in app_modules("demo"):
                with transaction.atomic():
                    module.seed(stdout=self.stdout)
        finally:
            settings.YIDI_JOB_RUNNER = runner
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。"))
        if not quiet:
            self.stdout.write(
                f"演示账号（密码均为 {DEMO_PASSWORD}；动态口令密钥均为 {DEMO_TOTP_SECRET}，"
                "当前口令运行 python manage.py demo_otp 查看）："
            )
            for username, full_name, role, _region in demo_users():
                self.stdout.write(f"  {username:<20} {full_name}（{role.label if role else ''}）")
