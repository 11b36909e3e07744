"""Stored files whatever the storage: local disk (`make run`) or a shared S3-compatible
bucket (several hosts). Code reads stored files through `storage.open`; where a tool
needs a real path (PostgreSQL COPY, calamine), `local_path` gives one."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHUNK = 1024 * 1024


def filesystem_path(storage, name: str) -> Path | None:
    """The file's own path when the storage is a local file system, else None."""
    try:
        return Path(storage.path(name))
    except NotImplementedError:  # S3 and other remote storages have no path
        return None


@contextmanager
def local_path(field_file) -> Iterator[Path]:
    """A path to read a stored file from.

    On local disk it is the stored file itself (no copy: the settlement COPY fast path reads
    it in place). On a remote storage the file is downloaded into a private temporary folder
    on this host, under a name with the stored file's extension, and removed afterwards.
    """
    storage, name = field_file.storage, field_file.name
    own = filesystem_path(storage, name)
    if own is not None:
        yield own
        return
    with tempfile.TemporaryDirectory(prefix="yidi-stored-") as folder:
        target = Path(folder) / f"file{Path(name).suffix.lower()}"
        download = _s3_download(storage, name)
        if download is not None:
            download(str(target))  # boto3's streamed, parallel download straight to disk
        else:
            with storage.open(name, "rb") as source, target.open("wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
        yield target


def _s3_download(storage, name: str):
    from storages.backends.s3 import S3Storage
    from storages.utils import clean_name

    if not isinstance(storage, S3Storage):
        return None
    key = storage._normalize_name(clean_name(name))
    return storage.bucket.Object(key).download_file
