#!/usr/bin/env python
"""Benchmark: a month of 1,000,000 settlement rows, imported and cleared,
next to what PostgreSQL itself needs for the same work.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yidi_bench .venv/bin/python scripts/benchmark_clearing.py

* import: `clearing.importers.import_file` (validated, committed) against a bare
  `COPY … FROM STDIN WITH (FORMAT csv, ENCODING …)` of the same file into the same
  table, `clearing_settlement`, from the same state (the month deleted, the table
  vacuumed, a checkpoint): no validation, nothing else. A freshly created table
  took the COPY ~0.2 s less than the table that has held the month before (its free
  space and index pages), for the bare COPY and the import alike; so both go into
  the one table;
* clearing: `clearing.services.clearing_compute` (aggregation + stored result
  rows + period bookkeeping) against the bare `SELECT … GROUP BY` over the same rows.

Runs are interleaved (COPY, import, COPY, import, …) after a CHECKPOINT each;
medians and best-of-N are compared. The generated file is deterministic (fixed
seed). The import validates beside the database's own work (see
clearing.importers), so the ratio is best with two or more CPU cores.
It is a script, not a test: it needs PostgreSQL and takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

HOME = ["320100", "320200", "320300", "320400", "320500", "320600", "320700", "320800", "320900", "321000", "321100", "321200", "321300"]
OTHER = [
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000", "310000", "330000", "340000",
    "350000", "360000", "370000", "410000", "420000", "430000", "440000", "450000", "460000", "500000", "510000",
    "520000", "530000", "540000", "610000", "620000", "630000", "640000", "650000", "330100", "440300", "510100",
]
INSTITUTIONS = ["南京鼓楼医院", "苏州大学附属第一医院", "北京协和医院", "浙江大学医学院附属第一医院", "𠮷祥诊所·社区卫生服务中心", "无锡市人民医院"]
COLUMNS = "settlement_id,period,insured_region,treatment_region,insurance_type,care_type,settled_on,total_amount,fund_amount,institution"


def generate(path: Path, rows: int, period: str, encoding: str, seed: int = 20261, quoted: bool = False) -> None:
    """A deterministic month: 60 % intra-province, 20 % each cross-province direction.
    `quoted`: every field in double quotes, as some spreadsheet exports write them."""
    rng = random.Random(seed)
    year, month = (int(part) for part in period.split("-"))
    with path.open("w", encoding=encoding, newline="") as handle:
        handle.write(COLUMNS + "\r\n")
        batch = []
        for index in range(rows):
            draw = rng.random()
            if draw < 0.6:
                insured, treatment = rng.sample(HOME, 2)
            elif draw < 0.8:
                insured, treatment = rng.choice(HOME), rng.choice(OTHER)
            else:
                insured, treatment = rng.choice(OTHER), rng.choice(HOME)
            total = rng.randint(1000, 5_000_000)
            fund = total * rng.randint(30, 95) // 100
            fields = (
                f"B{year}{month:02d}{index:010d}", period, insured, treatment, rng.choice(("310", "390")),
                rng.choice(("inpatient", "outpatient", "chronic")), f"{year}-{month:02d}-{rng.randint(1, 28):02d}",
                f"{total // 100}.{total % 100:02d}", f"{fund // 100}.{fund % 100:02d}", rng.choice(INSTITUTIONS),
            )
            batch.append(",".join(f'"{field}"' for field in fields) + "\r\n" if quoted else ",".join(fields) + "\r\n")
            if len(batch) >= 10000:
                handle.writelines(batch)
                batch.clear()
        handle.writelines(batch)


def _ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database if it does not exist yet."""
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
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--period", default="2030-01", help="a month nobody else uses (its rows are deleted first)")
    parser.add_argument("--encoding", default="gb18030", choices=["gb18030", "utf-8"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--file", help="reuse this CSV instead of generating one")
    parser.add_argument("--quoted", action="store_true", help="generate every field in double quotes")
    parser.add_argument(
        "--command", action="store_true", help="time `manage.py import_settlements FILE` as a whole process (start-up included)"
    )
    args = parser.parse_args()
    _ensure_database(os.environ.get("DATABASE_URL", ""))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("The benchmark compares against PostgreSQL's COPY: set DATABASE_URL to a PostgreSQL database.")
    call_command("migrate", verbosity=0)

    from clearing.models import ClearingPeriod, Settlement

    with tempfile.TemporaryDirectory(prefix="clearing-bench-") as workdir:
        path = Path(args.file) if args.file else Path(workdir) / f"settlements-{args.period}.{args.encoding}.csv"
        if not args.file:
            started = time.perf_counter()
            generate(path, args.rows, args.period, args.encoding, quoted=args.quoted)
            quoting = ", every field quoted" if args.quoted else ""
            print(f"generated {args.rows:,} rows ({path.stat().st_size / 1048576:.0f} MB, {args.encoding}{quoting}) "
                  f"in {time.perf_counter() - started:.1f} s: {path}")
        try:
            run(args, path, connection)
        finally:
            Settlement.objects.filter(period=args.period).delete()
            ClearingPeriod.objects.filter(period=args.period).delete()


def run(args, path: Path, connection) -> None:
    from django.db import transaction

    from clearing.importers import import_file
    from clearing.models import ClearingPeriod, ClearingResult, Settlement
    from clearing.services import clearing_compute, period_get_or_create

    pg_encoding = "GB18030" if args.encoding == "gb18030" else "UTF8"

    def reset() -> None:
        ClearingResult.objects.filter(period__period=args.period).delete()
        ClearingPeriod.objects.filter(period=args.period).delete()
        Settlement.objects.filter(period=args.period).delete()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM clearing_settlement")
            cursor.execute("CHECKPOINT")

    def bare_copy() -> float:
        started = time.perf_counter()
        sql = f"COPY clearing_settlement ({COLUMNS}) FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING '{pg_encoding}')"
        with transaction.atomic(), connection.cursor() as cursor, cursor.copy(sql) as copy, path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        return time.perf_counter() - started

    def ours() -> float:
        if args.command:
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, str(ROOT / "manage.py"), "import_settlements", str(path)], capture_output=True, text=True
            )
            seconds = time.perf_counter() - started
            if done.returncode or Settlement.objects.filter(period=args.period).count() != args.rows:
                sys.exit(f"import failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
            # Where the process's time goes: the import as the command reports it, the month's
            # monitoring aggregates (built before the command returns), and the rest (start-up).
            from monitoring.models import SummaryBuild

            reported = re.search(r"用时 ([0-9.]+) 秒", done.stdout)
            build = SummaryBuild.objects.filter(period=args.period).first()
            load = float(reported.group(1)) if reported else float("nan")
            aggregates = build.seconds if build else 0.0
            ours.path = (f"command: import {load:.2f} s, monitoring aggregates {aggregates:.2f} s, "
                         f"start-up and the rest {seconds - load - aggregates:.2f} s")
            return seconds
        started = time.perf_counter()
        report = import_file(path)
        seconds = time.perf_counter() - started
        if not report.committed or report.inserted != args.rows:
            sys.exit(f"import failed: {report.text()[:2000]}")
        ours.path = report.path
        return seconds

    if args.command:
        # As deployed (make setup, docs/deployment.md): the project's bytecode compiled ahead, so
        # that the process does not compile ~120 modules at start-up where PYTHONDONTWRITEBYTECODE is set.
        apps = ["config", "core", "filings", "reimbursement", "clearing", "cooperation", "monitoring"]
        subprocess.run([sys.executable, "-m", "compileall", "-q", *apps], cwd=ROOT, check=True, capture_output=True)

    copy_times, import_times = [], []
    for run in range(args.repeat):
        reset()
        copy_times.append(bare_copy())
        reset()
        import_times.append(ours())
        path_note = ours.path if args.command else f"{ours.path} path"
        print(f"  run {run + 1}: COPY {copy_times[-1]:.2f} s   import_settlements {import_times[-1]:.2f} s ({path_note})")
    copy_median, import_median = statistics.median(copy_times), statistics.median(import_times)

    started = time.perf_counter()
    again = import_file(path)
    reimport = time.perf_counter() - started
    assert again.inserted == 0 and again.skipped == args.rows, again.text()[:500]

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE clearing_settlement")

    period = period_get_or_create(args.period)
    group_times, compute_times = [], []
    sql = (
        "SELECT insured_region, treatment_region, insurance_type, SUM(fund_amount), COUNT(*) "
        "FROM clearing_settlement WHERE period = %s GROUP BY insured_region, treatment_region, insurance_type"
    )
    for _run in range(args.repeat):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, [args.period])
            cells = cursor.fetchall()
        group_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        period = clearing_compute(period=period, by=None)
        compute_times.append(time.perf_counter() - started)
    group_median, compute_median = statistics.median(group_times), statistics.median(compute_times)

    print()
    print(f"{args.rows:,} rows, {path.stat().st_size / 1048576:.0f} MB {args.encoding}, PostgreSQL {connection.pg_version // 10000}, medians of {args.repeat}")
    print(f"import   : bare COPY {copy_median:6.2f} s   import_settlements {import_median:6.2f} s   ratio {import_median / copy_median:.2f}  (target ≤ 1.5)")
    print(f"           best of {args.repeat}: COPY {min(copy_times):.2f} s, import {min(import_times):.2f} s, ratio {min(import_times) / min(copy_times):.2f}")
    print(f"re-import: {reimport:6.2f} s (adds nothing: {again.skipped:,} rows already present)")
    print(f"clearing : bare GROUP BY {group_median:6.2f} s ({len(cells)} groups)   run_clearing {compute_median:6.2f} s   ratio {compute_median / group_median:.2f}  (target ≤ 1.5)")
    print(f"           best of {args.repeat}: GROUP BY {min(group_times):.2f} s, run_clearing {min(compute_times):.2f} s, ratio {min(compute_times) / min(group_times):.2f}")
    print(f"           {period.settlement_count:,} settlements, fund total {period.fund_total} yuan")



if __name__ == "__main__":
    main()
