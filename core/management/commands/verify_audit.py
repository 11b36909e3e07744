from django.core.management.base import CommandError

from core import audit_chain
from core.management.base import YidiCommand


class Command(YidiCommand):
    help = "检查操作日志哈希链是否完整；发现被改动或删除的记录时指出第一条并以非零状态退出。"

    def handle(self, *args, **options):
        check = audit_chain.check_and_record()
        if not check.ok:
            raise CommandError(check.message)
        self.stdout.write(self.style.SUCCESS(check.message))
