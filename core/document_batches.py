"""Jobs that render a batch of documents (a month's 附件10–13, a year's advance
notices): one Celery task per document, so every worker process renders.

A batch kind is registered with `@document_batch("app.kind")` on a function
`(job) -> Batch` that lists the files (each with kind, key, title, filename,
region, period and `render() -> bytes`, e.g. clearing.notices.NoticeFile) and
names them for the summary.

Under the Celery runner the job's task lists the files and queues one
`core.render_document` task per file not yet stored, then leaves the job
running; each task stores its document and counts the job's stored documents
on its row, and the one that finds them all finishes the job. This is a chord
kept on the Job row rather than in a Celery result backend (the project runs
without one): it survives a redelivered task (a document is stored once per
job and key) and a lost worker (the job's heartbeat stops, the sweep runs the
job again and it queues only what is missing). The thread and sync runners
render the files one after another in the job itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import connections
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from core.documents import NewDocument, store_documents
from core.errors import DomainError
from core.jobs import DETACHED, fail_job, job_handler, keeper
from core.models import Document, Job

logger = logging.getLogger(__name__)


class File(Protocol):
    kind: str
    key: str
    title: str
    filename: str
    region: Any
    period: str

    def render(self) -> bytes: ...


@dataclass
class Batch:
    files: Sequence[File]
    what: str  # 「2026年2月清算表和通知书」: the summary says “已生成并归档 28 份…”


BatchFunction = Callable[[Job], Batch]
_batches: dict[str, BatchFunction] = {}


def document_batch(kind: str, **job_options) -> Callable[[BatchFunction], BatchFunction]:
    """Register `function(job) -> Batch` as the job kind `kind` (options as for job_handler)."""

    def register(function: BatchFunction) -> BatchFunction:
        _batches[kind] = function

        def handler(job: Job, progress) -> Any:
            return _run_batch(job, progress, function(job))

        handler.__name__ = handler.__qualname__ = f"render_{kind.replace('.', '_')}"
        job_handler(kind, **job_options)(handler)
        return function

    return register


def _stored(job: Job, files: Sequence[File]) -> dict[str, int]:
    keys = [file.key for file in files]
    return dict(Document.objects.filter(job=job, key__in=keys).values_list("key", "pk"))


def _new_document(file: File, content: bytes) -> NewDocument:
    return NewDocument(file.kind, file.key, file.title, file.filename, content, region=file.region, period=file.period)


def _store(job: Job, file: File) -> Document:
    return store_documents([_new_document(file, file.render())], by=job.created_by, job=job)[0]


def _result(files: Sequence[File], stored: dict[str, int], what: str) -> dict:
    return {"documents": [stored[file.key] for file in files], "summary": f"已生成并归档 {len(files)} 份{what}"}


def _run_batch(job: Job, progress, batch: Batch) -> Any:
    files = list(batch.files)
    total = len(files)
    stored = _stored(job, files)  # a job run again keeps what its first run stored
    todo = [file for file in files if file.key not in stored]
    progress(total - len(todo), total, f"正在生成{batch.what}", force=True)
    if settings.YIDI_JOB_RUNNER == "celery" and len(todo) > 1:
        from celery import group

        from core.tasks import render_document

        group(render_document.si(job.pk, file.key) for file in todo).apply_async(queue=settings.CELERY_TASK_DEFAULT_QUEUE)
        return DETACHED  # the task that stores the last document finishes the job
    rendered = []
    for file in todo:
        rendered.append(_new_document(file, file.render()))
        done = len(stored) + len(rendered)
        progress(done, total, f"已生成 {done}/{total}：{file.title}")
    # Archived together: a constant number of queries however many files.
    stored.update((document.key, document.pk) for document in store_documents(rendered, by=job.created_by, job=job))
    return _result(files, stored, batch.what)


def render_batch_document(job_id: int, key: str) -> None:
    """One document of a batch job (the `core.render_document` task); the last one finishes the job."""
    job = Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).select_related("created_by").first()
    if job is None:
        return  # the job failed meanwhile (another document), or finished: nothing to add
    with keeper.running(job_id):
        try:
            batch = _batches[job.kind](job)
            files = list(batch.files)
            file = next((file for file in files if file.key == key), None)
            if file is None:
                raise DomainError("要生成的文件清单已经变化，请重新提交任务。")
            if not Document.objects.filter(job=job, key=key).exists():  # else a redelivered task
                _store(job, file)
        except DomainError as exc:
            fail_job(job_id, exc.message)
            return
        except Exception as exc:
            logger.exception("job %s (%s): document %s failed", job_id, job.kind, key)
            fail_job(job_id, f"内部错误（{type(exc).__name__}），请联系系统管理员并告知任务编号 {job_id}。")
            return
    stored = _stored(job, files)
    done, total = len(stored), len(files)
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
        progress_done=Greatest(F("progress_done"), done),
        progress_total=total,
        progress_message=f"已生成 {done}/{total}：{file.title}"[:200],
        heartbeat_at=timezone.now(),
    )
    if done == total:
        Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
            status=Job.Status.DONE,
            finished_at=timezone.now(),
            result=_result(files, stored, batch.what),
            error="",
            progress_done=total,
            progress_message="已完成",
        )


# --- The same files on every core of this machine (render_notices) ------------------

_forked_files: Sequence[File] = ()


def _render_forked(index: int) -> bytes:
    return _forked_files[index].render()


def render_in_processes(files: Sequence[File], *, processes: int | None = None) -> list[bytes]:
    """Render `files` in forked worker processes (one per core by default), in order.

    For a command line: forks this process, so call it with no transaction open."""
    global _forked_files
    processes = min(processes or os.cpu_count() or 1, len(files))
    in_transaction = any(conn.in_atomic_block for conn in connections.all(initialized_only=True))
    if processes <= 1 or in_transaction or "fork" not in multiprocessing.get_all_start_methods():
        # A child could not see what the open transaction wrote: render here.
        return [file.render() for file in files]
    connections.close_all()  # a child opens its own connection; none is shared across the fork
    _forked_files = files
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return pool.map(_render_forked, range(len(files)), chunksize=1)
    finally:
        _forked_files = ()
