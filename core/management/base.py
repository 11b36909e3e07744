"""The base of the project's management commands."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection


class YidiCommand(BaseCommand):
    """A command that cannot reach its database says so in one Chinese line, not a traceback."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except OperationalError as exc:
            name = connection.settings_dict.get("NAME") or ""
            raise CommandError(
                f"数据库操作失败（{connection.vendor} {name}）：{str(exc).strip()}\n请检查 DATABASE_URL 和数据库服务是否正常。"
            ) from exc
