#!/usr/bin/env python
"""Benchmark of 运行监测 on PostgreSQL: months of 1,000,000 settlement rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yidi_monitoring_bench .venv/bin/python scripts/benchmark_monitoring.py

* `monitoring_report --period P --json` for a 1,000,000-row month next to the bare
  `SELECT … GROUP BY insured_region, treatment_region, insurance_type, care_type`
  over the same rows: cold (the month's aggregates rebuilt first, i.e. the one scan
  of the raw rows the import pays) and warm (the aggregates kept since the import);
* the monitoring page of a year (12 × 1,000,000 rows, trends over 24 months) and of a
  month (13-month trend), served through Django's test client as the province's
  clearing officer.

The months are generated inside PostgreSQL (generate_series, fixed seed): 60 %
intra-province, 20 % each cross-province direction, ~4,000 institutions. They are
left in the benchmark database between runs (pass --fresh to regenerate).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("YIDI_JOB_RUNNER", "sync")

YEAR = 2031  # a year nobody else uses: its rows are the benchmark's own

GENERATE = """
INSERT INTO clearing_settlement (settlement_id, period, insured_region, treatment_region, insurance_type, care_type,
                                 settled_on, total_amount, fund_amount, institution)
SELECT 'MB' || %(period)s || lpad(i::text, 8, '0'), %(period)s, insured, treatment,
       CASE WHEN r1 < 0.55 THEN '310' ELSE '390' END,
       (ARRAY['inpatient', 'outpatient', 'chronic'])[1 + floor(r2 * 3)::int],
       %(first)s::date + floor(r3 * 28)::int, total, round(total * (0.30 + r4 * 0.65)::numeric, 2),
       treatment || '定点医院' || lpad(floor(r5 * 120)::text, 3, '0')
FROM (
  SELECT i, r1, r2, r3, r4, r5, total,
         CASE WHEN d < 0.8 THEN (%(home)s::text[])[1 + a] ELSE (%(other)s::text[])[1 + o] END AS insured,
         CASE WHEN d < 0.6 THEN (%(home)s::text[])[1 + (a + 1 + b %% 12) %% 13]  -- another city of the province
              WHEN d < 0.8 THEN (%(other)s::text[])[1 + o]
              ELSE (%(home)s::text[])[1 + a] END AS treatment
  FROM (
    SELECT i, random() AS d, floor(random() * 13)::int AS a, floor(random() * 13)::int AS b,
           floor(random() * %(n_other)s)::int AS o, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
           random() AS r5, round((10 + random() * random() * 60000)::numeric, 2) AS total
    FROM generate_series(1, %(rows)s) AS i
  ) AS draws
) AS rows
"""

BARE = (
    "SELECT insured_region, treatment_region, insurance_type, care_type, COUNT(*), SUM(total_amount), SUM(fund_amount) "
    "FROM clearing_settlement WHERE period = %s GROUP BY insured_region, treatment_region, insurance_type, care_type"
)


def _ensure_database(url: str) -> None:
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import dj_database_url
    import psycopg

    conf = dj_database_url.parse(url)
    params = {"host": conf["HOST"] or "127.0.0.1", "port": conf["PORT"] or 5432, "user": conf["USER"], "password": conf["PASSWORD"] or None}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [conf["NAME"]]).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{conf["NAME"]}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per month")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="regenerate the benchmark months")
    args = parser.parse_args()
    _ensure_database(os.environ.get("DATABASE_URL", ""))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("The benchmark is about PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
    call_command("migrate", verbosity=0)
    from clearing.models import Settlement
    from monitoring import services
    from monitoring.models import SummaryBuild

    months = [f"{YEAR}-{month:02d}" for month in range(1, args.months + 1)]
    report_month = months[-1]
    _generate(connection, months, args, Settlement)
    started = time.perf_counter()
    built = services.summary_ensure(periods=months, recount=args.fresh)
    print(f"aggregates of {len(built)} months built in {time.perf_counter() - started:.1f} s "
          f"({SummaryBuild.objects.get(period=report_month).row_count:,} summary rows for {report_month})")

    def bare() -> float:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(BARE, [report_month])
            bare.groups = len(cursor.fetchall())
        return time.perf_counter() - started

    def report(cold: bool) -> float:
        if cold:
            SummaryBuild.objects.filter(period=report_month).delete()
        started = time.perf_counter()
        out = StringIO()
        call_command("monitoring_report", "--period", report_month, "--json", stdout=out)
        seconds = time.perf_counter() - started
        report.size = len(out.getvalue())
        return seconds

    bare_times, cold_times, warm_times = [], [], []
    bare()  # warm the cache: every run then reads the same buffers
    for _run in range(args.repeat):
        bare_times.append(bare())
        cold_times.append(report(cold=True))
        warm_times.append(report(cold=False))
    page_times = _pages(report_month, args.repeat)

    b, c, w = (statistics.median(t) for t in (bare_times, cold_times, warm_times))
    rows = Settlement.objects.filter(period=report_month).count()
    print()
    print(f"PostgreSQL {connection.pg_version // 10000}, {rows:,} rows in {report_month}, {len(months)} months of {args.rows:,}; medians of {args.repeat}")
    print(f"bare GROUP BY                      {b:7.3f} s   ({bare.groups:,} groups)")
    print(f"monitoring_report --json (cold)    {c:7.3f} s   ratio {c / b:.2f}  (aggregates rebuilt first: what an import adds)")
    print(f"monitoring_report --json (warm)    {w:7.3f} s   ratio {w / b:.2f}  (aggregates kept since the import; target ≤ 1.5)")
    for label, times in page_times.items():
        print(f"{label:<34} {statistics.median(times):7.3f} s   (best {min(times):.3f} s)")


def _generate(connection, months, args, Settlement) -> None:
    from core.models import Region
    from core.reference import home_province_code

    home = list(Region.objects.cities_of(home_province_code()).order_by("code").values_list("code", flat=True))
    other = list(Region.objects.provinces().exclude(code=home_province_code()).values_list("code", flat=True))
    for month in months:
        have = Settlement.objects.filter(period=month).count()
        if have == args.rows and not args.fresh:
            continue
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM clearing_settlement WHERE period = %s", [month])
            cursor.execute("SELECT setseed(%s)", [int(month[5:]) / 100])
            cursor.execute(GENERATE, {"period": month, "first": f"{month}-01", "rows": args.rows, "home": home, "other": other, "n_other": len(other)})
        print(f"generated {args.rows:,} rows for {month} in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE clearing_settlement")


def _pages(month: str, repeat: int) -> dict[str, list[float]]:
    from django.test import Client

    from core.models import Role
    from core.tests.factories import make_user

    officer = make_user("bench_clearing_officer", Role.CLEARING_OFFICER, "320000")
    client = Client()
    client.force_login(officer)
    urls = {
        "page: year (12 months, 24-mo trend)": f"/monitoring/?period={month[:4]}",
        "page: month (13-month trend)": f"/monitoring/?period={month}",
        "XLSX export of the year": f"/monitoring/export.xlsx?period={month[:4]}",
    }
    times: dict[str, list[float]] = {label: [] for label in urls}
    for label, url in urls.items():
        client.get(url)  # first request: templates compiled
        for _run in range(repeat):
            started = time.perf_counter()
            response = client.get(url)
            times[label].append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
    return times


if __name__ == "__main__":
    main()
