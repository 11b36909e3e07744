"""python manage.py run_clearing --period YYYY-MM [--json] (domain.md §7)."""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from clearing import selectors, services
from core.errors import DomainError
from core.management.base import YidiCommand
from core.money import format_yuan


class Command(YidiCommand):
    requires_system_checks = []  # timed next to a bare GROUP BY; the PDF toolchain checks are render_notices' business
    help = "生成（可重复执行）某月的省内清算平衡表和跨省清算矩阵；--json 按 domain.md §7 的格式输出。"

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="清算所属期 YYYY-MM")
        parser.add_argument("--json", action="store_true", dest="as_json", help="输出 JSON")

    def handle(self, *args, period: str, as_json: bool = False, **options):
        try:
            record = services.period_get_or_create(period)
            if record.is_editable:
                record = services.clearing_compute(period=record, by=None)
            elif not as_json:
                self.stderr.write(f"{record.label}清算已下达通知书（{record.get_status_display()}），输出已保存的清算结果。")
        except DomainError as exc:
            raise CommandError(exc.message) from None
        document = selectors.clearing_json(record)
        if as_json:
            self.stdout.write(_dumps(document))
            return
        self._print_table(record, document)

    def _print_table(self, record, document) -> None:
        self.stdout.write(f"{record.label}清算：{record.settlement_count} 条结算明细，基金支付合计 {format_yuan(record.fund_total)} 元")
        self.stdout.write("省内（差额 = 应回收 − 应支付）：")
        names = {city.code: city.name for city in selectors.cities()}
        for code, row in document["intra_province"].items():
            self.stdout.write(
                f"  {names.get(code, code):<6} 应回收 {row['receivable']['total']:>14}  应支付 {row['payable']['total']:>14}  差额 {row['net']['total']:>14}"
            )
        for block, label in (("payable", "跨省应付（收款省）"), ("receivable", "跨省应收（付款省）")):
            total = sum(float(cell["total"]) for row in document["cross_province"][block].values() for cell in row.values())
            self.stdout.write(f"{label}合计 {total:,.2f} 元")


def _dumps(document) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1)
