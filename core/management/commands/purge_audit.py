from django.conf import settings

from core import audit_chain
from core.management.base import YidiCommand


class Command(YidiCommand):
    help = "删除超过保留期（YIDI_AUDIT_RETENTION_DAYS，至少183天）的操作日志；清理本身记入操作日志。"

    def handle(self, *args, **options):
        count = audit_chain.purge()
        self.stdout.write(f"已清理操作日志 {count} 条（保留期 {settings.YIDI_AUDIT_RETENTION_DAYS} 天）。")
