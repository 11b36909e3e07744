"""三员分立: system, security and audit administrators are separate roles and none does business actions."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from core.audit import log_action
from core.models import AuditLog, Role
from core.roles import ADMINISTRATION_ROLES

pytestmark = pytest.mark.django_db

# Pages an administration role may open: reading, reference data and configuration, its own tools.
ADMINISTRATION_PAGES = {
    "calendar", "calendar_template", "selftest", "security_overview",
    "filings:list", "filings:review_queue", "filings:commitments", "filings:settings", "filings:detail", "filings:receipt",
    "reimbursement:claim_list", "reimbursement:claim_export", "reimbursement:claim_detail", "reimbursement:deadlines",
    "reimbursement:trial", "reimbursement:batch_detail", "reimbursement:policy_list", "reimbursement:policy_detail",
    "clearing:period_list", "clearing:period_detail", "clearing:period_cross", "clearing:settlement_list",
    "clearing:payment_list", "clearing:payment_detail", "clearing:advance_index", "clearing:advance_year",
    "clearing:ledger_city", "clearing:ledger_province",
    # Reading and exporting what the pages above show (GET only).
    "filings:export", "clearing:period_notices_zip", "clearing:settlement_export",
    "clearing:adjustment_list", "clearing:reconciliation", "clearing:advance_ledger_export",
    "cooperation:assist_list", "cooperation:assist_export", "cooperation:assist_detail", "cooperation:attachment_download",
    "cooperation:coordination_list", "cooperation:coordination_export", "cooperation:coordination_detail",
    "monitoring:overview", "monitoring:export", "monitoring:reports",
    # Configuration: the warning lines. The fund balance on the same kind of page is business
    # data the administrator may not enter (monitoring/tests/test_views.py).
    "monitoring:thresholds", "monitoring:threshold_delete", "monitoring:balances",
}  # fmt: skip


def role_checked_patterns():
    def walk(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace != "admin":
                    yield from walk(entry.url_patterns, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
            elif isinstance(entry, URLPattern) and getattr(entry.callback, "required_roles", None):
                yield f"{namespace}{entry.name}", entry

    return list(walk(get_resolver().url_patterns))


@pytest.fixture
def administrators(administrator, security_admin, audit_admin):
    return {Role.ADMINISTRATOR: administrator, Role.SECURITY_ADMIN: security_admin, Role.AUDIT_ADMIN: audit_admin}


def test_the_three_administrators_are_separate_roles():
    assert len({role.value for role in ADMINISTRATION_ROLES}) == 3
    assert {role.label for role in ADMINISTRATION_ROLES} == {"系统管理员", "安全管理员", "审计管理员"}


def test_no_business_page_or_action_lets_an_administration_role_in():
    for name, pattern in role_checked_patterns():
        roles = set(pattern.callback.required_roles)
        if roles & set(ADMINISTRATION_ROLES):
            assert name in ADMINISTRATION_PAGES, f"{name} admits {roles & set(ADMINISTRATION_ROLES)}: a business action?"
        if Role.SECURITY_ADMIN in roles or Role.AUDIT_ADMIN in roles:
            assert name == "security_overview", name


def test_every_business_action_refuses_each_administrator(client, administrators):
    actions = [(name, pattern) for name, pattern in role_checked_patterns() if name not in ADMINISTRATION_PAGES]
    assert len(actions) > 30
    for role, user in administrators.items():
        client.force_login(user)
        for name, pattern in actions:
            converters = getattr(pattern.pattern, "converters", {})
            kwargs = {key: 1 if isinstance(conv, IntConverter) else "2026-01" for key, conv in converters.items()}
            try:
                url = reverse(name, kwargs=kwargs or None)
            except Exception:  # noqa: BLE001 - a pattern our guessed arguments do not fit
                continue
            status = client.post(url, {}).status_code
            assert status in (403, 405), f"{role.label} POST {name}: {status}"


def test_the_security_administrator_sees_the_chain_and_sign_in_events(client, security_admin, clerk):
    log_action(action=AuditLog.Action.LOGIN_FAILED, username=clerk.username, message="登录失败：用户名或密码错误")
    client.force_login(security_admin)
    page = client.get(reverse("security_overview")).content.decode()
    assert "操作日志完整性" in page and "登录事件" in page and clerk.username in page
    response = client.post(reverse("security_overview"))
    assert response.status_code == 302
    assert "安全审计" in client.get(reverse("home")).content.decode()


def test_only_the_audit_administrator_reads_the_audit_log(client, administrators):
    url = reverse("admin:core_auditlog_changelist")
    expected = {Role.ADMINISTRATOR: 403, Role.SECURITY_ADMIN: 403, Role.AUDIT_ADMIN: 200}
    for role, user in administrators.items():
        client.force_login(user)
        assert client.get(url).status_code == expected[role], role.label


def test_only_the_security_administrator_opens_the_security_page(client, administrators):
    expected = {Role.ADMINISTRATOR: 403, Role.SECURITY_ADMIN: 200, Role.AUDIT_ADMIN: 403}
    for role, user in administrators.items():
        client.force_login(user)
        assert client.get(reverse("security_overview")).status_code == expected[role], role.label
