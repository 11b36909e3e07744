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


HEADER = "申请流水号,申请日期,公民身份号码,姓名,险种类型,联系电话,人员类别,就医地,开始日期,结束日期,材料"
ROW = "WS001,2026-03-13,320106195603120248,李秀英,职工,13905150001,异地长期居住人员,110000,2026-03-13,,有效身份证件、居住证明"

ODD_FILES = {
    "empty": b"",
    "bom only": b"\xef\xbb\xbf",
    "header only": HEADER.encode(),
    "CR only": (HEADER + "\r" + ROW + "\r").encode(),
    "blank lines and trailing separators": (HEADER + ",\n\n" + ROW + ",\n\n").encode(),
    "NUL": (HEADER + "\n" + ROW.replace("李", "李\x00") + "\n").encode(),
    "very long field": (HEADER + "\n" + ROW.replace("李秀英", "李" * 2_000_000) + "\n").encode(),
    "full-width digits": (HEADER + "\n" + ROW.replace("2026-03-13", "２０２６－０３－１３") + "\n").encode(),
    "UTF-16": (HEADER + "\n" + ROW).encode("utf-16"),
    "Big5": "申請流水號,姓名,人員類別\nWS1,臺北榮民總醫院,長庚紀念醫院\n".encode("big5"),
}


@pytest.mark.parametrize("name", list(ODD_FILES))
def test_odd_files_get_a_page_not_a_server_error(client, clerk, name):
    client.force_login(clerk)
    response = client.post(reverse("filings:import"), {"file": SimpleUploadedFile("applications.csv", ODD_FILES[name])})
    assert response.status_code == 200
    assert "Traceback" not in response.text
    if name == "Big5":
        assert "文件看起来是 Big5（繁体中文）编码" in response.text
    assert not Filing.objects.exists()
