"""Database routing: the read-only pages of 运行监测 may read from a replica.

With `DATABASE_REPLICA_URL` set (config.settings adds the `replica` alias), code running inside
`replica_reads()` — the monitoring selectors and the monitoring pages that only read — sends its
reads to the replica. Everything else reads from the primary, and every write goes to the
primary. A read inside a transaction on the primary stays on the primary too: a transaction must
see its own writes, and the replica lags a little behind. Without the setting nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
_replica_reads: ContextVar[bool] = ContextVar("yidi_replica_reads", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside go to the replica when one is configured (also usable as a decorator)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def read_alias() -> str:
    """The alias a read made here would use."""
    if _replica_reads.get() and REPLICA in settings.DATABASES and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return REPLICA
    return DEFAULT_DB_ALIAS


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's schema by replication
