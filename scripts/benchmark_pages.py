#!/usr/bin/env python
"""Median time of the main pages at demo size and at volume, and the ratio (goal ≤ 1.5×).

    .venv/bin/python scripts/benchmark_pages.py \
        --demo postgres://postgres@127.0.0.1:5432/yidi_load_demo \
        --volume postgres://postgres@127.0.0.1:5432/yidi_load

Both databases hold the demo (`manage.py seed_demo`); the volume one also what
`manage.py seed_volume --claims 100000 --filings 300000` adds. Each page is served through
Django's test client (production settings, DEBUG off) as the demo account of its role in the
first demo city, once to warm up and then --repeat times; the median is printed.
Not a test: figures for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (label, role, path); {id}, {last4}, {name}, {period} filled in from the database.
PAGES = [
    ("home (clerk)", "CLERK", "/"),
    ("home (supervisor)", "SUPERVISOR", "/"),
    ("home (finance)", "FINANCE", "/"),
    ("home (admin)", "ADMINISTRATOR", "/"),
    ("claim intake", "CLERK", "/reimbursement/claims/new/"),
    ("claims list", "CLERK", "/reimbursement/claims/"),
    ("claims search: ID number", "CLERK", "/reimbursement/claims/?q={id}"),
    ("claims search: last 4", "CLERK", "/reimbursement/claims/?q={last4}"),
    ("claims search: name", "CLERK", "/reimbursement/claims/?q={name}"),
    ("filings list", "CLERK", "/filings/"),
    ("filings search: ID number", "CLERK", "/filings/?q={id}"),
    ("filings search: name", "CLERK", "/filings/?q={name}"),
    ("documents", "CLERK", "/documents/"),
    ("jobs", "CLERK", "/jobs/"),
    ("claims filtered: overdue", "CLERK", "/reimbursement/claims/?deadline=overdue"),
    ("claims page 200", "CLERK", "/reimbursement/claims/?page=200"),
    # the deepest page the capped lists offer (10,000 rows: page 400); at demo size the last page
    ("claims last page", "CLERK", "/reimbursement/claims/?page=400"),
    ("filings last page", "CLERK", "/filings/?page=400"),
    ("deadlines queue", "CLERK", "/reimbursement/deadlines/"),
    ("filings filtered: active", "CLERK", "/filings/?status=active"),
    ("filings review queue", "SUPERVISOR", "/filings/review/"),
    ("commitments queue", "CLERK", "/filings/commitments/"),
    ("approvals queue", "SUPERVISOR", "/reimbursement/approvals/"),
    ("finance payments", "FINANCE", "/reimbursement/payments/"),
    ("clearing periods", "CLEARING_OFFICER", "/clearing/"),
    ("settlement list", "CLEARING_OFFICER", "/clearing/periods/{period}/settlements/"),
    ("monitoring overview", "CLEARING_OFFICER", "/monitoring/"),
]


def measure(repeat: int) -> dict[str, list]:
    """Run inside a process whose DATABASE_URL is the database to measure."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.test import Client

    from clearing.models import ClearingPeriod
    from core.demo import demo_users
    from core.models import Region, Role, User
    from core.reference import home_province_code
    from reimbursement.models import Claim

    city = Region.objects.cities_of(home_province_code()).order_by("sort_order", "code").first()
    accounts: dict[str, str] = {}
    for username, _full, role, region in demo_users():
        if role is not None and (region == city.code or role in (Role.CLEARING_OFFICER, Role.ADMINISTRATOR)):
            accounts.setdefault(role.name, username)
    # a person of the demo (present in both databases), so both searches find the same few rows
    claim = Claim.objects.filter(region=city).select_related("person").order_by("pk").first()
    period = ClearingPeriod.objects.order_by("-settlement_count", "-period").first()
    values = {"id": claim.person.id_number, "last4": claim.person.id_number[-4:], "name": claim.person.name,
              "period": period.period if period else ""}
    clients: dict[str, Client] = {}
    results = {}
    for label, role, path in PAGES:
        if role not in clients:
            clients[role] = Client()
            clients[role].force_login(User.objects.get(username=accounts[role]))
        client = clients[role]
        url = path.format(**values)
        timings = []
        status = None
        for run in range(repeat + 1):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            status = response.status_code
            if run:
                timings.append(elapsed)
        results[label] = [statistics.median(timings), status, len(response.content), timings]
    return results


def run_on(database_url: str, repeat: int, cache_url: str = "") -> dict[str, list]:
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_DEBUG="0", DJANGO_HTTPS="0",
               DJANGO_ALLOWED_HOSTS="testserver", YIDI_OTP_REQUIRED="0", YIDI_AXES_ENABLED="0",
               YIDI_JOB_RUNNER="sync", DJANGO_STATIC_FROM_SOURCE="1",
               DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or "benchmark-" + "x" * 50)
    env.pop("REDIS_URL", None)
    env.pop("CACHE_URL", None)
    if cache_url:  # a shared cache, as in production: the home figures are kept (core.figures)
        env["CACHE_URL"] = cache_url
        flush = "from django.core.cache import cache; cache.clear()"
        subprocess.run([sys.executable, "manage.py", "shell", "-c", flush], env=env, cwd=ROOT, check=True,
                       capture_output=True)
    out = subprocess.run([sys.executable, __file__, "--measure", "--repeat", str(repeat)], env=env, cwd=ROOT,
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def combine(runs: list[dict[str, list]]) -> dict[str, list]:
    """Per page: the median of every timing of every round, the last status and size."""
    return {label: [statistics.median(t for run in runs for t in run[label][3]), *runs[-1][label][1:3]]
            for label in runs[0]}


def counts(database_url: str) -> str:
    env = dict(os.environ, DATABASE_URL=database_url)
    script = ("from reimbursement.models import Claim; from filings.models import Filing; "
              "print(f'{Claim.objects.count():,} claims, {Filing.objects.count():,} filings')")
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], env=env, cwd=ROOT,
                         check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="postgres://postgres@127.0.0.1:5432/yidi_load_demo")
    parser.add_argument("--volume", default="postgres://postgres@127.0.0.1:5432/yidi_load")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=1, help="alternate demo and volume this many times")
    parser.add_argument("--cache-url", default="",
                        help="a Redis database for the cache (CACHE_URL), as production has; emptied before each run."
                             " Without it the home figures are counted on every request")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.repeat)))
        return
    print(f"demo:   {counts(args.demo)}")
    print(f"volume: {counts(args.volume)}")
    # Demo and volume alternate round by round, so a change in the machine's load (other sessions)
    # weighs on both sides alike; each figure is the median over all rounds.
    demo_runs, volume_runs = [], []
    for _round in range(args.rounds):
        demo_runs.append(run_on(args.demo, args.repeat, args.cache_url))
        volume_runs.append(run_on(args.volume, args.repeat, args.cache_url))
    demo, volume = combine(demo_runs), combine(volume_runs)
    header = f"{'page':<28}{'demo ms':>9}{'volume ms':>11}{'ratio':>8}  {'KB demo/volume':>14}  status"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for label, _role, _path in PAGES:
        d, v = demo[label], volume[label]
        ratio = v[0] / d[0] if d[0] else float("inf")
        worst = max(worst, ratio)
        flag = "" if ratio <= 1.5 else "  > 1.5×"
        sizes = f"{d[2] / 1024:.0f}/{v[2] / 1024:.0f}"
        print(f"{label:<28}{d[0]:>9.1f}{v[0]:>11.1f}{ratio:>7.2f}×  {sizes:>14}  {d[1]}/{v[1]}{flag}")
    print(f"cache: {args.cache_url or 'per process, home figures counted on every request'}")
    print(f"worst ratio {worst:.2f}× (median of {args.rounds} × {args.repeat} after one warm-up each; goal ≤ 1.5×)")


if __name__ == "__main__":
    main()
