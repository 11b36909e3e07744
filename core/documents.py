"""The document archive: generated files stored once, with checksum and version."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.http import FileResponse
from django.utils import timezone

from core.audit import log_action
from core.discovery import app_modules
from core.models import AuditLog, Document, Job


def kind_labels() -> dict[str, str]:
    """What each document kind is called on screen: every app's jobs module may
    name the kinds it stores in DOCUMENT_KINDS."""
    labels = {"selftest": "打印自检样表"}
    for module in app_modules("jobs"):
        labels.update(getattr(module, "DOCUMENT_KINDS", {}))
    return labels


def store_document(
    *,
    kind: str,
    key: str,
    title: str,
    filename: str,
    content: bytes,
    by=None,
    region=None,
    period: str = "",
    job: Job | None = None,
    content_type: str = "application/pdf",
) -> Document:
    """Archive `content` as the next version of `key`.

    Within one job a key is stored once: a retried job gets the document the
    first attempt stored instead of a duplicate.
    """
    if job is not None:
        existing = Document.objects.filter(job=job, key=key).first()
        if existing is not None:
            return existing
    sha256 = Document.checksum(content)
    document = Document(
        kind=kind,
        key=key,
        title=title[:200],
        filename=filename,
        is_latest=True,
        content_type=content_type,
        size=len(content),
        sha256=sha256,
        period=period,
        region=region,
        job=job,
        created_by=by,
        created_at=timezone.now(),
    )
    # The bytes go to storage first, outside the lock (a unique name; removed again if no row refers to it).
    document.file.save(filename, ContentFile(content), save=False)
    try:
        with transaction.atomic():
            _lock_key(key)
            previous = Document.objects.filter(key=key).aggregate(last=Max("version"))["last"] or 0
            Document.objects.filter(key=key, is_latest=True).update(is_latest=False)
            document.version = previous + 1
            document.save()
    except IntegrityError:
        document.file.delete(save=False)
        # The same job stored this key at the same moment (a redelivered task); theirs stands.
        if job is not None:
            existing = Document.objects.filter(job=job, key=key).first()
            if existing is not None:
                return existing
        raise
    except BaseException:
        document.file.delete(save=False)
        raise
    return document


def _lock_key(key: str) -> None:
    """Serialise the versions of one key until the transaction ends.

    Locking the existing rows is not enough: a second writer waiting on them
    does not see the version the first one inserts (PostgreSQL re-reads only
    the rows it locked), and the first version has no row to lock at all. A
    transaction-scoped advisory lock on the key's hash covers both; SQLite's
    IMMEDIATE transactions already admit one writer at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"yidi.document:{key}"])


def latest_document(key: str) -> Document | None:
    return Document.objects.filter(key=key, is_latest=True).first()


def download_response(document: Document, *, user, request=None) -> FileResponse:
    """Serve an archived file (never re-rendered) and audit the download."""
    handle = document.file.open("rb")
    log_action(
        action=AuditLog.Action.DOWNLOAD,
        user=user,
        obj=document,
        message=f"下载 {document.filename}（第{document.version}版）",
        data={"sha256": document.sha256},
        request=request,
    )
    return FileResponse(handle, as_attachment=True, filename=document.filename, content_type=document.content_type)
