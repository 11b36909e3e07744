"""python manage.py monitoring_report --period YYYY-MM [--json] (domain.md §7)."""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from core.management.base import YidiCommand
from monitoring import rules, selectors, services


class Command(YidiCommand):
    requires_system_checks = []  # timed next to a bare GROUP BY; the PDF toolchain is the report job's business
    help = "某月异地就医运行监测指标（差出按参保地、差进按就医地；各设区市及全省）；--json 按 domain.md §7 的格式输出。"

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="所属期 YYYY-MM")
        parser.add_argument("--json", action="store_true", dest="as_json", help="输出 JSON")

    def handle(self, *args, period: str, as_json: bool = False, **options):
        try:
            spec = rules.parse_period(period)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if spec.kind != "month":
            raise CommandError("--period 须为月份，格式 YYYY-MM（如 2026-03）。")
        # The aggregates are kept on import; records that came another way are summarised now.
        services.summary_ensure(periods=[spec.code, spec.previous.code, spec.year_ago.code])
        document = selectors.report_json(spec.code)
        if as_json:
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=1))
            return
        names = selectors.region_names()
        for direction, label in selectors.DIRECTIONS.items():
            self.stdout.write(f"{spec.label} {label}")
            self.stdout.write(f"  {'地区':<6}{'人次':>10}{'总费用':>18}{'基金支付':>18}{'次均费用':>12}{'报销比例':>10}{'环比':>10}{'同比':>10}")
            for code, row in document[direction].items():
                self.stdout.write(
                    f"  {names.get(code, code):<6}{row['visits']:>10}{row['total']:>18}{row['fund']:>18}{row['avg_cost']:>12}"
                    f"{row['fund_ratio']:>10}{row['avg_cost_mom'] or '—':>10}{row['avg_cost_yoy'] or '—':>10}"
                )
