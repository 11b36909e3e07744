"""The online-filing import refuses crafted and oversized files in Chinese, quickly."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.tests import bombs
from core.tests.test_safe_files import calamine_must_not_run  # noqa: F401 - fixture
from filings.models import Filing

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", list(bombs.BOMBS))
def test_online_import_refuses_each_bomb(client, clerk, name, calamine_must_not_run):  # noqa: F811
    client.force_login(clerk)
    started = time.monotonic()
    response = client.post(reverse("filings:import"), {"file": SimpleUploadedFile("applications.xlsx", bombs.BOMBS[name]())})
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert "XLSX " in response.text
    assert not Filing.objects.exists()


def test_online_import_over_5_mb_is_refused(client, clerk):
    client.force_login(clerk)
    response = client.post(reverse("filings:import"), {"file": SimpleUploadedFile("a.csv", b"x" * (5 * 1024 * 1024 + 1))})
    assert "超过本导入允许的 5 MB" in response.text
