"""The load scenario of `make loadtest` (run by scripts/loadtest.py; see docs/performance.md).

Signed-in staff of the first demo city and the province at work: the clerk opens the intake page and
searches claims and filings (exact ID number, last 4 digits, name), the supervisor works the approvals
queue, finance the payments page, the clearing officer the clearing periods, a settlement list and the
monitoring pages. Each account signs in once through the real two-step login (password, then the
RFC 6238 code of the demo secret computed here), before the measured requests; the simulated users
of a role share that session, as a counter's staff share an account's session across tabs — a TOTP
code is accepted once per device.

Search values and the clearing period come from the environment (LOADTEST_* set by scripts/loadtest.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import struct
import time

import gevent.lock
import requests
from locust import FastHttpUser, between, task

PASSWORD = os.environ.get("LOADTEST_PASSWORD", "yidi-demo-2026")
TOTP_SECRET = os.environ.get("LOADTEST_TOTP_SECRET", "YIDIDEMOYIDIDEMOYIDIDEMO")
ID_NUMBER = os.environ.get("LOADTEST_ID_NUMBER", "")
LAST4 = os.environ.get("LOADTEST_LAST4", "")
NAME = os.environ.get("LOADTEST_NAME", "")
PERIOD = os.environ.get("LOADTEST_PERIOD", "")
THINK_MIN = float(os.environ.get("LOADTEST_THINK_MIN", "0.5"))
THINK_MAX = float(os.environ.get("LOADTEST_THINK_MAX", "2"))

_sessions: dict[str, dict[str, str]] = {}
_locks: dict[str, gevent.lock.Semaphore] = {}


def totp(secret: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 (HMAC-SHA1, 30-second steps) — what an authenticator app shows."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return found.group(1) if found else ""


def sign_in(host: str, username: str) -> dict[str, str]:
    """The two steps a person takes (password, then the authenticator's code), outside the
    measured requests; a code already used on this device waits for the next one. Returns the
    session's cookies."""
    session = requests.Session()
    page = session.get(host + "/login/")
    response = session.post(
        host + "/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": _csrf(page.text)},
        headers={"Referer": host + "/login/"},
    )
    for attempt in range(3):
        if "/login/otp/" not in response.url:
            break
        if attempt:
            time.sleep(30 - time.time() % 30 + 1)
        response = session.post(
            host + "/login/otp/",
            data={"otp_token": totp(TOTP_SECRET), "csrfmiddlewaretoken": _csrf(response.text)},
            headers={"Referer": host + "/login/otp/"},
        )
    if "/login/" in response.url:
        raise RuntimeError(f"{username} could not sign in")
    return dict(session.cookies)


class Staff(FastHttpUser):
    """geventhttpclient (FastHttpUser): a fraction of python-requests' CPU per request, which
    matters with locust on the same two cores as the server."""

    abstract = True
    username = ""
    wait_time = between(THINK_MIN, THINK_MAX)

    def on_start(self):
        lock = _locks.setdefault(self.username, gevent.lock.Semaphore())
        with lock:
            if self.username not in _sessions:
                _sessions[self.username] = sign_in(self.host, self.username)
        self.cookie = "; ".join(f"{name}={value}" for name, value in _sessions[self.username].items())

    def page(self, path: str, name: str):
        with self.client.get(path, name=name, catch_response=True, allow_redirects=False,
                             headers={"Cookie": self.cookie}) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")


class Clerk(Staff):
    username = os.environ.get("LOADTEST_CLERK", "clerk_nanjing")
    weight = 4

    @task(2)
    def home(self):
        self.page("/", "home (clerk)")

    @task(2)
    def intake(self):
        self.page("/reimbursement/claims/new/", "claim intake")

    @task(2)
    def claims(self):
        self.page("/reimbursement/claims/", "claims list")

    @task(1)
    def claims_search_id(self):
        self.page(f"/reimbursement/claims/?q={ID_NUMBER}", "claims search: ID number")

    @task(1)
    def claims_search_last4(self):
        self.page(f"/reimbursement/claims/?q={LAST4}", "claims search: last 4")

    @task(1)
    def claims_search_name(self):
        self.page(f"/reimbursement/claims/?q={NAME}", "claims search: name")

    @task(2)
    def filings(self):
        self.page("/filings/", "filings list")

    @task(1)
    def filings_search_id(self):
        self.page(f"/filings/?q={ID_NUMBER}", "filings search: ID number")

    @task(1)
    def filings_search_name(self):
        self.page(f"/filings/?q={NAME}", "filings search: name")


class Supervisor(Staff):
    username = os.environ.get("LOADTEST_SUPERVISOR", "supervisor_nanjing")
    weight = 2

    @task(1)
    def home(self):
        self.page("/", "home (supervisor)")

    @task(3)
    def approvals(self):
        self.page("/reimbursement/approvals/", "approvals queue")


class Finance(Staff):
    username = os.environ.get("LOADTEST_FINANCE", "finance_nanjing")
    weight = 1

    @task(1)
    def home(self):
        self.page("/", "home (finance)")

    @task(3)
    def payments(self):
        self.page("/reimbursement/payments/", "finance payments")


class Clearing(Staff):
    username = os.environ.get("LOADTEST_CLEARING", "clearing_jiangsu")
    weight = 1

    @task(1)
    def home(self):
        self.page("/", "home (clearing)")

    @task(2)
    def periods(self):
        self.page("/clearing/", "clearing periods")

    @task(2)
    def settlements(self):
        if PERIOD:
            self.page(f"/clearing/periods/{PERIOD}/settlements/", "clearing settlement list")

    @task(2)
    def monitoring(self):
        self.page("/monitoring/", "monitoring overview")
