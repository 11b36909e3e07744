"""Demo data of 运行监测: the aggregates of every demo month, the province's
warning lines (and one city's own), and fund balances — one city short of six
months, so a flag shows. Idempotent; runs after clearing's demo (INSTALLED_APPS order)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from core.models import Region, User
from core.reference import home_province_code
from monitoring import rules, services
from monitoring.models import FundBalance, Threshold

#: (indicator, direction, value) the province sets for every city.
PROVINCE_LINES = [
    ("avg_cost_mom", "both", Decimal("30")),
    ("avg_cost_yoy", "both", Decimal("30")),
    ("fund_ratio", "outflow", Decimal("45")),
    ("direct_rate", "outflow", Decimal("80")),
    ("advance_usage", "both", Decimal("90")),
    ("payable_months", "both", Decimal("6")),
]


def seed(stdout=None) -> None:
    rebuilt = services.summary_ensure_all()
    officer = User.objects.filter(username="clearing_jiangsu").first()
    province = Region.objects.filter(code=home_province_code()).first()
    if officer is None or province is None:
        return
    for indicator, direction, value in PROVINCE_LINES:
        if not Threshold.objects.filter(region=province, indicator=indicator, direction=direction).exists():
            services.threshold_save(region=province, indicator=indicator, direction=direction, value=value,
                                    note="演示数据", by=officer)
    cities = list(Region.objects.cities_of(province).order_by("sort_order", "code"))
    if cities and not Threshold.objects.filter(region=cities[0]).exists():
        services.threshold_save(region=cities[0], indicator="avg_cost_mom", direction="both", value=Decimal("15"),
                                note="演示数据：本市从严", by=officer)
    last_month = rules.add_months(rules.month_code(timezone.localdate().year, timezone.localdate().month), -1)
    for index, city in enumerate([province, *cities]):
        if FundBalance.objects.filter(region=city).exists():
            continue
        monthly = Decimal(40_000_000 + 7_000_000 * index)
        months = Decimal("5.2") if index == 2 else Decimal(8 + index % 9)  # 无锡 short of six months
        services.fund_balance_save(region=city, period=last_month, balance=(monthly * months).quantize(Decimal("1")),
                                   monthly_expenditure=monthly, note="演示数据", by=officer)
    _report(last_month, officer)
    if stdout:
        stdout.write(f"  monitoring: {len(rebuilt)} 个月份重新汇总，{Threshold.objects.count()} 条预警值，"
                     f"{FundBalance.objects.count()} 条基金结余")


def _report(month: str, officer) -> None:
    """Last month's 运行分析报告, rendered by its job handler right here (in-process,
    as the sync runner would: a job queued for the thread runner would die with
    this command's process). Kept on later runs."""
    from core.jobs import run_job_now
    from core.models import Document, Job
    from monitoring.models import PeriodSummary

    if Document.objects.filter(kind="monitoring.report").exists() or not PeriodSummary.objects.filter(period=month).exists():
        return
    spec = rules.parse_period(month)
    job = Job.objects.create(
        kind="monitoring.render_report", title=f"生成{spec.label}异地就医直接结算运行分析报告（演示数据）",
        params={"period": spec.code}, created_by=officer, region=Region.objects.get(code=home_province_code()),
    )
    run_job_now(job.pk)
