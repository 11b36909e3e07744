"""The document archive: generated files stored once, with checksum and version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.http import FileResponse
from django.utils import timezone

from core import crypto
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


@dataclass
class NewDocument:
    """One file to archive (what `store_documents` takes)."""

    kind: str
    key: str
    title: str
    filename: str
    content: bytes
    region: Any = None
    period: str = ""
    content_type: str = "application/pdf"
    sealed: bool = False  # holds whole ID numbers or bank accounts: encrypted at rest


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
    sealed: bool = False,
) -> Document:
    """Archive `content` as the next version of `key`.

    Within one job a key is stored once: a retried job gets the document the
    first attempt stored instead of a duplicate.
    """
    new = NewDocument(kind, key, title, filename, content, region=region, period=period, content_type=content_type,
                      sealed=sealed)
    return store_documents([new], by=by, job=job)[0]


def store_documents(files: Sequence[NewDocument], *, by=None, job: Job | None = None) -> list[Document]:
    """Archive several files, each as the next version of its key, in a constant
    number of queries (the bytes are one storage write each). Safe against a
    concurrent regeneration of the same keys; within one job a key is stored
    once (a retried job gets what its first attempt stored)."""
    keys = [file.key for file in files]
    if len(set(keys)) != len(keys):
        raise ValueError("store_documents: each key once per call")
    existing = {document.key: document for document in Document.objects.filter(job=job, key__in=keys)} if job else {}
    now = timezone.now()
    documents = []
    for file in files:
        if file.key in existing:
            continue
        document = Document(
            kind=file.kind,
            key=file.key,
            title=file.title[:200],
            filename=file.filename,
            is_latest=True,
            content_type=file.content_type,
            size=len(file.content),
            sha256=Document.checksum(file.content),
            period=file.period,
            region=file.region,
            job=job,
            created_by=by,
            created_at=now,
            sealed=file.sealed,
        )
        # The bytes go to storage first, outside the lock (a unique name; removed again if no row refers to it).
        stored = crypto.seal_bytes(file.content) if file.sealed else file.content
        document.file.save(file.filename, ContentFile(stored), save=False)
        documents.append(document)
    if documents:
        try:
            with transaction.atomic():
                new_keys = [document.key for document in documents]
                _lock_keys(new_keys)
                last = dict(
                    Document.objects.filter(key__in=new_keys).values("key").annotate(last=Max("version")).values_list("key", "last")
                )
                Document.objects.filter(key__in=new_keys, is_latest=True).update(is_latest=False)
                for document in documents:
                    document.version = (last.get(document.key) or 0) + 1
                Document.objects.bulk_create(documents)
        except IntegrityError:
            for document in documents:
                document.file.delete(save=False)
            if job is None or not Document.objects.filter(job=job, key__in=keys).exists():
                raise
            # The same job stored some of these keys at the same moment (a redelivered task): theirs stand.
            return [store_document_once(file, by=by, job=job) for file in files]
        except BaseException:
            for document in documents:
                document.file.delete(save=False)
            raise
    stored = {document.key: document for document in documents}
    return [existing.get(key) or stored[key] for key in keys]


def store_document_once(file: NewDocument, *, by=None, job: Job) -> Document:
    existing = Document.objects.filter(job=job, key=file.key).first()
    return existing or store_documents([file], by=by, job=job)[0]


def _lock_keys(keys: Sequence[str]) -> None:
    """Serialise the versions of these keys until the transaction ends.

    Locking the existing rows is not enough: a second writer waiting on them
    does not see the version the first one inserts (PostgreSQL re-reads only
    the rows it locked), and a first version has no row to lock at all. A
    transaction-scoped advisory lock per key covers both (taken in one order
    by everyone, so two batches cannot deadlock); SQLite's IMMEDIATE
    transactions already admit one writer at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('yidi.document:' || key, 0))"
                " FROM unnest(%s::text[]) WITH ORDINALITY AS keys(key, position) ORDER BY position",
                [sorted(keys)],
            )


def latest_document(key: str) -> Document | None:
    return Document.objects.filter(key=key, is_latest=True).first()


def download_response(document: Document, *, user, request=None) -> FileResponse:
    """Serve an archived file (never re-rendered) and audit the download."""
    handle = document.open_plain()
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
            archive.writestr(f"{index:02d}-{document.filename}", document.read())
    spool.seek(0)
    log_action(
        action=AuditLog.Action.DOWNLOAD,
        user=user,
        message=f"打包下载 {filename}（{len(documents)} 个文件）",
        data={"documents": {document.filename: document.sha256 for document in documents}},
        request=request,
    )
    return FileResponse(spool, as_attachment=True, filename=filename, content_type="application/zip")
