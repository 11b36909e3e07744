"""Re-seal encrypted columns and sealed archive files with the current key; recompute blind indexes.

    python manage.py rotate_field_keys --new-key    # print a fresh key (base64 of 32 bytes)
    python manage.py rotate_field_keys              # after putting the new key first in YIDI_FIELD_KEYS

Rows sealed with an older key (or still plain) are sealed again with the first key of
YIDI_FIELD_KEYS; blind indexes and last-4 columns are recomputed where they differ (so
a new YIDI_BLIND_INDEX_KEY takes effect). History tables are included. When it reports
no stale row left, older keys can be removed from YIDI_FIELD_KEYS.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from core import crypto
from core.audit import log_action
from core.encryption_migration import reseal
from core.fields import encrypted_fields
from core.models import AuditLog


class Command(BaseCommand):
    help = "用当前密钥重新加密身份证号、银行账号等加密字段，并重算检索码"

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="只生成并打印一个新密钥")

    def handle(self, *args, new_key=False, **options):
        if new_key:
            self.stdout.write(crypto.new_key())
            return
        ring = crypto.keyring()
        total = 0
        for model in apps.get_models():
            if not encrypted_fields(model):
                continue
            with transaction.atomic():
                written = reseal(model, only_stale=True)
            total += written
            self.stdout.write(f"{model._meta.label}: {written} 行已重新加密")
        files = self._reseal_documents(ring.current)
        self.stdout.write(f"加密存储的文档：{files} 个已重新加密")
        log_action(action=AuditLog.Action.CHANGE, username="manage.py rotate_field_keys",
                   message=f"加密字段密钥轮换：{total} 行改用密钥 {ring.current}", data={"key_id": ring.current, "rows": total, "files": files})
        self.stdout.write(self.style.SUCCESS(f"完成：共 {total} 行改用密钥 {ring.current}。"))

    def _reseal_documents(self, current: str) -> int:
        """Sealed archive files (provincial uploads, bank files) under an older key: stored
        again under the current one, the old file removed once the row points at the new."""
        from django.core.files.base import ContentFile

        from core.models import Document

        count = 0
        for document in Document.objects.filter(sealed=True).iterator():
            with document.file.open("rb") as handle:
                head = handle.read(64)
            if crypto.sealed_key_id(head) == current:
                continue
            content = document.read()
            old_name = document.file.name
            document.file.save(document.filename, ContentFile(crypto.seal_bytes(content)), save=False)
            Document.objects.filter(pk=document.pk).update(file=document.file.name)
            document.file.storage.delete(old_name)
            count += 1
        return count
