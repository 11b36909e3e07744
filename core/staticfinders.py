"""Static files from npm packages, exposed file by file.

Agency networks are closed, so Bootstrap, htmx and Chart.js are served by the
portal itself from `node_modules` (installed by `npm ci` from package.json).
Only the files pages use are exposed (plus the source maps they reference),
which keeps collectstatic small and fast.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import utils
from django.contrib.staticfiles.finders import AppDirectoriesFinder, BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

# URL path under STATIC_URL -> path under node_modules
VENDOR_FILES: dict[str, str] = {
    "vendor/bootstrap/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "vendor/bootstrap/css/bootstrap.min.css.map": "bootstrap/dist/css/bootstrap.min.css.map",
    "vendor/bootstrap/js/bootstrap.bundle.min.js": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "vendor/bootstrap/js/bootstrap.bundle.min.js.map": "bootstrap/dist/js/bootstrap.bundle.min.js.map",
    "vendor/bootstrap-icons/bootstrap-icons.min.css": "bootstrap-icons/font/bootstrap-icons.min.css",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff": "bootstrap-icons/font/fonts/bootstrap-icons.woff",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2": "bootstrap-icons/font/fonts/bootstrap-icons.woff2",
    "vendor/htmx/htmx.min.js": "htmx.org/dist/htmx.min.js",
    "vendor/chart.js/chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "vendor/chart.js/chart.umd.min.js.map": "chart.js/dist/chart.umd.min.js.map",
}


class _VendorStorage(FileSystemStorage):
    """Storage over node_modules that answers with the source path of a vendor URL path."""

    def path(self, name: str) -> str:
        return str(Path(settings.NODE_MODULES) / VENDOR_FILES[name])


class VendorFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.storage = _VendorStorage(location=str(settings.NODE_MODULES))

    def check(self, **kwargs):
        missing = [path for path in VENDOR_FILES.values() if not (Path(settings.NODE_MODULES) / path).exists()]
        if missing:
            return [
                Error(
                    "前端依赖未安装：node_modules 中缺少 " + "、".join(missing),
                    hint="在项目目录运行 npm ci（make run / make test 会自动执行）。",
                    id="yidi.E004",
                )
            ]
        return []

    def find(self, path, find_all=False, **kwargs):
        if path in VENDOR_FILES:
            match = self.storage.path(path)
            if os.path.exists(match):
                return [match] if find_all or kwargs.get("all") else match
        return [] if (find_all or kwargs.get("all")) else None

    def list(self, ignore_patterns):
        for name in VENDOR_FILES:
            if not utils.matches_patterns(name, ignore_patterns or []) and os.path.exists(self.storage.path(name)):
                yield name, self.storage


class ProjectAppDirectoriesFinder(AppDirectoriesFinder):
    """App static files, minus apps whose assets the portal does not use
    (django-htmx ships htmx and its extensions; ours come from npm)."""

    skipped_apps = {"django_htmx"}

    def __init__(self, app_names=None, *args, **kwargs):
        from django.apps import apps

        names = [config.name for config in apps.get_app_configs() if config.name not in self.skipped_apps]
        super().__init__(names, *args, **kwargs)
