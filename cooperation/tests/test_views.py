"""The 业务协同 pages: round trips through the views, scoping (another region's case is a 404),
roles, prefill, exports (formula-safe), the national-system import and constant query counts."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from cooperation import services
from cooperation.models import AssistRequest, Coordination
from core.tests.factories import region

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%demo\n"


def today():
    return timezone.localdate()


def form_data(stay, **changes):
    data = {**stay, **changes}
    data["treatment_region"] = data["treatment_region"].code
    data["admission_date"] = today() - timedelta(days=20)
    data["discharge_date"] = today() - timedelta(days=5)
    return {k: str(v) for k, v in data.items()}


@pytest.fixture
def recent_assist(raise_assist):
    return lambda **changes: raise_assist(
        today=today(), admission_date=today() - timedelta(days=20), discharge_date=today() - timedelta(days=5),
        **changes,
    )


def test_assist_round_trip_nanjing_wuxi_through_the_pages(client, clerk, clerk_wuxi, stay):
    client.force_login(clerk)
    response = client.post(reverse("cooperation:assist_new"), {
        **form_data(stay), "attachments": [SimpleUploadedFile("疑点说明.pdf", PDF)],
    })
    assist = AssistRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse("cooperation:assist_detail", args=[assist.pk])
    assert assist.attachments.count() == 1

    client.force_login(clerk_wuxi)
    queue = client.get(reverse("cooperation:assist_list"), {"side": "to_answer"}).content.decode()
    assert assist.number in queue
    client.post(reverse("cooperation:assist_answer", args=[assist.pk]),
                {"result": "has_issue", "finding": "", "note": ""})
    assert AssistRequest.objects.get().status == AssistRequest.Status.SENT  # reason required
    client.post(reverse("cooperation:assist_answer", args=[assist.pk]),
                {"result": "has_issue", "finding": "重复收取检查费两次", "irregular_amount": "380.00"})
    assert AssistRequest.objects.get().status == AssistRequest.Status.ANSWERED

    client.force_login(clerk)
    page = client.get(reverse("cooperation:assist_detail", args=[assist.pk])).content.decode()
    assert "核查有误" in page and "确认结果" in page
    client.post(reverse("cooperation:assist_confirm", args=[assist.pk]))
    assert AssistRequest.objects.get().status == AssistRequest.Status.CONFIRMED


def test_below_threshold_form_shows_the_article_and_writes_nothing(client, clerk, stay):
    client.force_login(clerk)
    response = client.post(reverse("cooperation:assist_new"), form_data(stay, total_amount="29999.99"))
    assert response.status_code == 200
    assert "第五十六条" in response.content.decode()
    assert not AssistRequest.objects.exists()


def test_another_region_gets_404_for_cases_actions_and_attachments(
    client, clerk, clerk_wuxi, clerk_suzhou, recent_assist, raise_coordination
):
    assist = recent_assist(attachments=[SimpleUploadedFile("a.pdf", PDF)])
    coordination = raise_coordination(today=today())
    client.force_login(clerk_suzhou)
    attachment = assist.attachments.get()
    for url in (
        reverse("cooperation:assist_detail", args=[assist.pk]),
        reverse("cooperation:coordination_detail", args=[coordination.pk]),
        reverse("cooperation:attachment_download", args=[attachment.pk]),
    ):
        assert client.get(url).status_code == 404, url
    for name, pk in (("assist_answer", assist.pk), ("assist_confirm", assist.pk), ("assist_dispute", assist.pk),
                     ("coordination_reply", coordination.pk), ("coordination_confirm", coordination.pk),
                     ("coordination_reclassify", coordination.pk), ("coordination_escalate", coordination.pk),
                     ("coordination_helper", coordination.pk), ("coordination_extend", coordination.pk),
                     ("coordination_note", coordination.pk), ("assist_delay", assist.pk), ("assist_attach", assist.pk),
                     ("coordination_attach", coordination.pk)):
        assert client.post(reverse(f"cooperation:{name}", args=[pk]), {"reason": "x", "reply": "xxxx"}).status_code == 404
    assert assist.number not in client.get(reverse("cooperation:assist_list")).content.decode()
    assert coordination.number not in client.get(reverse("cooperation:coordination_list")).content.decode()
    # Both ends see it.
    for user in (clerk, clerk_wuxi):
        client.force_login(user)
        assert client.get(reverse("cooperation:assist_detail", args=[assist.pk])).status_code == 200
        assert client.get(reverse("cooperation:coordination_detail", args=[coordination.pk])).status_code == 200
        download = client.get(reverse("cooperation:attachment_download", args=[attachment.pk]))
        assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_a_helping_agency_sees_the_issue_once_added(client, clerk_wuxi, clerk_suzhou, raise_coordination):
    coordination = raise_coordination(today=today())
    url = reverse("cooperation:coordination_detail", args=[coordination.pk])
    client.force_login(clerk_suzhou)
    assert client.get(url).status_code == 404
    services.coordination_add_helper(coordination=coordination, by=clerk_wuxi, agency=clerk_suzhou.agency,
                                     task="提供资料")
    assert client.get(url).status_code == 200
    client.post(reverse("cooperation:coordination_note", args=[coordination.pk]), {"text": "苏州已提供转出医院资料"})
    assert coordination.notes.get().agency == clerk_suzhou.agency
    listing = client.get(reverse("cooperation:coordination_list"), {"side": "helping"}).content.decode()
    assert listing.count(coordination.number) == 1


@pytest.mark.parametrize("name", ["assist_list", "coordination_list", "assist_source", "assist_new",
                                  "coordination_new", "assist_import", "assist_export", "coordination_export"])
def test_finance_may_not_open_cooperation_pages_and_anonymous_must_sign_in(client, finance, name):
    url = reverse(f"cooperation:{name}")
    assert client.get(url).status_code == 302
    client.force_login(finance)
    assert client.get(url).status_code == 403


def test_assist_form_is_prefilled_from_a_settlement_record_of_our_region(client, clerk, clerk_wuxi):
    from clearing.models import Settlement

    record = Settlement.objects.create(
        settlement_id="JS2026030100077", period="2026-03", insured_region="320100", treatment_region="320200",
        insurance_type="310", care_type="inpatient", settled_on=date(2026, 3, 14), total_amount=Decimal("45600.00"),
        fund_amount=Decimal("30000.00"), institution="无锡市第二人民医院",
    )
    client.force_login(clerk)
    found = client.get(reverse("cooperation:assist_source"), {"institution": "无锡市第二", "period": "2026-03"})
    assert record.settlement_id in found.content.decode()
    response = client.get(reverse("cooperation:assist_new"), {"settlement": record.settlement_id})
    form = response.context["form"]
    assert form.initial["total_amount"] == Decimal("45600.00")
    assert form.initial["institution_name"] == "无锡市第二人民医院"
    assert form.initial["treatment_region"] == "320200"
    # Wuxi is the treatment side, not the insured side: the source list does not offer it.
    client.force_login(clerk_wuxi)
    assert record.settlement_id not in client.get(reverse("cooperation:assist_source"),
                                                  {"q": "JS2026"}).content.decode()


def test_assist_export_neutralises_formulas(client, clerk, recent_assist):
    recent_assist(institution_name="=HYPERLINK(\"http://x\",\"点我\")", name="@SUM(1+1)")
    client.force_login(clerk)
    response = client.get(reverse("cooperation:assist_export"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    row = {header[i]: cell for i, cell in enumerate(sheet[2])}
    assert row["医疗服务机构名称"].value.startswith("'=") and row["医疗服务机构名称"].data_type == "s"
    assert row["姓名"].value.startswith("'@")
    assert row["费用总额"].value == 36820.5


def answers_file(rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["协查编号", "协查结果", "具体原因", "涉及违规费用", "结果返回日期", "协查说明"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("answers.xlsx", buffer.getvalue())


def test_cross_province_export_then_import_preview_and_confirm(client, clerk, recent_assist):
    first = recent_assist(treatment_region=region("330000"))
    second = recent_assist(treatment_region=region("110000"), hospital_number="ZY2")
    client.force_login(clerk)
    exported = client.get(reverse("cooperation:assist_national_export"))
    sheet = load_workbook(io.BytesIO(exported.content)).active
    assert sorted(row[0].value for row in sheet.iter_rows(min_row=2)) == sorted([first.number, second.number])
    assert AssistRequest.objects.filter(exported_at__isnull=False).count() == 2

    day = today().isoformat()
    bad = answers_file([[first.number, "核查有误", "", "", day, ""], [second.number, "没问题", "", "", "2026/13/01", ""],
                        ["XC0000", "核查无误", "", "", day, ""]])
    page = client.post(reverse("cooperation:assist_import"), {"file": bad}).content.decode()
    assert "第2行" in page and "具体原因" in page and "第3行" in page and "第4行" in page and "不存在" in page
    assert "assist_import_confirm" not in page and "import/confirm" not in page
    assert not AssistRequest.objects.filter(status=AssistRequest.Status.ANSWERED).exists()

    good = answers_file([[first.number, "核查有误", "超标准收费三项", "1200.50", day, "浙江返回"],
                         [second.number, "核查无误", "", "", day, ""]])
    response = client.post(reverse("cooperation:assist_import"), {"file": good})
    assert not AssistRequest.objects.filter(status=AssistRequest.Status.ANSWERED).exists()  # preview writes nothing
    token = response.context["token"]
    assert client.post(reverse("cooperation:assist_import_confirm"), {"token": token + "x"}).status_code == 302
    assert not AssistRequest.objects.filter(status=AssistRequest.Status.ANSWERED).exists()
    client.post(reverse("cooperation:assist_import_confirm"), {"token": token})
    first.refresh_from_db()
    assert first.status == AssistRequest.Status.ANSWERED and first.answer_imported
    assert first.irregular_amount == Decimal("1200.50")
    # The same file again: every row is refused, nothing half-written.
    again = client.post(reverse("cooperation:assist_import"), {"file": answers_file([
        [first.number, "核查无误", "", "", day, ""]])}).content.decode()
    assert "不在待核查状态" in again


def test_import_confirm_is_all_or_nothing(client, clerk, recent_assist):
    first = recent_assist(treatment_region=region("330000"))
    second = recent_assist(treatment_region=region("110000"), hospital_number="ZY2")
    client.force_login(clerk)
    day = today().isoformat()
    response = client.post(reverse("cooperation:assist_import"), {"file": answers_file([
        [first.number, "核查无误", "", "", day, ""], [second.number, "核查无误", "", "", day, ""]])})
    # Meanwhile the second one was answered by another import.
    services.assist_answer(request=second, by=clerk, result="no_issue", imported=True, today=today())
    client.post(reverse("cooperation:assist_import_confirm"), {"token": response.context["token"]})
    first.refresh_from_db()
    assert first.status == AssistRequest.Status.SENT


def test_coordination_round_trip_through_the_pages(client, clerk, clerk_wuxi, province_agency):
    client.force_login(clerk)
    client.post(reverse("cooperation:coordination_new"), {
        "receiver": clerk_wuxi.agency_id, "kind": "system", "subject": "结算返回交易超时", "description": "",
        "person_id_number": "", "person_name": "",
    })
    coordination = Coordination.objects.get()
    client.force_login(clerk_wuxi)
    client.post(reverse("cooperation:coordination_note", args=[coordination.pk]), {"text": "已联系系统运维"})
    client.post(reverse("cooperation:coordination_reply", args=[coordination.pk]), {"reply": "网络故障已修复"})
    client.force_login(clerk)
    client.post(reverse("cooperation:coordination_dispute", args=[coordination.pk]), {"reason": "仍有交易失败"})
    response = client.post(reverse("cooperation:coordination_escalate", args=[coordination.pk]), {"reason": ""})
    escalated = Coordination.objects.get(parent=coordination)
    assert response.url == reverse("cooperation:coordination_detail", args=[escalated.pk])
    assert escalated.receiver == province_agency


def test_home_page_shows_cooperation_counters(client, clerk, clerk_wuxi, recent_assist, raise_coordination):
    recent_assist()
    raise_coordination(today=today())
    client.force_login(clerk_wuxi)
    page = client.get(reverse("home")).content.decode()
    assert "费用协查" in page and "待我方核查" in page and "问题协同" in page and "待我方回复" in page
    tiles = {tile.label: tile.value for panel in client.get(reverse("home")).context["panels"]
             for tile in panel.tiles}
    assert tiles["待我方核查"] == 1 and tiles["待我方回复"] == 1


def test_list_and_home_query_counts_do_not_grow_with_rows(client, clerk, recent_assist, raise_coordination):
    client.force_login(clerk)
    recent_assist()
    raise_coordination(today=today())
    urls = [reverse("cooperation:assist_list"), reverse("cooperation:coordination_list"), reverse("home")]
    for url in urls:
        client.get(url)
    with CaptureQueriesContext(connection) as few:
        for url in urls:
            client.get(url)
    for n in range(6):
        recent_assist(hospital_number=f"ZY-{n}")
        raise_coordination(today=today(), kind="other")
    with CaptureQueriesContext(connection) as many:
        for url in urls:
            client.get(url)
    assert len(many) == len(few)


def test_overdue_filter_lists_only_overdue_answers(client, clerk_wuxi, raise_assist):
    old = raise_assist(today=today() - timedelta(days=70), admission_date=today() - timedelta(days=100),
                       discharge_date=today() - timedelta(days=80))
    fresh = raise_assist(today=today(), hospital_number="ZY-NEW", admission_date=today() - timedelta(days=9),
                         discharge_date=today() - timedelta(days=2))
    client.force_login(clerk_wuxi)
    page = client.get(reverse("cooperation:assist_list"), {"side": "to_answer", "flag": "overdue"}).content.decode()
    assert old.number in page and fresh.number not in page and "已逾期" in page


def test_daily_command_and_celery_task(raise_assist, capsys):
    from cooperation.tasks import daily

    raise_assist(today=date(2026, 3, 16))
    call_command("cooperation_daily", "--date", "2026-05-01")
    assert "自动顺延 1 件" in capsys.readouterr().out
    assert set(daily()) == {"assist_rolled", "coordination_deemed_confirmed"}
    from config.celery import app

    assert app.conf.beat_schedule["cooperation-daily"]["task"] == "cooperation.daily"


def test_list_shows_the_period_statistics_with_delays_counted_late(client, clerk, clerk_wuxi, raise_assist):
    assist = raise_assist(today=date(2026, 3, 16))  # due 2026-04-26
    services.assist_record_delay(request=assist, by=clerk_wuxi, reason="病历调阅中", today=date(2026, 4, 20))
    client.force_login(clerk)
    response = client.get(reverse("cooperation:assist_list"), {"period": "2026-04"})
    assert response.context["stats"] == {"answered": 0, "open": 0, "delayed": 1}
    assert client.get(reverse("cooperation:assist_list"), {"period": "2026-05"}).context["stats"]["open"] == 1


def test_assist_form_is_prefilled_from_a_claim_of_our_region(client, clerk, clerk_wuxi):
    from filings.models import PersonType
    from filings.tests.factories import FilingFactory
    from reimbursement import services as claims
    from reimbursement.tests.factories import beijing_hospital, inpatient_details, make_policy, person_nanjing

    make_policy("320100", date(2024, 1, 1))
    person = person_nanjing(name="张三", insurance_type="310")
    FilingFactory(insured_person=person, person_type=PersonType.LONG_TERM_RESIDENT, destination=region("110000"),
                  start_date=date(2025, 6, 1), applied_on=date(2025, 6, 1))
    claim = claims.claim_create(by=clerk, person=person, ticked=set(), details=inpatient_details(
        beijing_hospital(), total_amount=Decimal("42000.00"), in_scope_amount=Decimal("40000.00")))
    client.force_login(clerk)
    assert claim.number in client.get(reverse("cooperation:assist_source"), {"q": person.id_number}).content.decode()
    form = client.get(reverse("cooperation:assist_new"), {"claim": claim.pk}).context["form"]
    assert form.initial["id_number"] == person.id_number and form.initial["total_amount"] == Decimal("42000.00")
    assert form.initial["hospital_number"] == "ZY2026001" and form.initial["treatment_region"] == "110000"
    client.force_login(clerk_wuxi)
    assert client.get(reverse("cooperation:assist_new"), {"claim": claim.pk}).status_code == 404


def test_list_filters_by_scope_and_search(client, clerk, recent_assist):
    inside = recent_assist()
    outside = recent_assist(treatment_region=region("330000"), hospital_number="ZY-ZJ")
    client.force_login(clerk)
    page = client.get(reverse("cooperation:assist_list"), {"cross_province": "yes"}).content.decode()
    assert outside.number in page and inside.number not in page
    page = client.get(reverse("cooperation:assist_list"), {"q": "ZY-ZJ"}).content.decode()
    assert outside.number in page and inside.number not in page


def test_requester_adds_material_to_an_open_issue_and_both_ends_download_it(client, clerk, clerk_wuxi,
                                                                            raise_coordination):
    coordination = raise_coordination(today=today())
    client.force_login(clerk)
    client.post(reverse("cooperation:coordination_attach", args=[coordination.pk]),
                {"attachments": [SimpleUploadedFile("结算截图.png", b"\x89PNG\r\n\x1a\n0000")]})
    client.post(reverse("cooperation:coordination_attach", args=[coordination.pk]),
                {"attachments": [SimpleUploadedFile("脚本.html", b"<script>")]})
    attachment = coordination.attachments.get()
    assert attachment.filename == "结算截图.png" and attachment.content_type == "image/png"
    client.force_login(clerk_wuxi)
    response = client.get(reverse("cooperation:attachment_download", args=[attachment.pk]))
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    assert "attachment;" in response["Content-Disposition"]
