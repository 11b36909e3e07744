"""Attachments on cooperation cases: size and type limits, content sniffed, stored under a random name."""

from __future__ import annotations

import hashlib
import os

from django.core.files.base import ContentFile
from django.utils import timezone

from core.errors import DomainError

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS_PER_UPLOAD = 5

#: extension -> (content type, how the file must start)
ALLOWED_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".ofd": ("application/ofd", (b"PK\x03\x04",)),
}
ALLOWED_LABEL = "PDF、JPG、PNG、XLSX、DOCX、OFD"


def checked_upload(upload) -> tuple[str, str, bytes]:
    """(safe display name, content type, bytes) of an uploaded file, or a DomainError saying what is wrong."""
    name = os.path.basename((getattr(upload, "name", "") or "").replace("\\", "/")).strip()[:150] or "附件"
    extension = os.path.splitext(name)[1].lower()
    if extension not in ALLOWED_TYPES:
        raise DomainError(f"附件“{name}”的类型不允许：只能上传 {ALLOWED_LABEL} 文件。", code="attachment_type")
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_ATTACHMENT_BYTES:
        raise DomainError(f"附件“{name}”超过 10 MB，请压缩或分开上传。", code="attachment_size")
    content = upload.read(MAX_ATTACHMENT_BYTES + 1)
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise DomainError(f"附件“{name}”超过 10 MB，请压缩或分开上传。", code="attachment_size")
    if not content:
        raise DomainError(f"附件“{name}”是空文件。", code="attachment_empty")
    content_type, signatures = ALLOWED_TYPES[extension]
    if not content.startswith(signatures):
        raise DomainError(f"附件“{name}”的内容与扩展名不符（不是有效的 {extension[1:].upper()} 文件）。", code="attachment_content")
    return name, content_type, content


def check_uploads(uploads) -> list[tuple[str, str, bytes]]:
    uploads = [upload for upload in uploads or [] if upload]
    if len(uploads) > MAX_ATTACHMENTS_PER_UPLOAD:
        raise DomainError(f"一次最多上传 {MAX_ATTACHMENTS_PER_UPLOAD} 个附件。", code="attachment_count")
    return [checked_upload(upload) for upload in uploads]


def store_attachments(*, checked: list[tuple[str, str, bytes]], by, stage: str, assist=None, coordination=None) -> list:
    from cooperation.models import Attachment

    stored = []
    for name, content_type, content in checked:
        attachment = Attachment(
            assist=assist,
            coordination=coordination,
            filename=name,
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            stage=stage,
            uploaded_by=by,
            uploaded_at=timezone.now(),
        )
        attachment.file.save(name, ContentFile(content), save=False)
        attachment.save()
        stored.append(attachment)
    return stored
