"""Files of online applications waiting between preview and confirmation."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

# --- Import previews -------------------------------------------------------------------------

#: Where an uploaded file of online applications waits between preview and confirmation.
IMPORT_PREVIEW_FOLDER = "filings-import"


def _preview_storage():
    """The storage django-import-export's MediaStorage writes to."""
    from django.core.files.storage import storages

    return storages["import_export"] if "import_export" in storages.backends else storages["default"]


def import_preview_remove(name: str) -> None:
    """Delete one preview file (after confirmation, cancellation or a newer preview)."""
    if not name or "/" in name or "\\" in name:
        return
    storage = _preview_storage()
    path = f"{IMPORT_PREVIEW_FOLDER}/{name}"
    if storage.exists(path):
        storage.delete(path)


def import_previews_sweep(*, older_than: timedelta = timedelta(days=1), now=None) -> int:
    """Delete previews left behind (a clerk closed the tab): they hold full ID numbers.
    Part of the daily task."""
    storage = _preview_storage()
    now = now or timezone.now()
    try:
        _dirs, files = storage.listdir(IMPORT_PREVIEW_FOLDER)
    except FileNotFoundError:
        return 0
    removed = 0
    for name in files:
        path = f"{IMPORT_PREVIEW_FOLDER}/{name}"
        try:
            modified = storage.get_modified_time(path)
        except (FileNotFoundError, NotImplementedError):
            continue
        if now - modified > older_than:
            storage.delete(path)
            removed += 1
    return removed
