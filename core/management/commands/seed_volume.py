import random
import time

from django.core.management import CommandError, call_command
from django.db import connection

from core.management.base import YidiCommand
from core.models import Region, User
from core.reference import home_province_code


class Command(YidiCommand):
    help = (
        "为第一个演示城市增加 N 份备案和 N 份零星报销申请（含参保人员、材料、告知记录、历史和审计记录），"
        "用于容量和压力测试。没有演示数据时先写入演示数据。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--claims", type=int, default=0, help="增加的零星报销申请份数")
        parser.add_argument("--filings", type=int, default=0, help="增加的备案份数（同时登记同样人数的参保人员）")
        parser.add_argument("--seed", type=int, default=2026, help="随机数种子（同一种子得到同样的数据）")

    def handle(self, *args, claims: int, filings: int, seed: int, **options):
        from filings.volume import stamp_filings
        from reimbursement.volume import stamp_claims

        if claims < 0 or filings < 0:
            raise CommandError("份数不能为负数。")
        if not claims and not filings:
            raise CommandError("请用 --claims N 和/或 --filings N 指定要增加的份数。")
        city = Region.objects.cities_of(home_province_code()).order_by("sort_order", "code").first()
        clerk = User.objects.filter(agency__region=city, groups__name__isnull=False).order_by("pk").first()
        if city is None or clerk is None or not city.reimbursement_claims.exists():
            self.stdout.write("尚无演示数据，先运行 seed_demo ……")
            call_command("seed_demo", quiet=True, stdout=self.stdout)
            city = Region.objects.cities_of(home_province_code()).order_by("sort_order", "code").first()
            clerk = User.objects.filter(agency__region=city).order_by("pk").first()
        rng = random.Random(seed)
        started = time.monotonic()

        def say(what):
            def report(done, total):
                self.stdout.write(f"  {what} {done}/{total}（{time.monotonic() - started:.0f} 秒）")
            return report

        people = stamp_filings(region=city, count=max(filings, 1 if claims else 0), by=clerk, rng=rng,
                               say=say("备案")) if filings or claims else []
        if claims:
            stamp_claims(region=city, count=claims, person_ids=people, by=clerk, rng=rng, say=say("报销申请"))
        # What autovacuum would have done before anyone reads the rows (and what a bulk load must do
        # where it is off): the planner's statistics, and the visibility map that index-only scans need.
        # Not inside a transaction (a test): VACUUM cannot run there, and new statistics would change
        # the plans of every later test on the database.
        if not connection.in_atomic_block:
            self.stdout.write("  整理表并更新统计信息（VACUUM ANALYZE）……")
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")
        self.stdout.write(self.style.SUCCESS(
            f"{city.name}：新增备案 {max(filings, 1 if claims else 0)} 份、报销申请 {claims} 份，"
            f"用时 {time.monotonic() - started:.0f} 秒。"
        ))
