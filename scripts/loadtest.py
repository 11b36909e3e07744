#!/usr/bin/env python
"""`make loadtest`: the portal under gunicorn (4 workers, production settings, plain HTTP on
loopback) with locust's scenario (scripts/locustfile.py) run headless against it for a bounded
time and user count; prints throughput, p50/p95/p99 and errors per page and overall.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yidi_load .venv/bin/python scripts/loadtest.py --users 20 --time 60s

The database is migrated and given the demo data when it has none (seed_volume adds volume to it).
Every user signs in through the real two-step login (see the locustfile). Not a test: figures only.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MAX_USERS = 500


def server_env(database_url: str, cache_url: str = "") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="0",
        DJANGO_HTTPS="0",
        DJANGO_STATIC_FROM_SOURCE="1",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or "loadtest-" + "x" * 50,
        YIDI_JOB_RUNNER="sync",
    )
    env.pop("REDIS_URL", None)
    env.pop("CACHE_URL", None)
    if cache_url:  # shared by the workers, as in production (the home figures are kept there)
        env["CACHE_URL"] = cache_url
    return env


def reachable_cache(cache_url: str) -> str:
    """The Redis cache if it answers (emptied first), else "" with a note: per-process caches."""
    if not cache_url:
        return ""
    try:
        import redis

        client = redis.Redis.from_url(cache_url, socket_connect_timeout=2)
        client.flushdb()
    except Exception as exc:  # noqa: BLE001 - any failure means: run without it, and say so
        print(f"注意：缓存 {cache_url} 不可用（{exc}），各进程使用本地缓存，首页数字每次重新统计。")
        return ""
    return cache_url


def prepare(env: dict[str, str]) -> dict[str, str]:
    """Migrate, demo data if missing, and the scenario's accounts and search values (LOADTEST_*)."""
    manage = [str(BIN / "python"), "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    probe = (
        "from core.demo import demo_users\n"
        "from core.models import User, Region\n"
        "from core.reference import home_province_code\n"
        "users = demo_users()\n"
        "print('READY' if User.objects.filter(username=users[0][0]).exists() else 'EMPTY')\n"
    )
    out = subprocess.run([*manage, "shell", "-c", probe], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    if "EMPTY" in out.stdout:
        subprocess.run([*manage, "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    values = (
        "from core.demo import demo_users\n"
        "from core.models import Role\n"
        "from clearing.models import ClearingPeriod\n"
        "from reimbursement.models import Claim\n"
        "from core.models import Region\n"
        "from core.reference import home_province_code\n"
        "city = Region.objects.cities_of(home_province_code()).order_by('sort_order', 'code').first()\n"
        "users = demo_users()\n"
        "first = {}\n"
        "for name, _full, role, region in users:\n"
        "    if role is not None and (region == city.code or role == Role.CLEARING_OFFICER):\n"
        "        first.setdefault(role, name)\n"
        "claim = Claim.objects.filter(region=city).select_related('person').order_by('-pk').first()\n"
        "period = ClearingPeriod.objects.order_by('-settlement_count', '-period').first()\n"
        "print('LOADTEST_CLERK=' + first[Role.CLERK])\n"
        "print('LOADTEST_SUPERVISOR=' + first[Role.SUPERVISOR])\n"
        "print('LOADTEST_FINANCE=' + first[Role.FINANCE])\n"
        "print('LOADTEST_CLEARING=' + first[Role.CLEARING_OFFICER])\n"
        "print('LOADTEST_ID_NUMBER=' + claim.person.id_number)\n"
        "print('LOADTEST_LAST4=' + claim.person.id_number[-4:])\n"
        "print('LOADTEST_NAME=' + claim.person.name)\n"
        "print('LOADTEST_PERIOD=' + (period.period if period else ''))\n"
    )
    out = subprocess.run([*manage, "shell", "-c", values], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    found = dict(line.split("=", 1) for line in out.stdout.splitlines() if line.startswith("LOADTEST_"))
    return found


def wait_until_up(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn 未能启动。")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn 60 秒内没有响应 /healthz。")


def report(prefix: str, users: int, run_time: str) -> None:
    with open(prefix + "_stats.csv", encoding="utf-8") as stats:
        rows = list(csv.DictReader(stats))
    print(f"\n== locust: {users} users, {run_time}, gunicorn 4 workers on 127.0.0.1 ==")
    header = f"{'page':<40}{'reqs':>7}{'err':>6}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    print(header)
    print("-" * len(header))
    for row in rows:
        name = f"{row['Type']} {row['Name']}" if row["Name"] != "Aggregated" else "ALL (pages; sign-in not measured)"
        if row["Name"] == "Aggregated":
            print("-" * len(header))
        print(f"{name:<40}{row['Request Count']:>7}{row['Failure Count']:>6}{float(row['Requests/s']):>8.1f}"
              f"{row['50%']:>9}{row['95%']:>9}{row['99%']:>9}")
    with open(prefix + "_failures.csv", encoding="utf-8") as errors:
        failures = list(csv.DictReader(errors))
    for row in failures:
        print(f"  error: {row['Name']}: {row['Error']} × {row['Occurrences']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--time", default="60s", help="locust --run-time (e.g. 60s, 2m)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOADTEST_PORT", "8113")))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--think", default=os.environ.get("LOADTEST_THINK", "0.5-2"),
                        help="each user's pause between pages, seconds: MIN-MAX")
    parser.add_argument("--cache-url", default=os.environ.get("LOADTEST_CACHE_URL", "redis://127.0.0.1:6379/12"),
                        help="the cache shared by the workers (CACHE_URL); '' for per-process caches")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL")
                        or "postgres://postgres@127.0.0.1:5432/yidi_load")
    args = parser.parse_args()
    if not 1 <= args.users <= MAX_USERS:
        raise SystemExit(f"--users 需在 1 到 {MAX_USERS} 之间。")
    think_min, _, think_max = args.think.partition("-")
    try:
        think = (float(think_min), float(think_max or think_min))
    except ValueError:
        raise SystemExit("--think 应为 最短-最长 秒数，例如 0.5-2。") from None
    if not 0 <= think[0] <= think[1]:
        raise SystemExit("--think 的最短停顿不能大于最长停顿，也不能为负。")
    cache_url = reachable_cache(args.cache_url)
    env = server_env(args.database_url, cache_url)
    scenario = prepare(env)
    scenario.update(LOADTEST_THINK_MIN=str(think[0]), LOADTEST_THINK_MAX=str(think[1]))
    print(f"think time {think[0]}–{think[1]} s per user; cache: {cache_url or 'per process'}")
    host = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
         "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    try:
        wait_until_up(host, server)
        with tempfile.TemporaryDirectory(prefix="yidi-loadtest-") as tmp:
            prefix = str(Path(tmp) / "run")
            locust_env = dict(os.environ, **scenario)
            subprocess.run(
                [str(BIN / "locust"), "-f", str(ROOT / "scripts" / "locustfile.py"), "--headless",
                 "--host", host, "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
                 "--run-time", args.time, "--stop-timeout", "10", "--csv", prefix, "--only-summary",
                 "--loglevel", "WARNING", "--exit-code-on-error", "0"],
                cwd=ROOT, env=locust_env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            report(prefix, args.users, args.time)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
