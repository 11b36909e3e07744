"""The online import (不见面): duplicates, row numbers, the filing rules at preview, the applicant's phone."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from core.idcard import build_id_number
from core.models import InsuredPerson
from core.tests.factories import InsuredPersonFactory
from filings.models import Filing
from filings.tests.factories import FilingFactory

pytestmark = pytest.mark.django_db

HEADER = "申请流水号,申请日期,公民身份号码,姓名,险种类型,联系电话,人员类别,就医地,开始日期,结束日期,材料\n"


def row(reference, id_number, name, phone="13800000001", destination="北京市", person_type="异地长期居住人员",
        materials="有效身份证件、居住证明"):
    today = timezone.localdate().isoformat()
    return f"{reference},{today},{id_number},{name},职工,{phone},{person_type},{destination},{today},,{materials}\n"


def preview(client, text, name="applications.csv"):
    upload = io.BytesIO(text.encode("utf-8"))
    upload.name = name
    return client.post(reverse("filings:import"), {"file": upload}).text


def test_duplicate_reference_in_one_file_is_an_error_naming_both_rows(client, clerk):
    client.force_login(clerk)
    one = build_id_number("320104", date(1960, 2, 2), 41)
    two = build_id_number("320105", date(1972, 3, 3), 52)
    text = preview(client, HEADER + row("WS001", one, "顾春兰") + row("WS002", two, "许建国")
                   + row("WS001", two, "许建国", destination="上海市"))
    assert "申请流水号 WS001 在本文件中重复：第2行、第4行" in text
    assert "可导入 <strong>1</strong> 份" in text and "有问题 <strong>2</strong> 行" in text
    client.post(reverse("filings:import"), {"confirm": "1"})
    assert list(Filing.objects.values_list("online_reference", flat=True)) == ["WS002"]


def test_row_numbers_stay_the_spreadsheets_after_blank_lines(client, clerk):
    client.force_login(clerk)
    good = build_id_number("320104", date(1960, 2, 2), 41)
    text = preview(client, HEADER + row("WS001", good, "顾春兰") + ",,,,,,,,,,\n" + "\n"
                   + row("WS009", good, "顾春兰", person_type="外地人员"))
    assert "第5行" in text and "人员类别“外地人员”无法识别" in text
    assert "第3行" not in text


def test_row_numbers_of_xlsx_with_blank_lines(client, clerk):
    import openpyxl

    client.force_login(clerk)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(","))
    sheet.append([])
    sheet.append([])
    sheet.append(["WSX1", timezone.localdate(), build_id_number("320104", date(1960, 2, 2), 41), "顾春兰", "310",
                  "138", "外地人员", "110000", timezone.localdate(), None, "身份证"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "a.xlsx"
    text = client.post(reverse("filings:import"), {"file": buffer}).text
    assert "第4行" in text and "人员类别“外地人员”无法识别" in text


def test_import_runs_the_overlap_and_multi_place_rules_at_preview(client, clerk):
    client.force_login(clerk)
    person = InsuredPersonFactory(name="顾春兰")
    active = FilingFactory(insured_person=person, start_date=timezone.localdate())  # long-term, 北京
    temporary = FilingFactory(insured_person=person, person_type="other_temporary", destination_id="440100",
                              start_date=timezone.localdate())
    text = preview(client, HEADER + row("WS101", person.id_number, "顾春兰")
                   + row("WS102", person.id_number, "顾春兰", destination="上海市", person_type="其他临时外出就医人员",
                         materials="有效身份证件")
                   + row("WS103", person.id_number, "顾春兰", destination="天津市",
                         materials="有效身份证件、个人承诺书"))
    assert "第2行" in text and active.number in text and "重叠" in text
    assert "第3行" in text and "多地备案仅限长期异地居住人员" in text and temporary.number in text
    assert "第4行" in text and "多地备案不可使用承诺制" in text
    assert "可导入 <strong>0</strong> 份" in text
    client.post(reverse("filings:import"), {"confirm": "1"})
    assert not Filing.objects.filter(channel="online").exists()


def test_review_page_lists_the_persons_open_filings(client, clerk, supervisor):
    person = InsuredPersonFactory(name="顾春兰")
    active = FilingFactory(insured_person=person, start_date=timezone.localdate())
    client.force_login(clerk)
    preview(client, HEADER + row("WS201", person.id_number, "顾春兰", destination="上海市",
                                 person_type="其他临时外出就医人员", materials="有效身份证件"))
    client.post(reverse("filings:import"), {"confirm": "1"})
    application = Filing.objects.get(online_reference="WS201")
    client.force_login(supervisor)
    page = client.get(reverse("filings:review", args=[application.pk])).text
    assert "该人员现有备案" in page and active.number in page


def test_import_keeps_the_applicants_phone_until_approval(client, clerk, supervisor):
    person = InsuredPersonFactory(name="顾春兰", phone="13900000000")
    client.force_login(clerk)
    preview(client, HEADER + row("WS301", person.id_number, "顾春兰", phone="13311112222"))
    client.post(reverse("filings:import"), {"confirm": "1"})
    application = Filing.objects.get(online_reference="WS301")
    person.refresh_from_db()
    assert person.phone == "13900000000" and application.contact_phone == "13311112222"
    client.force_login(supervisor)
    page = client.get(reverse("filings:review", args=[application.pk])).text
    assert "13311112222" in page
    client.post(reverse("filings:review", args=[application.pk]),
                {"decision": "approve", "materials": ["id_card", "residence_proof"]})
    person.refresh_from_db()
    assert person.phone == "13311112222"


def test_rejected_application_leaves_the_phone_alone(client, clerk, supervisor):
    person = InsuredPersonFactory(name="顾春兰", phone="13900000000")
    client.force_login(clerk)
    preview(client, HEADER + row("WS302", person.id_number, "顾春兰", phone="13311112222"))
    client.post(reverse("filings:import"), {"confirm": "1"})
    application = Filing.objects.get(online_reference="WS302")
    client.force_login(supervisor)
    client.post(reverse("filings:review", args=[application.pk]), {"decision": "reject", "note": "材料不清"})
    assert InsuredPerson.objects.get(pk=person.pk).phone == "13900000000"


@pytest.mark.parametrize(("content", "message"), [
    (HEADER.encode(), "文件不是有效的 XLSX（可能是其他格式改了扩展名）"),
    (b"\xd0\xcf\x11\xe0" + b"\0" * 60, "这是旧版 Excel（.xls）文件"),
])
def test_unreadable_xlsx_is_explained_in_chinese(client, clerk, content, message):
    client.force_login(clerk)
    upload = io.BytesIO(content)
    upload.name = "applications.xlsx"
    text = client.post(reverse("filings:import"), {"file": upload}).text
    assert message in text
    assert "zip" not in text.lower().replace("gzip", "")


# --- Previews do not linger in MEDIA_ROOT (they hold full ID numbers) --------------------------------


def _preview_files(settings):
    """The preview files in the storage they are kept in (local disk or the shared bucket)."""
    from filings.services import IMPORT_PREVIEW_FOLDER, _preview_storage

    try:
        return sorted(_preview_storage().listdir(IMPORT_PREVIEW_FOLDER)[1])
    except FileNotFoundError:
        return []


def test_preview_file_removed_after_confirm_and_after_cancel(client, clerk, settings):
    client.force_login(clerk)
    one = build_id_number("320104", date(1960, 2, 2), 41)
    preview(client, HEADER + row("WS001", one, "顾春兰"))
    assert len(_preview_files(settings)) == 1
    client.post(reverse("filings:import"), {"confirm": "1"})
    assert _preview_files(settings) == []
    preview(client, HEADER + row("WS002", one, "顾春兰", destination="上海市"))
    assert len(_preview_files(settings)) == 1
    response = client.post(reverse("filings:import"), {"cancel": "1"}, follow=True)
    assert "已放弃本次导入" in response.text
    assert _preview_files(settings) == []
    assert "导入预览已失效" in client.post(reverse("filings:import"), {"confirm": "1"}, follow=True).text


def test_a_new_preview_replaces_the_previous_file(client, clerk, settings):
    client.force_login(clerk)
    one = build_id_number("320104", date(1960, 2, 2), 41)
    preview(client, HEADER + row("WS001", one, "顾春兰"))
    preview(client, HEADER + row("WS002", one, "顾春兰"))
    assert len(_preview_files(settings)) == 1


def test_daily_task_sweeps_previews_older_than_a_day(settings, monkeypatch):
    import os
    import time
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from core.storage import filesystem_path
    from filings.services import IMPORT_PREVIEW_FOLDER, _preview_storage
    from filings.tasks import expire_filings

    storage = _preview_storage()
    old = storage.save(f"{IMPORT_PREVIEW_FOLDER}/{'a' * 32}", ContentFile(b"320104196002020412"))
    storage.save(f"{IMPORT_PREVIEW_FOLDER}/{'b' * 32}", ContentFile(b"320104196002020412"))
    on_disk = filesystem_path(storage, old)
    if on_disk is not None:
        two_days_ago = time.time() - 2 * 86400
        os.utime(on_disk, (two_days_ago, two_days_ago))
    else:  # an S3 object keeps its upload time: say it was uploaded two days ago
        stored_time = type(storage).get_modified_time
        monkeypatch.setattr(type(storage), "get_modified_time", lambda self, name: (
            timezone.now() - timedelta(days=2) if name == old else stored_time(self, name)))
    expire_filings.run()
    assert _preview_files(settings) == ["b" * 32]


def test_absurd_dates_in_an_import_are_row_errors(client, clerk):
    client.force_login(clerk)
    one = build_id_number("320104", date(1960, 2, 2), 41)
    text = preview(client, HEADER + f"WS1,0001-01-01,{one},顾春兰,职工,138,异地长期居住人员,北京市,9999-12-31,,有效身份证件、居住证明\n")
    assert "第2行" in text and "请核对年份" in text
