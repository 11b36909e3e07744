"""The document archive: generated files stored once, with checksum and version."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
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


def institution_documents(user) -> Q:
    """The documents that concern a hospital account's own institution: every
    app's jobs module may add a condition in `institution_documents(user) -> Q`."""
    condition = Q(pk__in=[])
    for module in app_modules("jobs"):
        declared = getattr(module, "institution_documents", None)
        if declared is not None:
            condition |= declared(user)
    return condition


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
    try:
        with transaction.atomic():
            versions = Document.objects.select_for_update().filter(key=key).values_list("version", flat=True)
            previous = max(versions, default=0)
            Document.objects.filter(key=key, is_latest=True).update(is_latest=False)
            document = Document(
                kind=kind,
                key=key,
                title=title[:200],
                filename=filename,
                version=previous + 1,
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
            document.file.save(filename, ContentFile(content), save=False)
            document.save()
    except IntegrityError:
        # Another worker stored the same key at the same moment; theirs stands.
        if job is not None:
            return Document.objects.get(job=job, key=key)
        raise
    return document


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


def zip_response(documents: list[Document], *, user, request=None, filename: str) -> FileResponse:
    """Several archived files in one ZIP (stored bytes, never re-rendered), numbered in the
    order given; the download is audited with every file's checksum."""
    import tempfile
    import zipfile

    spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, document in enumerate(documents, start=1):
            with document.file.open("rb") as handle:
                archive.writestr(f"{index:02d}-{document.filename}", handle.read())
    spool.seek(0)
    log_action(
        action=AuditLog.Action.DOWNLOAD,
        user=user,
        message=f"打包下载 {filename}（{len(documents)} 个文件）",
        data={"documents": {document.filename: document.sha256 for document in documents}},
        request=request,
    )
    return FileResponse(spool, as_attachment=True, filename=filename, content_type="application/zip")
