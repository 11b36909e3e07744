"""A tamper-evident audit trail: each record's hash covers its content and the previous hash.

Records form one chain ordered by `seq`. `append()` fixes a record's place in the chain and
its SHA-256 `hash = sha256(prev_hash + canonical JSON of the content)`; editing, deleting or
reordering any record breaks every later link, and `verify()` names the first broken one.

Appends are serialised: on PostgreSQL by a transaction-scoped advisory lock held to commit
(so two writers never read the same head), on SQLite by the database's single writer
(transactions start IMMEDIATE, see config.settings). On PostgreSQL a trigger (migration
0005) refuses UPDATE and DELETE on the table; `purge()` is the one sanctioned delete: it
switches `yidi.audit_purge` on for its own transaction, records where the kept chain starts,
and is itself an audit record. (`backdate()`, for seed_demo's history only, re-seals what it moves.)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

# Any constant 64-bit number: the key of PostgreSQL's advisory lock for the chain head.
ADVISORY_LOCK_KEY = 0x5969_6469_4175_6474  # "YidiAudt"
CONTENT_FIELDS = (
    "at",
    "user_id",
    "username",
    "action",
    "content_type_id",
    "object_id",
    "object_repr",
    "from_state",
    "to_state",
    "message",
    "data",
    "ip",
)


def _plain(name: str, value: Any) -> Any:
    if name == "at":
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if name == "data":
        # What the database gives back: JSON, whatever Python types went in.
        return json.loads(json.dumps(value or {}, default=str))
    if name in ("user_id", "content_type_id") and value is not None:
        return int(value)
    if name == "ip" and value is not None:
        return str(value)
    return value


def digest(*, seq: int, prev_hash: str, content: dict[str, Any]) -> str:
    """SHA-256 over the previous hash, the record's place and its content (a pure function)."""
    plain = {name: _plain(name, content.get(name)) for name in CONTENT_FIELDS}
    plain["seq"] = seq
    body = json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _redact(entry) -> None:
    """No whole ID number enters the trail (encryption at rest, 等保 三级): masked as lists show it."""
    from core.idcard import redact_id_numbers

    entry.message = redact_id_numbers(entry.message)
    entry.object_repr = redact_id_numbers(entry.object_repr)
    entry.data = redact_id_numbers(entry.data)


def content_of(entry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in CONTENT_FIELDS}


def _lock_head() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])


def append(entry):
    """Give `entry` (an unsaved AuditLog) its place and hash, and insert it."""
    from core.models import AuditLog

    with transaction.atomic():
        _lock_head()
        head = AuditLog.objects.filter(seq__isnull=False).order_by("-seq").values("seq", "hash").first()
        entry.seq = (head["seq"] + 1) if head else 1
        entry.prev_hash = head["hash"] if head else ""
        entry.at = timezone.now()
        _redact(entry)
        # The address as the database will store and return it.
        entry.ip = AuditLog._meta.get_field("ip").to_python(entry.ip)
        entry.hash = digest(seq=entry.seq, prev_hash=entry.prev_hash, content=content_of(entry))
        entry.save(force_insert=True)
    return entry


def append_many(entries: list) -> None:
    """Chain and insert many unsaved records at once, keeping their own `at` (bulk data such as
    seed_volume's stamped history): one lock, hashes computed in order, one bulk insert."""
    from core.models import AuditLog

    if not entries:
        return
    ip_field = AuditLog._meta.get_field("ip")
    with transaction.atomic():
        _lock_head()
        head = AuditLog.objects.filter(seq__isnull=False).order_by("-seq").values("seq", "hash").first()
        seq, prev_hash = (head["seq"], head["hash"]) if head else (0, "")
        for entry in entries:
            seq += 1
            entry.seq, entry.prev_hash = seq, prev_hash
            _redact(entry)
            entry.ip = ip_field.to_python(entry.ip)
            entry.hash = prev_hash = digest(seq=seq, prev_hash=entry.prev_hash, content=content_of(entry))
        AuditLog.objects.bulk_create(entries, batch_size=2000)


@dataclass
class Verdict:
    ok: bool
    records: int
    broken_seq: int | None = None
    broken_id: int | None = None
    message: str = ""


def verify() -> Verdict:
    """Walk the chain in order; the first record whose hash or link does not hold is named."""
    from core.models import AuditLog

    rows = AuditLog.objects.order_by("seq").values("id", "seq", "prev_hash", "hash", *CONTENT_FIELDS)
    expected_prev: str | None = None
    expected_seq: int | None = None
    count = 0
    for row in rows.iterator(chunk_size=2000):
        count += 1
        if row["seq"] is None:
            return _broken(row, count, "没有链序号（未经系统写入）")
        if expected_prev is None:
            expected_seq, expected_prev = _chain_start(row["seq"])
            if expected_prev is None:
                return _broken(row, count, "链的起点不对：前面的记录被删除，且没有对应的清理记录")
        if row["seq"] != expected_seq:
            return _broken(row, count, f"链序号不连续：应为 {expected_seq}，前面的记录被删除")
        if row["prev_hash"] != expected_prev:
            return _broken(row, count, "与前一条记录的哈希不一致：前一条记录被改动或删除")
        if digest(seq=row["seq"], prev_hash=row["prev_hash"], content=row) != row["hash"]:
            return _broken(row, count, "内容与哈希不符：该记录被改动")
        expected_prev = row["hash"]
        expected_seq = row["seq"] + 1
    return Verdict(ok=True, records=count, message=f"操作日志完整：共 {count} 条记录，哈希链无断裂。")


def _chain_start(first_seq: int) -> tuple[int, str | None]:
    """Where the kept chain may begin: the genesis, or right after a recorded purge."""
    from core.models import AuditLog

    if first_seq == 1:
        return 1, ""
    purges = AuditLog.objects.filter(action=AuditLog.Action.PURGE, data__through_seq=first_seq - 1)
    for data in purges.values_list("data", flat=True):
        if data.get("last_hash"):
            return first_seq, data["last_hash"]
    return first_seq, None


def _broken(row: dict, count: int, reason: str) -> Verdict:
    return Verdict(
        ok=False,
        records=count,
        broken_seq=row["seq"],
        broken_id=row["id"],
        message=f"操作日志第 {row['seq']} 条（编号 {row['id']}，{row['at']:%Y-%m-%d %H:%M:%S}，{row['username'] or '系统'}）异常：{reason}",
    )


def check_and_record():
    """The daily job: verify and keep the verdict for the security administrator's home page."""
    from core.models import AuditChainCheck

    verdict = verify()
    return AuditChainCheck.objects.create(
        ok=verdict.ok,
        records=verdict.records,
        broken_seq=verdict.broken_seq,
        broken_id=verdict.broken_id,
        message=verdict.message[:500],
    )


def _session_flag(name: str, on: bool) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL yidi.{name} = '{'on' if on else 'off'}'")


def backdate(queryset, *, at: datetime) -> None:
    """Demo data only (seed_demo): give existing records the day they would have happened on.

    The one sanctioned rewrite: the records and every later one are re-sealed at once, under
    the chain lock, so the chain still verifies. Real services never call this.
    """
    from core.models import AuditLog

    with transaction.atomic():
        _lock_head()
        first = queryset.order_by("seq").values_list("seq", flat=True).first()
        if first is None:
            return
        _session_flag("audit_rewrite", True)
        AuditLog.objects.filter(pk__in=queryset.values("pk")).update(at=at)
        previous = AuditLog.objects.filter(seq=first - 1).values_list("hash", flat=True).first()
        prev_hash = previous if previous is not None else _chain_start(first)[1] or ""
        later = list(AuditLog.objects.filter(seq__gte=first).order_by("seq"))
        for entry in later:
            entry.prev_hash = prev_hash
            entry.hash = digest(seq=entry.seq, prev_hash=prev_hash, content=content_of(entry))
            prev_hash = entry.hash
        AuditLog.objects.bulk_update(later, ["prev_hash", "hash"])
        _session_flag("audit_rewrite", False)


def retention() -> timedelta:
    return timedelta(days=settings.YIDI_AUDIT_RETENTION_DAYS)


def purge(*, older_than: datetime | None = None, by=None) -> int:
    """Delete the records older than the retention period (never younger than 6 months).

    Only a leading run of the chain is removed, so the rest still verifies: the purge
    record keeps the last removed record's place and hash as the new start.
    """
    from core.audit import log_action
    from core.models import AuditLog

    cutoff = timezone.now() - retention()
    if older_than is not None:
        cutoff = min(cutoff, older_than)
    with transaction.atomic():
        _lock_head()
        first_kept = AuditLog.objects.filter(at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
        doomed = AuditLog.objects.filter(seq__lt=first_kept) if first_kept else AuditLog.objects.all()
        last = doomed.order_by("-seq").values("seq", "hash").first()
        if last is None:
            return 0
        count = doomed.count()
        _session_flag("audit_purge", True)
        doomed.delete()
        _session_flag("audit_purge", False)
        log_action(
            action=AuditLog.Action.PURGE,
            user=by,
            message=f"清理 {cutoff:%Y-%m-%d} 之前的操作日志 {count} 条（保留期 {settings.YIDI_AUDIT_RETENTION_DAYS} 天）",
            data={"through_seq": last["seq"], "last_hash": last["hash"], "deleted": count, "before": cutoff.isoformat()},
        )
    return count
