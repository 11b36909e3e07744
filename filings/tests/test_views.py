"""The filing screens: permissions, the one-screen counter, lists, review, import, upload, printing."""

from __future__ import annotations

import io
import subprocess
from datetime import date, timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from core.idcard import build_id_number
from core.models import AuditLog, Document, InsuredPerson, Job, Role
from core.tests.factories import InstitutionFactory, InsuredPersonFactory, region
from filings.models import Basis, Channel, Filing, FilingRegionSettings, UploadBatch, UploadStatus
from filings.tests.factories import FilingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hospital(make_staff):
    institution = InstitutionFactory(name="南京测试医院", can_refer=True)
    return make_staff("hospital_nj", Role.HOSPITAL, "320100", institution=institution)


@pytest.fixture
def filing(db):
    person = InsuredPersonFactory(name="钱玉兰", phone="13951700001")
    return FilingFactory(insured_person=person, start_date=timezone.localdate(), status=Filing.Status.ACTIVE,
                         upload_status=UploadStatus.PENDING)


def login(client, user):
    client.force_login(user)
    return client


def walk_in_post(**overrides):
    today = timezone.localdate()
    data = {
        "id_number": build_id_number("320104", date(1957, 4, 8), 35),
        "name": "孙玉珍",
        "insurance_type": "310",
        "phone": "13851234567",
        "person_type": "long_term_resident",
        "destination": "110000",
        "start_date": today.isoformat(),
        "materials": ["id_card", "commitment_letter"],
    }
    data.update(overrides)
    return data


# --- Permissions ---------------------------------------------------------------------------------

PAGES = ["filings:list", "filings:new", "filings:review_queue", "filings:commitments", "filings:upload",
         "filings:import", "filings:settings"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("user_fixture", "expected"),
    [
        ("clerk", {"filings:list": 200, "filings:new": 200, "filings:review_queue": 200, "filings:commitments": 200,
                   "filings:upload": 200, "filings:import": 200, "filings:settings": 403}),
        ("supervisor", {"filings:list": 200, "filings:new": 403, "filings:review_queue": 200,
                        "filings:commitments": 200, "filings:upload": 200, "filings:import": 200,
                        "filings:settings": 200}),
        ("finance", dict.fromkeys(PAGES, 403)),
        ("hospital", {"filings:list": 200, "filings:new": 200, "filings:review_queue": 403,
                      "filings:commitments": 403, "filings:upload": 403, "filings:import": 403,
                      "filings:settings": 403}),
        ("clearing_officer", {"filings:list": 200, "filings:new": 403, "filings:review_queue": 200,
                              "filings:commitments": 200, "filings:upload": 403, "filings:import": 403,
                              "filings:settings": 403}),
    ],
)
def test_role_matrix_for_pages(client, request, user_fixture, expected):
    login(client, request.getfixturevalue(user_fixture))
    for name, status in expected.items():
        assert client.get(reverse(name)).status_code == status, name


def test_finance_cannot_file(client, finance, nothing_written):
    login(client, finance)
    with nothing_written():
        response = client.post(reverse("filings:new"), walk_in_post())
    assert response.status_code == 403


def test_other_regions_clerk_gets_404_on_every_filing_page(client, clerk_wuxi, filing):
    login(client, clerk_wuxi)
    for name in ("detail", "edit", "change", "cancel", "materials", "receipt"):
        assert client.get(reverse(f"filings:{name}", args=[filing.pk])).status_code == 404, name
    assert client.post(reverse("filings:print", args=[filing.pk, "annex1"])).status_code == 404
    assert client.post(reverse("filings:cancel", args=[filing.pk]), {"reason": "x"}).status_code == 404
    assert Filing.objects.get(pk=filing.pk).status == Filing.Status.ACTIVE


def test_other_regions_supervisor_cannot_review(client, supervisor_wuxi, filing):
    Filing.objects.filter(pk=filing.pk).update(status=Filing.Status.PENDING_REVIEW)
    login(client, supervisor_wuxi)
    assert client.get(reverse("filings:review", args=[filing.pk])).status_code == 404


def test_province_clearing_officer_sees_every_region(client, clearing_officer, filing):
    login(client, clearing_officer)
    assert client.get(reverse("filings:detail", args=[filing.pk])).status_code == 200


def test_hospital_sees_only_its_own_referrals(client, hospital, filing):
    own = FilingFactory(person_type="referral", channel=Channel.HOSPITAL,
                        referring_institution=hospital.institution, destination=region("310000"))
    login(client, hospital)
    assert client.get(reverse("filings:detail", args=[filing.pk])).status_code == 404
    assert client.get(reverse("filings:detail", args=[own.pk])).status_code == 200
    response = client.get(reverse("filings:list"))
    assert own.number in response.text and filing.number not in response.text


# --- The counter ----------------------------------------------------------------------------------


def test_clerk_files_a_walk_in_in_one_screen(client, clerk):
    login(client, clerk)
    response = client.post(reverse("filings:new"), walk_in_post())
    filing = Filing.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("filings:detail", args=[filing.pk])
    assert filing.insured_person.name == "孙玉珍"
    assert filing.status == Filing.Status.ACTIVE and filing.basis == Basis.COMMITMENT
    assert filing.channel == Channel.COUNTER and filing.created_by == clerk
    page = client.get(response["Location"]).text
    assert "备案已生效" in page and "前补齐证明材料" in page


def test_refused_walk_in_shows_the_reason_and_writes_nothing(client, clerk, nothing_written):
    login(client, clerk)
    with nothing_written():
        response = client.post(reverse("filings:new"), walk_in_post(destination="320100"))
    assert response.status_code == 200
    assert "就医地不能是参保地本身（南京市）" in response.text
    assert not InsuredPerson.objects.filter(name="孙玉珍").exists()


def test_wrong_id_number_is_explained(client, clerk, nothing_written):
    login(client, clerk)
    number = build_id_number("320104", date(1957, 4, 8), 35)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with nothing_written():
        response = client.post(reverse("filings:new"), walk_in_post(id_number=wrong))
    assert "公民身份号码校验码错误：第18位与前17位不符" in response.text


def test_missing_materials_refused_but_draft_saved(client, clerk, nothing_written):
    login(client, clerk)
    with nothing_written():
        response = client.post(reverse("filings:new"), walk_in_post(materials=["id_card"]))
    assert "材料不齐，备案不能生效。缺少：长期居住认定材料" in response.text
    response = client.post(reverse("filings:new"), walk_in_post(materials=["id_card"], save_draft="1"))
    filing = Filing.objects.get()
    assert filing.status == Filing.Status.DRAFT
    response = client.post(reverse("filings:activate", args=[filing.pk]), follow=True)
    assert "材料不齐" in response.text
    edit = walk_in_post(materials=["id_card", "residence_proof"])
    response = client.post(reverse("filings:edit", args=[filing.pk]), edit)
    assert Filing.objects.get(pk=filing.pk).status == Filing.Status.ACTIVE


def test_checklist_changes_with_person_type(client, clerk):
    login(client, clerk)
    url = reverse("filings:checklist")
    retired = client.post(url, {"person_type": "retired_resettled"}).text
    assert "户口簿首页" in retired and "本人常住人口登记卡" in retired and "长期异地居住人员个人承诺书" in retired
    posted = client.post(url, {"person_type": "posted_worker"}).text
    assert "工作合同" in posted and "异地工作单位证明" in posted and "户口簿首页" not in posted
    referral = client.post(url, {"person_type": "referral"}).text
    assert "转诊转院证明" in referral and "个人承诺书" not in referral and "不少于6个月" in referral
    emergency = client.post(url, {"person_type": "emergency"}).text
    assert "视同已备案" in emergency and "无需办理备案" in emergency
    with_proxy = client.post(url, {"person_type": "other_temporary", "by_proxy": "on"}).text
    assert "代办人有效身份证明" in with_proxy
    complete = client.post(url, {"person_type": "long_term_resident", "materials": ["id_card", "commitment_letter"]})
    assert "材料齐全（承诺制）" in complete.text


def test_person_lookup_finds_registers_or_refuses(client, clerk, filing):
    login(client, clerk)
    url = reverse("filings:person_lookup")
    found = client.get(url, {"id_number": filing.insured_person.id_number}).text
    assert "已登记：<strong>钱玉兰</strong>" in found and filing.number in found
    new = client.get(url, {"id_number": build_id_number("320104", date(1990, 1, 1), 12)}).text
    assert "新参保人员" in new
    bad = client.get(url, {"id_number": "3201041990010"}).text
    assert "公民身份号码应为18位，您输入的是13位。" in bad
    wuxi_person = InsuredPersonFactory(insured_region=region("320200"))
    other = client.get(url, {"id_number": wuxi_person.id_number}).text
    assert "该参保人不属于本统筹区（南京市）" in other and wuxi_person.name not in other


def test_hospital_files_referral_for_its_own_patients(client, hospital):
    login(client, hospital)
    data = walk_in_post(person_type="referral", destination="310000", materials=["id_card"])
    response = client.post(reverse("filings:new"), data)
    filing = Filing.objects.get()
    assert response.status_code == 302
    assert filing.channel == Channel.HOSPITAL and filing.referring_institution == hospital.institution
    assert "referral_certificate" in filing.materials


def test_hospital_cannot_file_other_types(client, hospital, nothing_written):
    login(client, hospital)
    with nothing_written():
        response = client.post(reverse("filings:new"), walk_in_post())
    # The hospital form offers referrals only; the service refuses anything else too (test_services).
    assert response.status_code == 200 and "医疗机构只能办理异地转诊备案" in response.text


def test_change_and_cancel_at_the_counter(client, clerk, filing):
    login(client, clerk)
    today = timezone.localdate()
    response = client.post(reverse("filings:change", args=[filing.pk]), {
        "change_reason": "搬到上海", "person_type": "long_term_resident", "destination": "310000",
        "start_date": today.isoformat(), "materials": ["id_card", "residence_proof"],
    })
    new = Filing.objects.get(replaces=filing)
    assert response["Location"] == reverse("filings:detail", args=[new.pk])
    filing.refresh_from_db()
    assert filing.status == Filing.Status.CHANGED and new.destination.code == "310000"
    detail = client.get(reverse("filings:detail", args=[filing.pk])).text
    assert new.number in detail and "已变更" in detail
    response = client.post(reverse("filings:cancel", args=[new.pk]), {"reason": ""})
    assert Filing.objects.get(pk=new.pk).status == Filing.Status.ACTIVE
    response = client.post(reverse("filings:cancel", args=[new.pk]), {"reason": "回南京居住"})
    assert Filing.objects.get(pk=new.pk).status == Filing.Status.CANCELLED
    receipt = client.get(reverse("filings:receipt", args=[new.pk])).text
    assert "异地就医备案取消回执" in receipt and "回南京居住" in receipt


def test_commitment_lock_refusal_shown(client, clerk, filing, nothing_written):
    Filing.objects.filter(pk=filing.pk).update(basis=Basis.COMMITMENT, materials=["id_card", "commitment_letter"])
    login(client, clerk)
    with nothing_written():
        response = client.post(reverse("filings:cancel", args=[filing.pk]), {"reason": "不去了"})
    assert "需满6个月方可取消" in response.text


def test_receipt_is_printable(client, clerk, filing):
    login(client, clerk)
    response = client.get(reverse("filings:receipt", args=[filing.pk]))
    assert "异地就医备案登记回执" in response.text and "data-print" in response.text and "onclick" not in response.text
    assert filing.insured_person.masked_id_number in response.text
    assert filing.insured_person.id_number not in response.text


# --- Lists ----------------------------------------------------------------------------------------


def test_list_masks_id_numbers_and_searches(client, clerk, filing):
    other = FilingFactory(insured_person=InsuredPersonFactory(name="周晓东"))
    login(client, clerk)
    page = client.get(reverse("filings:list")).text
    person = filing.insured_person
    assert person.masked_id_number in page and person.id_number not in page
    assert person.masked_id_number == f"{person.id_number[:6]}********{person.id_number[-4:]}"
    by_id = client.get(reverse("filings:list"), {"q": person.id_number}).text
    assert filing.number in by_id and other.number not in by_id
    by_name = client.get(reverse("filings:list"), {"q": "周晓"}).text
    assert other.number in by_name and filing.number not in by_name
    by_tail = client.get(reverse("filings:list"), {"q": person.id_number[-6:]}).text
    assert filing.number in by_tail


def test_search_offers_filing_for_a_person_without_one(client, clerk):
    person = InsuredPersonFactory(name="陆海燕")
    login(client, clerk)
    page = client.get(reverse("filings:list"), {"q": person.id_number}).text
    assert "陆海燕" in page and "为其办理备案" in page


def test_list_filters(client, clerk):
    today = timezone.localdate()
    commitment = FilingFactory(basis=Basis.COMMITMENT, materials_due_on=today - timedelta(days=1),
                               destination=region("330100"))
    referral = FilingFactory(person_type="referral", channel=Channel.HOSPITAL, destination=region("310000"))
    pending = FilingFactory(status=Filing.Status.PENDING_REVIEW, channel=Channel.ONLINE,
                            review_due_on=today - timedelta(days=1), destination=region("440100"))
    login(client, clerk)

    def numbers(**params):
        text = client.get(reverse("filings:list"), params).text
        return {f.number for f in (commitment, referral, pending) if f.number in text}

    assert numbers(materials_overdue="on") == {commitment.number}
    assert numbers(person_type="referral") == {referral.number}
    assert numbers(channel="online") == {pending.number}
    assert numbers(status="pending_review") == {pending.number}
    assert numbers(review_overdue="on") == {pending.number}
    assert numbers(destination="330000") == {commitment.number}  # a province includes its cities
    assert numbers(person_group="temporary") == {referral.number}
    assert numbers(start_from="2026-01-05", start_to="2026-01-05") == {commitment.number, referral.number,
                                                                       pending.number}
    assert numbers(start_from="2026-01-06") == set()


def test_list_query_count_is_constant(client, clerk, django_assert_max_num_queries):
    login(client, clerk)
    FilingFactory.create_batch(3)
    client.get(reverse("filings:list"))  # warm caches (session, content types)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("filings:list"))
    FilingFactory.create_batch(22, person_type="referral", basis=Basis.COMMITMENT)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("filings:list"), {"status": "active", "q": ""})
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["filings:review_queue", "filings:commitments", "filings:upload"])
def test_other_lists_query_count_is_constant(client, clerk, django_assert_max_num_queries, name):
    today = timezone.localdate()
    login(client, clerk)

    def make(n):
        for _ in range(n):
            FilingFactory(status=Filing.Status.PENDING_REVIEW, review_due_on=today)
            FilingFactory(basis=Basis.COMMITMENT, materials_due_on=today + timedelta(days=3))
            FilingFactory(upload_status=UploadStatus.PENDING, upload_pending_since=timezone.now())

    make(2)
    client.get(reverse(name))
    with django_assert_max_num_queries(15) as few:
        client.get(reverse(name))
    make(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse(name))


def test_commitment_list_shows_due_and_overdue(client, clerk):
    today = timezone.localdate()
    overdue = FilingFactory(basis=Basis.COMMITMENT, materials_due_on=today - timedelta(days=2))
    soon = FilingFactory(basis=Basis.COMMITMENT, materials_due_on=today + timedelta(days=10),
                         destination=region("310000"))
    later = FilingFactory(basis=Basis.COMMITMENT, materials_due_on=today + timedelta(days=90),
                          destination=region("440100"))
    done = FilingFactory(basis=Basis.COMMITMENT, materials_due_on=today - timedelta(days=2),
                         materials_completed_on=today - timedelta(days=5), destination=region("330100"))
    login(client, clerk)
    page = client.get(reverse("filings:commitments")).text
    assert overdue.number in page and soon.number in page
    assert later.number not in page and done.number not in page
    assert "已逾期2天" in page and "10天后到期" in page and "即将到期" not in page
    only_overdue = client.get(reverse("filings:commitments"), {"show": "overdue"}).text
    assert overdue.number in only_overdue and soon.number not in only_overdue


def test_home_page_counts_for_clerk_and_supervisor(client, clerk, supervisor, django_assert_max_num_queries):
    today = timezone.localdate()
    FilingFactory(status=Filing.Status.PENDING_REVIEW, review_due_on=today - timedelta(days=1))
    FilingFactory(status=Filing.Status.PENDING_REVIEW, review_due_on=today + timedelta(days=1))
    FilingFactory(upload_status=UploadStatus.PENDING, upload_pending_since=timezone.now() - timedelta(days=2))
    FilingFactory(basis=Basis.COMMITMENT, materials_due_on=today - timedelta(days=1))
    FilingFactory(insured_person=InsuredPersonFactory(insured_region=region("320200")),
                  status=Filing.Status.PENDING_REVIEW)  # 无锡: not counted for 南京
    from filings.dashboard import filing_desk

    with django_assert_max_num_queries(3):
        panel = filing_desk(supervisor)
    tiles = {tile.label: tile.value for tile in panel.tiles}
    assert tiles["待审核线上申请"] == 2 and tiles["审核超期"] == 1
    assert tiles["待上传省平台"] == 1 and tiles["承诺材料逾期"] == 1
    clerk_tiles = {tile.label: tile.value for tile in filing_desk(clerk).tiles}
    assert "审核超期" not in clerk_tiles and clerk_tiles["承诺材料逾期"] == 1
    login(client, supervisor)
    assert "待审核线上申请" in client.get(reverse("home")).text


# --- Review ---------------------------------------------------------------------------------------


def test_supervisor_reviews_online_application(client, clerk, supervisor, filing):
    Filing.objects.filter(pk=filing.pk).update(status=Filing.Status.PENDING_REVIEW, channel=Channel.ONLINE,
                                               created_by=clerk, online_reference="WS1",
                                               upload_status=UploadStatus.NOT_REQUIRED)
    login(client, supervisor)
    response = client.post(reverse("filings:review", args=[filing.pk]), {"decision": "reject", "note": ""})
    assert "须填写驳回原因" in response.text
    response = client.post(reverse("filings:review", args=[filing.pk]),
                           {"decision": "approve", "materials": ["id_card", "residence_proof"]})
    assert response.status_code == 302
    filing.refresh_from_db()
    assert filing.status == Filing.Status.ACTIVE and filing.reviewed_by == supervisor
    again = client.post(reverse("filings:review", args=[filing.pk]), {"decision": "approve"})
    assert "无需再审核" in again.text


def test_supervisor_cannot_approve_own_import_in_view(client, supervisor, filing, nothing_written):
    Filing.objects.filter(pk=filing.pk).update(status=Filing.Status.PENDING_REVIEW, created_by=supervisor)
    login(client, supervisor)
    with nothing_written():
        response = client.post(reverse("filings:review", args=[filing.pk]), {"decision": "approve"})
    assert "审核人不能审核自己导入的申请" in response.text


# --- Online import ----------------------------------------------------------------------------------

HEADER = "申请流水号,申请日期,公民身份号码,姓名,险种类型,联系电话,人员类别,就医地,开始日期,结束日期,材料\n"


def _csv_rows(today):
    good = build_id_number("320104", date(1960, 2, 2), 41)
    good2 = build_id_number("320105", date(1972, 3, 3), 52)
    bad_check = build_id_number("320104", date(1961, 2, 2), 43)
    bad_check = bad_check[:17] + ("0" if bad_check[17] != "0" else "1")
    return (
        HEADER
        + f"WS001,{today},{good},顾春兰,职工,13800000001,异地长期居住人员,北京市,{today},,有效身份证件、居住证明\n"
        + f"WS002,{today},{good2},许建国,城乡居民,13800000002,其他临时外出就医人员,310000,{today},,社保卡\n"
        + f"WS003,{today},{bad_check},错号码,职工,13800000003,异地长期居住人员,北京市,{today},,有效身份证件\n"
        + f"WS004,{today},{good2},许建国,城乡居民,13800000002,外地人员,火星,{today},,\n"
        + f"WS005,{today},{good},顾春兰,职工,13800000001,异地长期居住人员,南京市,{today},,有效身份证件、居住证明\n"
    )


def test_online_import_previews_then_imports_valid_rows(client, clerk, nothing_written):
    login(client, clerk)
    today = timezone.localdate().isoformat()
    upload = io.BytesIO(_csv_rows(today).encode("gb18030"))
    upload.name = "applications.csv"
    with nothing_written():
        preview = client.post(reverse("filings:import"), {"file": upload})
    text = preview.text
    assert "可导入 <strong>2</strong> 份" in text
    assert "有问题 <strong>3</strong> 行" in text
    # Row numbers as the spreadsheet shows them: the header is row 1.
    assert "第4行" in text and "公民身份号码校验码错误" in text
    assert "第5行" in text and "人员类别“外地人员”无法识别" in text and "就医地“火星”不是已知的地区代码或名称" in text
    assert "第6行" in text and "就医地不能是参保地本身" in text
    assert "顾春兰" in text and "许建国" in text
    confirm = client.post(reverse("filings:import"), {"confirm": "1"}, follow=True)
    assert "已导入 2 份线上申请" in confirm.text and "3 行有问题未导入" in confirm.text
    filings = Filing.objects.order_by("online_reference")
    assert [f.online_reference for f in filings] == ["WS001", "WS002"]
    assert all(f.status == Filing.Status.PENDING_REVIEW and f.channel == Channel.ONLINE for f in filings)
    assert filings[0].review_due_on is not None
    assert InsuredPerson.objects.filter(name="许建国", insurance_type="390").exists()


def test_importing_the_same_file_twice_adds_nothing(client, clerk):
    login(client, clerk)
    today = timezone.localdate().isoformat()
    for _ in range(2):
        upload = io.BytesIO(_csv_rows(today).encode("utf-8-sig"))
        upload.name = "applications.csv"
        client.post(reverse("filings:import"), {"file": upload})
        client.post(reverse("filings:import"), {"confirm": "1"})
    assert Filing.objects.count() == 2
    upload = io.BytesIO(_csv_rows(today).encode("utf-8"))
    upload.name = "applications.csv"
    preview = client.post(reverse("filings:import"), {"file": upload}).text
    assert "可导入 <strong>0</strong> 份" in preview and "已导入过（跳过） <strong>2</strong> 份" in preview


def test_import_xlsx(client, clerk):
    login(client, clerk)
    today = timezone.localdate()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["WSX1", today, build_id_number("320104", date(1960, 2, 2), 41), "顾春兰", "310", 13800000001,
                  "retired_resettled", 460200, today, None, "身份证、户口簿首页、常住人口登记卡"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "applications.xlsx"
    preview = client.post(reverse("filings:import"), {"file": buffer})
    assert "可导入 <strong>1</strong> 份" in preview.text
    client.post(reverse("filings:import"), {"confirm": "1"})
    filing = Filing.objects.get()
    assert filing.destination.code == "460200"
    assert set(filing.materials) == {"id_card", "household_register", "residence_registration_card"}


def test_import_rejects_a_file_without_the_columns(client, clerk):
    login(client, clerk)
    upload = io.BytesIO("编号,名字\n1,张三\n".encode())
    upload.name = "x.csv"
    response = client.post(reverse("filings:import"), {"file": upload})
    assert "文件缺少必需的列：申请流水号、申请日期、公民身份号码" in response.text


def test_confirm_without_preview_is_refused(client, clerk):
    login(client, clerk)
    response = client.post(reverse("filings:import"), {"confirm": "1"}, follow=True)
    assert "导入预览已失效" in response.text


# --- Provincial upload ------------------------------------------------------------------------------


def _read_xlsx(document):
    workbook = openpyxl.load_workbook(io.BytesIO(document.read()))
    rows = list(workbook.active.iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_upload_export_marks_filings_exported(client, clerk, filing):
    cancelled = FilingFactory(status=Filing.Status.CANCELLED, upload_status=UploadStatus.PENDING,
                              upload_action="cancel", cancel_reason="回原籍", destination=region("310000"),
                              upload_pending_since=timezone.now())
    done = FilingFactory(upload_status=UploadStatus.UPLOADED, destination=region("440100"))
    wuxi = FilingFactory(insured_person=InsuredPersonFactory(insured_region=region("320200")),
                         upload_status=UploadStatus.PENDING)
    Filing.objects.filter(pk=filing.pk).update(upload_action="new", upload_pending_since=timezone.now())
    login(client, clerk)
    page = client.get(reverse("filings:upload")).text
    assert filing.number in page and cancelled.number in page and done.number not in page and wuxi.number not in page
    response = client.post(reverse("filings:upload"), {"file_format": "xlsx"})
    batch = UploadBatch.objects.get()
    assert response["Location"].endswith(f"?batch={batch.pk}")
    assert (batch.count_new, batch.count_change, batch.count_cancel) == (1, 0, 1)
    header, rows = _read_xlsx(batch.document)
    assert header[:3] == ("上传业务", "备案编号", "原备案编号")
    by_number = {row[1]: row for row in rows}
    assert set(by_number) == {filing.number, cancelled.number}
    assert by_number[filing.number][4] == filing.insured_person.id_number  # the province gets the full number
    assert by_number[cancelled.number][0] == "取消"
    assert Filing.objects.filter(upload_status=UploadStatus.PENDING).count() == 1  # only 无锡's
    assert Filing.objects.get(pk=filing.pk).upload_batch == batch
    again = client.post(reverse("filings:upload"), {"file_format": "csv"}, follow=True)
    assert "没有待上传省平台的备案。" in again.text
    assert AuditLog.objects.filter(action="export").count() == 1


def test_upload_export_escapes_spreadsheet_formulae(client, clerk):
    person = InsuredPersonFactory(name='=HYPERLINK("http://x","点我")', phone="+8613900000000")
    FilingFactory(insured_person=person, upload_status=UploadStatus.PENDING, upload_action="new",
                  upload_pending_since=timezone.now(), remarks="-1")
    login(client, clerk)
    client.post(reverse("filings:upload"), {"file_format": "csv"})
    content = UploadBatch.objects.get().document.read().decode("utf-8-sig")
    assert "=HYPERLINK" not in content.replace("'=HYPERLINK", "")
    assert "'=HYPERLINK" in content and "'+8613900000000" in content
    client.post(reverse("filings:upload"), {"file_format": "xlsx"})  # nothing left: refused, not crashing


# --- Printing -------------------------------------------------------------------------------------------


def _pdf_text(document) -> str:
    with document.file.open("rb") as handle:
        content = handle.read()
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()


def test_annex1_printed_in_background_with_person_and_ticked_type(client, clerk, filing, run_jobs):
    Filing.objects.filter(pk=filing.pk).update(person_type="posted_worker", basis=Basis.COMMITMENT,
                                               materials_due_on=date(2026, 9, 16))
    login(client, clerk)
    with run_jobs():
        response = client.post(reverse("filings:print", args=[filing.pk, "annex1"]))
    job = Job.objects.get()
    assert response["Location"].startswith(reverse("filings:detail", args=[filing.pk]) + f"?job={job.pk}")
    assert job.status == Job.Status.DONE, job.error
    document = Document.objects.get(key=f"filing:{filing.pk}:annex1")
    text = _pdf_text(document)
    compact = text.replace(" ", "")
    assert "长期异地居住人员个人承诺书" in compact and "钱玉兰" in compact
    assert filing.insured_person.id_number in compact
    assert "☑常驻异地工作人员" in compact and "☐异地安置退休人员" in compact and "☐异地长期居住人员" in compact
    assert "2026年9月16日前" in compact
    assert "本人签字" in compact and "两年内不得销毁" in compact
    detail = client.get(response["Location"]).text
    assert reverse("document_download", args=[document.pk]) in detail
    download = client.get(reverse("document_download", args=[document.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"


def test_annex7_and_annex8_prefilled(client, clerk, filing, run_jobs):
    login(client, clerk)
    with run_jobs():
        client.post(reverse("filings:print", args=[filing.pk, "annex7"]))
        client.post(reverse("filings:print", args=[filing.pk, "annex8"]))
    annex7 = _pdf_text(Document.objects.get(key=f"filing:{filing.pk}:annex7")).replace(" ", "")
    assert "外伤无第三方责任承诺书" in annex7 and "钱玉兰" in annex7 and "13951700001" in annex7
    assert "承诺人（签名）" in annex7
    annex8 = _pdf_text(Document.objects.get(key=f"filing:{filing.pk}:annex8")).replace(" ", "")
    assert "住院期间外院检查治疗或双通道定点药店购药证明" in annex8 and "钱玉兰" in annex8
    assert "医师签字" in annex8 and "医疗保险办公室盖章" in annex8


def test_annex1_not_for_temporary_filings(client, clerk, nothing_written):
    filing = FilingFactory(person_type="other_temporary")
    login(client, clerk)
    with nothing_written():
        response = client.post(reverse("filings:print", args=[filing.pk, "annex1"]), follow=True)
    assert "个人承诺书（附件1）只适用于长期异地居住人员" in response.text
    assert not Job.objects.exists()


def test_printing_twice_keeps_versions(client, clerk, filing, run_jobs):
    login(client, clerk)
    with run_jobs():
        client.post(reverse("filings:print", args=[filing.pk, "annex7"]))
        client.post(reverse("filings:print", args=[filing.pk, "annex7"]))
    versions = Document.objects.filter(key=f"filing:{filing.pk}:annex7").order_by("version")
    assert [d.version for d in versions] == [1, 2] and [d.is_latest for d in versions] == [False, True]


# --- Settings ----------------------------------------------------------------------------------------


def test_supervisor_edits_regional_settings(client, supervisor, clerk):
    login(client, supervisor)
    response = client.post(reverse("filings:settings"), {
        "commitment_materials_months": 3, "commitment_lock_months": 6, "temporary_min_months": 6, "retroactive_max_days": 365,
        "review_working_days": 1, "commitment_notice_extra": "",
    })
    assert response.status_code == 302
    settings_row = FilingRegionSettings.objects.get(region_id="320100")
    assert settings_row.commitment_materials_months == 3 and settings_row.updated_by == supervisor
    bad = client.post(reverse("filings:settings"), {
        "commitment_materials_months": 3, "commitment_lock_months": 9, "temporary_min_months": 3, "retroactive_max_days": 365,
        "review_working_days": 1,
    })
    assert "确保该值小于或等于6" in bad.text
    assert "确保该值大于或等于6" in bad.text


def test_search_by_filing_number(client, clerk):
    from filings.materials import sufficient_materials
    from filings.services import FilingData, filing_register

    person = InsuredPersonFactory(name="尹桂芳")
    filing = filing_register(person=person, by=clerk, data=FilingData(
        person_type="long_term_resident", destination=region("110000"), start_date=timezone.localdate(),
        materials=sufficient_materials("long_term_resident")))
    assert filing.number.startswith("BA320100") and len(filing.number) == 20
    login(client, clerk)
    page = client.get(reverse("filings:list"), {"q": filing.number.lower()}).text
    assert "尹桂芳" in page


def test_commitment_materials_completed_at_the_counter(client, clerk, filing):
    Filing.objects.filter(pk=filing.pk).update(person_type="retired_resettled", basis=Basis.COMMITMENT,
                                               materials=["id_card", "commitment_letter"],
                                               materials_due_on=timezone.localdate() + timedelta(days=30))
    login(client, clerk)
    page = client.get(reverse("filings:materials", args=[filing.pk])).text
    assert "户口簿首页" in page and "长期异地居住人员个人承诺书" not in page.split("补交的证明材料")[1]
    refused = client.post(reverse("filings:materials", args=[filing.pk]), {"materials": ["household_register"]})
    assert "还需：异地安置认定材料" in refused.text
    assert Filing.objects.get(pk=filing.pk).materials_completed_on is None
    client.post(reverse("filings:materials", args=[filing.pk]),
                {"materials": ["household_register", "residence_registration_card"]})
    assert Filing.objects.get(pk=filing.pk).materials_completed_on == timezone.localdate()


def test_draft_delete_only_for_drafts(client, clerk, filing):
    login(client, clerk)
    response = client.post(reverse("filings:delete", args=[filing.pk]), follow=True)
    assert "只能删除草稿" in response.text and Filing.objects.filter(pk=filing.pk).exists()
    draft = FilingFactory(status=Filing.Status.DRAFT, destination=region("310000"))
    client.post(reverse("filings:delete", args=[draft.pk]))
    assert not Filing.objects.filter(pk=draft.pk).exists()
    assert AuditLog.objects.filter(object_id=str(draft.pk), to_state="deleted").exists()


def test_province_administrator_edits_any_regions_settings(client, administrator):
    login(client, administrator)
    page = client.get(reverse("filings:settings"), {"region": "320200"}).text
    assert "无锡市" in page
    client.post(reverse("filings:settings") + "?region=320200", {
        "commitment_materials_months": 4, "commitment_lock_months": 6, "temporary_min_months": 6, "retroactive_max_days": 365,
        "review_working_days": 1,
    })
    assert FilingRegionSettings.objects.get(region_id="320200").commitment_materials_months == 4


def test_detail_shows_history_timeline(client, clerk):
    from filings.materials import sufficient_materials
    from filings.services import FilingData, filing_cancel, filing_register

    filing = filing_register(person=InsuredPersonFactory(), by=clerk, data=FilingData(
        person_type="other_temporary", destination=region("440100"), start_date=timezone.localdate(),
        materials=sufficient_materials("other_temporary")))
    filing_cancel(filing=filing, by=clerk, reason="病愈返回")
    login(client, clerk)
    page = client.get(reverse("filings:detail", args=[filing.pk])).text
    assert "经办窗口办理备案登记" in page and "取消备案：病愈返回" in page
    assert "有效 → 已取消" in page


def test_counter_explains_that_emergency_needs_no_filing(client, clerk, nothing_written):
    login(client, clerk)
    with nothing_written():
        response = client.post(reverse("filings:new"), walk_in_post(person_type="emergency", materials=[]))
    assert response.status_code == 200
    assert "异地急诊抢救人员视同已备案（江苏 第八条(五)），无需办理备案" in response.text


# --- Crafted input never makes a 500 --------------------------------------------------------------


def test_crafted_query_values_get_friendly_answers(client, clerk, filing):
    login(client, clerk)
    assert client.get(reverse("filings:detail", args=[filing.pk]), {"job": "abc"}).status_code == 200
    assert client.get(reverse("filings:detail", args=[filing.pk]), {"job": "99999999999999999999"}).status_code == 200
    assert client.get(reverse("filings:upload"), {"batch": "abc"}).status_code == 200
    response = client.post(reverse("filings:checklist"), {"filing": "abc", "person_type": "long_term_resident"})
    assert response.status_code == 200 and "所需材料" in response.text
    response = client.post(reverse("filings:checklist"), {"filing": "99999999999999999999",
                                                          "person_type": "long_term_resident"})
    assert response.status_code == 200


# --- Every form error is shown --------------------------------------------------------------------


def test_unknown_material_is_explained(client, clerk, nothing_written):
    login(client, clerk)
    with nothing_written():
        response = client.post(reverse("filings:new"), walk_in_post(materials=["id_card", "bogus"]))
    assert "材料“bogus”不在材料清单中，请在清单中勾选。" in response.text
    partial = client.post(reverse("filings:checklist"), walk_in_post(materials=["id_card", "bogus"])).text
    assert "材料“bogus”不在材料清单中" in partial


def test_wrong_insurance_type_of_a_known_person_is_explained(client, clerk, filing, nothing_written):
    login(client, clerk)
    person = filing.insured_person
    with nothing_written():
        response = client.post(reverse("filings:new"), walk_in_post(
            id_number=person.id_number, name=person.name, insurance_type="999", destination="440100",
            person_type="other_temporary", materials=["id_card"]))
    assert "险种类型“999”无效，应为职工（310）或城乡居民（390）。" in response.text


def test_hospital_posting_another_type_is_told_plainly(client, hospital, nothing_written):
    login(client, hospital)
    with nothing_written():
        response = client.post(reverse("filings:new"), walk_in_post(person_type="other_temporary"))
    assert "医疗机构只能办理异地转诊备案" in response.text
    assert "不在可用的选项中" not in response.text


def test_hospital_form_does_not_mention_a_draft_it_cannot_save(client, hospital):
    login(client, hospital)
    page = client.get(reverse("filings:new")).text
    assert "暂存草稿" not in page
    partial = client.post(reverse("filings:checklist"), {"person_type": "referral", "materials": []}).text
    assert "暂存草稿" not in partial and "材料收齐后才能确认备案" in partial


def test_commitment_list_shows_how_far_each_deadline_is_and_only_filings_with_one(client, clerk):
    today = timezone.localdate()
    due_today = FilingFactory(basis=Basis.COMMITMENT, materials_due_on=today)
    later = FilingFactory(basis=Basis.COMMITMENT, materials_due_on=today + timedelta(days=180),
                          destination=region("440100"))
    draft = FilingFactory(basis=Basis.COMMITMENT, status=Filing.Status.DRAFT, materials_due_on=None,
                          destination=region("310000"))
    pending = FilingFactory(basis=Basis.COMMITMENT, status=Filing.Status.PENDING_REVIEW, materials_due_on=None,
                            destination=region("330100"))
    login(client, clerk)
    page = client.get(reverse("filings:commitments"), {"show": "all"}).text
    assert due_today.number in page and "今天到期" in page
    assert later.number in page and "未到期（还有180天）" in page
    assert draft.number not in page and pending.number not in page


@pytest.mark.parametrize(("code", "label"), [
    ("110000", "北京市（全市）"), ("310000", "上海市（全市）"), ("450000", "广西壮族自治区（全区）"),
    ("330000", "浙江省（全省）"), ("330100", "杭州市"),
])
def test_whole_province_destinations_read_naturally(client, clerk, code, label):
    filing = FilingFactory(destination=region(code))
    login(client, clerk)
    for name in ("filings:detail", "filings:receipt"):
        text = client.get(reverse(name, args=[filing.pk])).text
        assert label in text, name
        assert "市（全省）" not in text and "区（全省）" not in text
    form = client.get(reverse("filings:new")).text
    assert "市（全省）" not in form and "自治区（全省）" not in form


def test_lock_and_validity_months_come_from_the_regional_setting(client, clerk, filing):
    FilingRegionSettings.objects.create(region=region("320100"), commitment_lock_months=4, temporary_min_months=8)
    Filing.objects.filter(pk=filing.pk).update(basis=Basis.COMMITMENT, materials=["id_card", "commitment_letter"],
                                               commitment_on=timezone.localdate())
    login(client, clerk)
    detail = client.get(reverse("filings:detail", args=[filing.pk])).text
    cancel = client.get(reverse("filings:cancel", args=[filing.pk])).text
    change = client.get(reverse("filings:change", args=[filing.pk])).text
    new = client.get(reverse("filings:new")).text
    assert "需满4个月方可变更或取消" in detail
    assert "需满4个月方可取消" in cancel
    assert "需满4个月方可变更" in change
    assert "临时外出就医人员（不少于8个月）" in new
    for page in (detail, cancel, change, new):
        assert "6个月" not in page


def test_cancel_page_of_a_cancelled_filing_says_so_without_a_form(client, clerk, filing, nothing_written):
    day = filing.start_date + timedelta(days=3)
    Filing.objects.filter(pk=filing.pk).update(status=Filing.Status.CANCELLED, terminated_on=day,
                                               cancel_reason="回南京居住")
    login(client, clerk)
    page = client.get(reverse("filings:cancel", args=[filing.pk])).text
    assert f"这份备案已于 {day:%Y-%m-%d} 取消" in page and "回南京居住" in page
    assert 'name="reason"' not in page and "确认取消" not in page
    with nothing_written():
        response = client.post(reverse("filings:cancel", args=[filing.pk]), {"reason": "再取消一次"})
    assert f"这份备案已于 {day:%Y-%m-%d} 取消" in response.text
    changed = FilingFactory(status=Filing.Status.CHANGED, terminated_on=date(2026, 3, 1), destination=region("310000"))
    page = client.get(reverse("filings:cancel", args=[changed.pk])).text
    assert "现为“已变更”，只有有效的备案可以取消" in page and 'name="reason"' not in page


# --- Search by a masked number; no full ID numbers in links --------------------------------------


def test_search_by_the_masked_number_copied_from_the_list(client, clerk, filing):
    other = FilingFactory(insured_person=InsuredPersonFactory(name="周晓东"), destination=region("310000"))
    login(client, clerk)
    masked = filing.insured_person.masked_id_number
    text = client.get(reverse("filings:list"), {"q": masked}).text
    assert filing.number in text and other.number not in text
    spaced = client.get(reverse("filings:list"), {"q": f" {masked[:6]} ＊＊＊＊＊＊＊＊ {masked[-4:]} "}).text
    assert filing.number in spaced


def test_all_filings_of_a_person_by_link_without_the_id_number(client, clerk, filing):
    second = FilingFactory(insured_person=filing.insured_person, person_type="other_temporary",
                           destination=region("440100"))
    other = FilingFactory(insured_person=InsuredPersonFactory(), destination=region("310000"))
    login(client, clerk)
    person = filing.insured_person
    detail = client.get(reverse("filings:detail", args=[filing.pk])).text
    assert person.id_number not in detail
    link = f'{reverse("filings:list")}?person={person.pk}'
    assert link in detail
    listing = client.get(link).text
    assert filing.number in listing and second.number in listing and other.number not in listing
    assert f"{person.name}（{person.masked_id_number}）的全部备案" in listing
    assert client.get(reverse("filings:list"), {"person": "abc"}).status_code == 200
    assert client.get(reverse("filings:list"), {"person": "9" * 30}).status_code == 200
    wuxi = FilingFactory(insured_person=InsuredPersonFactory(insured_region=region("320200")))
    assert wuxi.number not in client.get(reverse("filings:list"), {"person": wuxi.insured_person.pk}).text


def test_offer_to_file_for_a_searched_person_posts_the_number(client, clerk):
    person = InsuredPersonFactory(name="陆海燕")
    login(client, clerk)
    page = client.get(reverse("filings:list"), {"q": person.id_number}).text
    assert f"?id_number={person.id_number}" not in page
    form = client.post(reverse("filings:new"), {"prefill": "1", "id_number": person.id_number})
    assert form.status_code == 200
    assert "已登记：<strong>陆海燕</strong>" in form.text and "不能办理" not in form.text
    assert not Filing.objects.exists()


def test_own_import_is_marked_in_the_queue_and_the_review_form_is_not_offered(client, supervisor, filing):
    Filing.objects.filter(pk=filing.pk).update(status=Filing.Status.PENDING_REVIEW, created_by=supervisor)
    login(client, supervisor)
    queue = client.get(reverse("filings:review_queue")).content.decode()
    assert f'data-own-import="{filing.pk}"' in queue and "本人导入，须由他人审核" in queue
    page = client.get(reverse("filings:review", args=[filing.pk])).content.decode()
    assert 'id="own-import"' in page and "提交审核结论" not in page


def test_a_draft_prints_as_a_draft_not_as_a_registration(client, clerk, filing):
    Filing.objects.filter(pk=filing.pk).update(status=Filing.Status.DRAFT)
    login(client, clerk)
    page = client.get(reverse("filings:receipt", args=[filing.pk])).content.decode()
    assert 'id="draft-notice"' in page and "不是备案凭证" in page
    assert "登记回执" not in page and "异地就医备案草稿" in page


def _result_csv(rows):
    import csv
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["备案编号", "结果", "失败原因"])
    writer.writerows(rows)
    return SimpleUploadedFile("result.csv", out.getvalue().encode("utf-8-sig"))


def test_exported_filings_wait_for_the_provinces_result_and_a_failure_goes_back_to_the_queue(client, clerk, filing):
    other = FilingFactory(insured_person=InsuredPersonFactory(insured_region=region("320100")),
                          upload_status=UploadStatus.PENDING, destination=region("440100"),
                          upload_pending_since=timezone.now())
    Filing.objects.filter(pk=filing.pk).update(upload_status=UploadStatus.PENDING, upload_action="new",
                                               upload_pending_since=timezone.now())
    login(client, clerk)
    client.post(reverse("filings:upload"), {"file_format": "xlsx"})
    assert set(Filing.objects.filter(pk__in=[filing.pk, other.pk]).values_list("upload_status", flat=True)) == {"exported"}
    page = client.get(reverse("filings:upload")).text
    assert "待回执 2 条" in page

    response = client.post(reverse("filings:upload_result"),
                           {"file": _result_csv([[filing.number, "成功", ""], [other.number, "失败", "就医地代码有误"]])},
                           follow=True)
    assert "上传成功 1 条，失败 1 条" in response.text
    filing.refresh_from_db()
    other.refresh_from_db()
    assert filing.upload_status == UploadStatus.UPLOADED and filing.uploaded_at is not None
    assert other.upload_status == UploadStatus.PENDING and other.upload_error == "就医地代码有误"
    assert "上次失败：就医地代码有误" in response.text  # listed again, with the reason


def test_a_result_file_with_an_unknown_number_records_nothing(client, clerk, filing):
    Filing.objects.filter(pk=filing.pk).update(upload_status=UploadStatus.EXPORTED)
    login(client, clerk)
    response = client.post(reverse("filings:upload_result"),
                           {"file": _result_csv([[filing.number, "成功", ""], ["BA0000", "成功", ""], [filing.number, "失败", ""]])},
                           follow=True)
    assert "第 3 行：备案编号 BA0000 不在已导出待回执的备案中" in response.text
    assert "第 4 行：备案编号" in response.text and "重复出现" in response.text
    filing.refresh_from_db()
    assert filing.upload_status == UploadStatus.EXPORTED
