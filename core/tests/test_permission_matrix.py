"""The permission matrix, generated from the URLconf (pretix test_permissions style).

Every named URL pattern is requested as every role (core.tests.permission_matrix.ROLES)
on an object of the staff's own region and on one of another region, and the exact
status is asserted. A URL pattern without a rule in RULES fails the suite: whoever adds
a URL decides here who may open it.

Adding an app's URLs (cooperation/, monitoring/ …): put its objects in
permission_matrix.make_objects (a Pair of URL kwargs, own region and other region) and
one entry per URL name below, e.g.

    "monitoring:report": page(STAFF),
    "cooperation:detail": page(CLERK | SUPERVISOR, obj="assist"),
    "cooperation:answer": action(SUPERVISOR, obj="assist"),

Statuses: 200 a page, 302 an action done or refused with a message (it redirects back),
403 the role may not, 404 another region's object (never a 403, so nothing leaks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.tests.permission_matrix import CITY_ROLES, ROLES, STAFF_ROLES, make_objects, make_staff

pytestmark = pytest.mark.django_db

CLERK, SUPERVISOR, FINANCE, CLEARING, ADMIN, HOSPITAL, SECURITY, AUDIT = (frozenset({role}) for role in STAFF_ROLES)
STAFF = frozenset(STAFF_ROLES)
#: core.models.AGENCY_ROLES: the agency's own staff (not a hospital, not the security or audit administrator).
AGENCY = CLERK | SUPERVISOR | FINANCE | CLEARING | ADMIN
#: Not agency staff: they see only what they started themselves (jobs) or nothing (documents).
OUTSIDERS = ("hospital", "security", "audit")
CLEARING_STAFF = SUPERVISOR | FINANCE | CLEARING | ADMIN  # clearing.views.STAFF, monitoring.views.VIEWERS
COOPERATION_WORKERS = CLERK | SUPERVISOR | CLEARING  # cooperation.views.WORKERS
COOPERATION_READERS = COOPERATION_WORKERS | ADMIN


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    ok: int = 200  # what an allowed role gets on its own region's object
    method: str = "get"
    obj: str | None = None  # key of make_objects() whose Pair fills the URL's kwargs
    kwargs: dict = field(default_factory=dict)  # fixed kwargs (a form code, an action name)
    scoped: bool = True  # False: the object belongs to no region (every region sees it)
    own: dict = field(default_factory=dict)  # exceptions on the own-region object: role -> status
    other: dict = field(default_factory=dict)  # exceptions on the other region's object
    anonymous: int = 302  # to the login page

    def expected(self, role: str, side: str) -> int:
        if role == "anonymous":
            return self.anonymous
        exceptions = self.own if side == "own" else self.other
        if role in exceptions:
            return exceptions[role]
        if role not in self.allowed:
            return 403
        if side == "other" and self.scoped and self.obj and role in CITY_ROLES:
            return 404  # another region's object: as if it did not exist
        return self.own.get(role, self.ok)


def page(allowed, **options) -> Rule:
    return Rule(frozenset(allowed), **options)


def action(allowed, **options) -> Rule:
    options.setdefault("ok", 302)
    options.setdefault("method", "post")
    return Rule(frozenset(allowed), **options)


def public(status: int = 200, **options) -> Rule:
    return Rule(STAFF, ok=status, anonymous=status, **options)


RULES: dict[str, Rule] = {
    # --- core ---------------------------------------------------------------------------
    "home": page(STAFF),
    "healthz": public(),
    "favicon": public(301),  # to the static favicon.svg, also on the login page
    "login": public(own={role: 302 for role in STAFF_ROLES}),  # signed in: straight to the home page
    "logout": action(STAFF, anonymous=302),
    "password_change": page(STAFF),
    "password_change_done": page(STAFF),
    "job_list": page(STAFF),
    # A hospital (and the security or audit administrator) sees only the jobs it started, never the city's.
    "job_detail": page(STAFF, obj="job", own=dict.fromkeys(OUTSIDERS, 404), other=dict.fromkeys(OUTSIDERS, 404)),
    "job_progress": page(STAFF, obj="job", own=dict.fromkeys(OUTSIDERS, 404), other=dict.fromkeys(OUTSIDERS, 404)),
    "document_list": page(STAFF),
    # A hospital downloads only the forms of its own referrals (core/tests/test_role_access.py);
    # the security and audit administrators no archived form at all.
    "document_download": page(STAFF, obj="document", own=dict.fromkeys(OUTSIDERS, 404),
                              other=dict.fromkeys(OUTSIDERS, 404)),
    "calendar": page(AGENCY),
    "calendar_template": page(ADMIN),
    "selftest": page(ADMIN),
    # Without a pending password step the second step sends everyone back to the password.
    "login_otp": public(302),
    "recovery_codes": page(STAFF),
    "security_overview": page(SECURITY),
    "search": page(CLERK | SUPERVISOR | FINANCE),  # 三员分立: no administrator reads persons
    "person_detail": page(CLERK | SUPERVISOR | FINANCE, obj="person"),
    # --- filings ------------------------------------------------------------------------
    "filings:list": page(CLERK | SUPERVISOR | CLEARING | ADMIN | HOSPITAL),
    "filings:new": page(CLERK | HOSPITAL),
    "filings:person_lookup": page(CLERK | HOSPITAL),
    "filings:checklist": page(CLERK | HOSPITAL, method="post"),
    "filings:review_queue": page(CLERK | SUPERVISOR | CLEARING | ADMIN),
    "filings:commitments": page(CLERK | SUPERVISOR | CLEARING | ADMIN),
    "filings:export": page(CLERK | SUPERVISOR | CLEARING | ADMIN | HOSPITAL),
    "filings:import": page(CLERK | SUPERVISOR),
    "filings:import_template": page(CLERK | SUPERVISOR),
    "filings:upload": page(CLERK | SUPERVISOR),
    "filings:upload_result": action(CLERK | SUPERVISOR),  # no file: refused with a message
    "filings:settings": page(SUPERVISOR | ADMIN),
    "filings:detail": page(CLERK | SUPERVISOR | CLEARING | ADMIN | HOSPITAL, obj="filing"),
    "filings:receipt": page(CLERK | SUPERVISOR | CLEARING | ADMIN | HOSPITAL, obj="filing"),
    "filings:edit": page(CLERK, obj="filing", own={"clerk": 302}),  # only a draft is edited
    "filings:activate": action(CLERK, obj="filing"),
    "filings:delete": action(CLERK, obj="filing"),
    "filings:change": page(CLERK, obj="filing"),
    "filings:cancel": page(CLERK, obj="filing"),
    "filings:materials": page(CLERK, obj="filing"),
    "filings:review": page(SUPERVISOR, obj="filing"),
    "filings:print": action(CLERK | SUPERVISOR | HOSPITAL, obj="filing", kwargs={"form_code": "annex8"}),
    # --- reimbursement ------------------------------------------------------------------
    "reimbursement:claim_list": page(CLERK | SUPERVISOR | FINANCE | ADMIN),
    "reimbursement:claim_export": page(CLERK | SUPERVISOR | FINANCE | ADMIN),
    "reimbursement:intake": page(CLERK),
    "reimbursement:intake_panel": page(CLERK, method="post"),
    "reimbursement:deadlines": page(CLERK | SUPERVISOR | ADMIN),
    "reimbursement:trial": page(CLERK | SUPERVISOR | ADMIN),
    "reimbursement:approvals": page(SUPERVISOR),
    "reimbursement:payments": page(FINANCE),
    "reimbursement:payments_export": page(FINANCE),
    "reimbursement:policy_list": page(AGENCY),
    "reimbursement:policy_detail": page(AGENCY, obj="policy", scoped=False),  # policies are published
    "reimbursement:claim_detail": page(CLERK | SUPERVISOR | FINANCE | ADMIN, obj="claim"),
    "reimbursement:claim_edit": page(CLERK, obj="claim", own={"clerk": 302}),  # submitted: not editable
    "reimbursement:claim_materials": page(CLERK, obj="claim"),
    # The claim is submitted: only a supervisor recalculates it now.
    "reimbursement:claim_calculate": action(CLERK | SUPERVISOR, obj="claim", own={"clerk": 403}, other={"clerk": 404}),
    "reimbursement:claim_submit": action(CLERK, obj="claim"),
    "reimbursement:claim_approve": action(SUPERVISOR, obj="claim"),
    "reimbursement:claim_reject": action(SUPERVISOR, obj="claim"),
    "reimbursement:claim_return": action(SUPERVISOR, obj="claim"),
    "reimbursement:claim_special": action(SUPERVISOR, obj="claim"),
    "reimbursement:claim_cancel": action(CLERK, obj="claim"),
    "reimbursement:claim_delay_notice": action(CLERK | SUPERVISOR, obj="claim"),
    "reimbursement:claim_print": action(CLERK | SUPERVISOR | FINANCE, obj="claim", kwargs={"form": "receipt"}),
    "reimbursement:claim_pay": action(FINANCE, obj="claim"),
    "reimbursement:claim_payment_return": action(FINANCE, obj="claim"),
    "reimbursement:claim_correct_payee": action(CLERK, obj="claim"),
    "reimbursement:claim_verify_payee": action(SUPERVISOR, obj="claim"),
    "reimbursement:batch_detail": page(FINANCE | ADMIN, obj="batch"),
    "reimbursement:batch_pay": action(FINANCE, obj="batch"),
    "reimbursement:batch_regenerate": action(FINANCE, obj="batch"),
    "reimbursement:batch_bank_file": page(FINANCE, obj="batch", kwargs={"fmt": "csv"}),
    "reimbursement:batch_bank_result": page(FINANCE, obj="batch"),
    # --- clearing -----------------------------------------------------------------------
    "clearing:period_list": page(SUPERVISOR | FINANCE | CLEARING | ADMIN),
    "clearing:period_create": action(CLEARING),  # province level only
    # A period is the whole province's month; a city sees its own figures in it.
    "clearing:period_detail": page(SUPERVISOR | FINANCE | CLEARING | ADMIN, obj="period", scoped=False),
    "clearing:period_cross": page(SUPERVISOR | FINANCE | CLEARING | ADMIN, obj="period", scoped=False),
    "clearing:settlement_list": page(SUPERVISOR | FINANCE | CLEARING | ADMIN, obj="period", scoped=False),
    "clearing:settlement_export": page(CLEARING_STAFF, obj="period", scoped=False),
    # A city's staff get the province's forms and their own city's (selectors.period_documents).
    "clearing:period_notices_zip": page(CLEARING_STAFF, obj="period", scoped=False),
    "clearing:emergency_create": action(CLEARING, obj="period", scoped=False),
    "clearing:period_action": action(CLEARING, obj="period", scoped=False, kwargs={"action": "compute"}),
    "clearing:import_list": page(CLEARING),
    "clearing:import_detail": page(CLEARING, obj="import"),
    "clearing:import_errors": page(CLEARING, obj="import"),
    "clearing:adjustment_list": page(CLEARING_STAFF),
    "clearing:adjustment_import": action(CLEARING),  # the province's clearing officer
    "clearing:adjustment_refund": action(CLEARING),
    "clearing:adjustment_deduction": action(CLEARING),
    "clearing:reconciliation": page(CLEARING_STAFF),
    "clearing:reconciliation_import": action(CLEARING),
    "clearing:reconciliation_correct": action(CLEARING | FINANCE, obj="reconciliation"),
    "clearing:payment_list": page(SUPERVISOR | FINANCE | CLEARING | ADMIN),
    "clearing:payment_detail": page(SUPERVISOR | FINANCE | CLEARING | ADMIN, obj="payment"),
    "clearing:advance_index": page(SUPERVISOR | FINANCE | CLEARING | ADMIN, ok=302),  # to the current year
    "clearing:advance_year": page(SUPERVISOR | FINANCE | CLEARING | ADMIN, obj="year", scoped=False),
    "clearing:allotments": page(CLEARING, obj="year", scoped=False),
    "clearing:advance_action": action(CLEARING, obj="year", scoped=False, kwargs={"action": "compute_intra"}),
    "clearing:ledger_city": page(SUPERVISOR | FINANCE | CLEARING | ADMIN, obj="city"),
    "clearing:ledger_province": page(SUPERVISOR | FINANCE | CLEARING | ADMIN, obj="province", scoped=False),
    "clearing:advance_ledger_export": page(CLEARING_STAFF, obj="year", scoped=False),
    # 外省预付金 sit in the province's finance account: a city's finance staff find nothing there.
    "clearing:foreign_advances": page(CLEARING | FINANCE, obj="year", scoped=False, own={"finance": 404},
                                      other={"finance": 404}),
    "clearing:foreign_advance_receive": action(CLEARING, obj="year", scoped=False),
    "clearing:foreign_clearing_receive": action(CLEARING, obj="year", scoped=False),
    # --- cooperation --------------------------------------------------------------------
    # 费用协查 and 问题协同 are the clerks', supervisors' and clearing officers' work; the system
    # administrator reads them. A case is seen by the regions (agencies) party to it.
    "cooperation:assist_list": page(COOPERATION_READERS),
    "cooperation:assist_export": page(COOPERATION_READERS),
    "cooperation:assist_national_export": page(COOPERATION_WORKERS),
    "cooperation:assist_source": page(COOPERATION_WORKERS),
    "cooperation:assist_new": page(COOPERATION_WORKERS),
    "cooperation:assist_import": page(COOPERATION_WORKERS),
    "cooperation:assist_import_confirm": action(COOPERATION_WORKERS),  # no token: refused with a message
    "cooperation:assist_detail": page(COOPERATION_READERS, obj="assist"),
    # Actions a side may not take (our own request answered by us) are refused with a message.
    "cooperation:assist_answer": action(COOPERATION_WORKERS, obj="assist"),
    "cooperation:assist_delay": action(COOPERATION_WORKERS, obj="assist"),
    "cooperation:assist_confirm": action(COOPERATION_WORKERS, obj="assist"),
    "cooperation:assist_dispute": action(COOPERATION_WORKERS, obj="assist"),
    "cooperation:assist_attach": action(COOPERATION_WORKERS, obj="assist"),
    "cooperation:attachment_download": page(COOPERATION_READERS, obj="attachment"),
    "cooperation:coordination_list": page(COOPERATION_READERS),
    "cooperation:coordination_export": page(COOPERATION_READERS),
    "cooperation:coordination_new": page(COOPERATION_WORKERS),
    "cooperation:coordination_detail": page(COOPERATION_READERS, obj="coordination"),
    "cooperation:coordination_note": action(COOPERATION_WORKERS, obj="coordination"),
    "cooperation:coordination_attach": action(COOPERATION_WORKERS, obj="coordination"),
    "cooperation:coordination_helper": action(COOPERATION_WORKERS, obj="coordination"),
    "cooperation:coordination_extend": action(COOPERATION_WORKERS, obj="coordination"),
    "cooperation:coordination_reclassify": action(COOPERATION_WORKERS, obj="coordination"),
    "cooperation:coordination_reply": action(COOPERATION_WORKERS, obj="coordination"),
    "cooperation:coordination_confirm": action(COOPERATION_WORKERS, obj="coordination"),
    "cooperation:coordination_dispute": action(COOPERATION_WORKERS, obj="coordination"),
    "cooperation:coordination_escalate": action(COOPERATION_WORKERS, obj="coordination"),
    # 违规费用扣款 from a 协查 result: the province clearing officer only (第五十三条); an empty POST is refused with a message.
    "cooperation:assist_deduct": action(CLEARING, obj="assist_finding"),
    # --- monitoring ---------------------------------------------------------------------
    "monitoring:overview": page(CLEARING_STAFF),
    "monitoring:export": page(CLEARING_STAFF),
    "monitoring:thresholds": page(CLEARING_STAFF),
    "monitoring:threshold_delete": action(CLEARING | ADMIN, obj="threshold"),
    "monitoring:balances": page(CLEARING_STAFF),
    "monitoring:reports": page(CLEARING_STAFF),
}

#: Django's admin has its own permission system (is_staff + model permissions) and its own tests.
SKIPPED_NAMESPACES = {"admin"}


def url_patterns() -> list[tuple[str, list[str]]]:
    """Every named URL pattern outside the skipped namespaces, with its kwargs' names."""
    found = []

    def walk(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace in SKIPPED_NAMESPACES:
                    continue
                walk(entry.url_patterns, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                found.append((f"{namespace}{entry.name}", sorted(entry.pattern.regex.groupindex)))

    walk(get_resolver().url_patterns)
    return found


def test_every_url_pattern_has_a_rule():
    missing = [name for name, _kwargs in url_patterns() if name not in RULES]
    assert not missing, (
        "URL patterns without a rule in core/tests/test_permission_matrix.py RULES (decide who may open them): "
        + ", ".join(missing)
    )


def test_no_rule_for_a_url_that_does_not_exist():
    names = {name for name, _kwargs in url_patterns()}
    assert not set(RULES) - names


@pytest.fixture(scope="module")
def world_media(tmp_path_factory):
    return tmp_path_factory.mktemp("matrix-media")


@pytest.fixture(autouse=True)
def _media_root(settings, world_media):
    """The archived files of the module's world stay where they were written."""
    settings.MEDIA_ROOT = world_media


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory, world_media):
    """The staff and objects, built once for the module inside a transaction that is rolled
    back at the end; each test runs in a savepoint of it (pytest-django's own atomic), so a
    request that changes a claim does not change what the next test sees."""
    from clearing import notices

    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch, override_settings(MEDIA_ROOT=world_media):
        patch.setattr(notices, "render_pdf", lambda template, context: b"%PDF-1.7 stub")
        with transaction.atomic():
            users = make_staff()
            objects = make_objects(users, tmp_path_factory.mktemp("matrix"))
            yield users, objects
            transaction.set_rollback(True)


def _url(name: str, rule: Rule, objects, side: str) -> str:
    kwargs = dict(getattr(objects[rule.obj], side)) if rule.obj else {}
    kwargs.update(rule.kwargs)
    return reverse(name, kwargs=kwargs or None)


def observed(name: str, rule: Rule, users, objects) -> dict[tuple[str, str], tuple[int, int]]:
    """(role, side) -> (status, expected) for every role on both objects."""
    results = {}
    sides = ("own", "other") if rule.obj else ("own",)
    for side in sides:
        url = _url(name, rule, objects, side)
        for role in ROLES:
            client = Client()
            if role != "anonymous":
                client.force_login(users[role])
            # Each request in its own savepoint, rolled back: what one role's action changes
            # (a threshold deleted) is still there for the next role.
            with transaction.atomic():
                response = getattr(client, rule.method)(url, {})
                transaction.set_rollback(True)
            if rule.anonymous == 302 and role == "anonymous":
                assert response["Location"].startswith(reverse("login")), (name, response["Location"])
            results[(role, side)] = (response.status_code, rule.expected(role, side))
    return results


@pytest.mark.parametrize("name", sorted(RULES))
def test_permission_matrix(name, world):
    users, objects = world
    results = observed(name, RULES[name], users, objects)
    wrong = [f"{role} on {side} object: got {got}, expected {want}"
             for (role, side), (got, want) in results.items() if got != want]
    assert not wrong, f"{name}:\n  " + "\n  ".join(wrong)
