"""The tamper-evident audit trail: a SHA-256 chain, verify_audit, the PostgreSQL trigger, audited purges."""

import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from core import audit_chain
from core.audit import log_action
from core.models import AuditChainCheck, AuditLog
from core.tasks import verify_audit_chain_task

pytestmark = pytest.mark.django_db


def write(n: int, **extra) -> list[AuditLog]:
    return [log_action(action=AuditLog.Action.CHANGE, username="clerk", message=f"第{i}次修改", data={"i": i}, **extra) for i in range(n)]


def raw_sql(sql: str, params: list) -> None:
    """What someone with database access could do behind the application's back."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL yidi.audit_rewrite = 'on'")
            cursor.execute("SET LOCAL yidi.audit_purge = 'on'")
        cursor.execute(sql, params)


def test_records_written_during_a_request_verify_with_their_ip(client, administrator):
    client.force_login(administrator)
    client.get(reverse("home"), REMOTE_ADDR="2001:db8::1")
    log_action(action=AuditLog.Action.CHANGE, message="x", data={"amount": "12.30", "ratio": 0.1, "n": 10**15})
    from core.request_context import _current_request

    class FakeRequest:
        META = {"REMOTE_ADDR": "10.9.8.7"}

    token = _current_request.set(FakeRequest())
    try:
        entry = log_action(action=AuditLog.Action.CHANGE, message="带 IP")
    finally:
        _current_request.reset(token)
    assert AuditLog.objects.get(pk=entry.pk).ip == "10.9.8.7"
    assert audit_chain.verify().ok


def test_each_record_links_to_the_previous_hash():
    first, second, third = write(3)
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert first.prev_hash == "" and second.prev_hash == first.hash and third.prev_hash == second.hash
    assert len(third.hash) == 64
    assert audit_chain.verify().ok


def test_verify_audit_passes_on_an_untouched_trail(capsys):
    write(3)
    call_command("verify_audit")
    assert "操作日志完整" in capsys.readouterr().out


def test_a_raw_sql_edit_is_named_by_verify_audit():
    entries = write(5)
    raw_sql("UPDATE core_auditlog SET message = %s WHERE id = %s", ["被篡改", entries[2].pk])
    with pytest.raises(CommandError) as error:
        call_command("verify_audit")
    assert f"第 {entries[2].seq} 条（编号 {entries[2].pk}" in str(error.value)
    assert "被改动" in str(error.value)
    assert AuditChainCheck.objects.latest("checked_at").broken_id == entries[2].pk


def test_a_raw_sql_delete_in_the_middle_is_named():
    entries = write(4)
    raw_sql("DELETE FROM core_auditlog WHERE id = %s", [entries[1].pk])
    verdict = audit_chain.verify()
    assert not verdict.ok and verdict.broken_id == entries[2].pk
    assert "删除" in verdict.message


def test_deleting_the_oldest_records_without_a_purge_is_caught():
    entries = write(3)
    raw_sql("DELETE FROM core_auditlog WHERE id = %s", [entries[0].pk])
    verdict = audit_chain.verify()
    assert not verdict.ok and verdict.broken_id == entries[1].pk


def test_a_purge_keeps_six_months_is_audited_and_the_rest_still_verifies(settings):
    settings.YIDI_AUDIT_RETENTION_DAYS = 183
    old = write(3)
    audit_chain.backdate(AuditLog.objects.filter(pk__in=[e.pk for e in old]), at=timezone.now() - timedelta(days=200))
    recent = write(2)
    # Asking for more than the retention allows still keeps six months.
    assert audit_chain.purge(older_than=timezone.now()) == 3
    assert not AuditLog.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditLog.objects.filter(pk__in=[e.pk for e in recent]).count() == 2
    purge = AuditLog.objects.get(action=AuditLog.Action.PURGE)
    assert purge.data["deleted"] == 3 and "清理" in purge.message
    assert audit_chain.verify().ok
    call_command("purge_audit")
    assert audit_chain.verify().ok


def test_the_daily_job_records_a_break_for_the_security_home_page(client, security_admin):
    entries = write(3)
    raw_sql("UPDATE core_auditlog SET username = %s WHERE id = %s", ["someone", entries[1].pk])
    assert verify_audit_chain_task() is False
    client.force_login(security_admin)
    page = client.get(reverse("home")).content.decode()
    assert "操作日志完整性" in page and "异常" in page and f"第 {entries[1].seq} 条" in page


def test_the_audit_log_is_read_only_in_admin(client, audit_admin):
    entry = write(1)[0]
    client.force_login(audit_admin)
    assert client.get(reverse("admin:core_auditlog_change", args=[entry.pk])).status_code == 200
    client.post(reverse("admin:core_auditlog_delete", args=[entry.pk]), {"post": "yes"})
    assert AuditLog.objects.filter(pk=entry.pk).exists()
    assert client.get(reverse("admin:core_auditlog_add")).status_code == 403


def test_retention_below_six_months_is_refused(monkeypatch):
    import importlib

    import config.settings

    monkeypatch.setenv("YIDI_AUDIT_RETENTION_DAYS", "90")
    with pytest.raises(Exception, match="at least 183"):
        importlib.reload(config.settings)
    monkeypatch.delenv("YIDI_AUDIT_RETENTION_DAYS")
    importlib.reload(config.settings)


@pytest.mark.postgres
def test_postgresql_refuses_update_and_delete_on_the_audit_table():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's (set DATABASE_URL)")
    entry = write(1)[0]
    for sql in ("UPDATE core_auditlog SET message = 'x' WHERE id = %s", "DELETE FROM core_auditlog WHERE id = %s"):
        with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).delete()
    assert AuditLog.objects.get(pk=entry.pk).message == "第0次修改"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent appends need PostgreSQL (set DATABASE_URL)")
    barrier = threading.Barrier(4)
    errors = []

    def writer():
        try:
            barrier.wait()
            for i in range(10):
                with transaction.atomic():
                    log_action(action=AuditLog.Action.CHANGE, username="t", message=str(i))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditLog.objects.count() == 40
    assert audit_chain.verify().ok
