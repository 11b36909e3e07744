"""Pages: who may see and do what, city scoping, the upload flow, constant query counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clearing import jobs as clearing_jobs  # noqa: F401  (registers the handlers)
from clearing import notices, services
from clearing.models import AdvanceEntry, ClearingPeriod, ImportBatch, PaymentDue, Settlement, Transfer
from clearing.tests.factories import Row, csv_text, import_rows
from clearing.tests.test_advances import result
from core.jobs import run_job_now
from core.models import Document, Job, Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_pdfs(monkeypatch):
    monkeypatch.setattr(notices, "render_pdf", lambda template, context: f"%PDF {template}".encode())


@pytest.fixture
def finance_wuxi(make_staff):
    return make_staff("finance_wx", Role.FINANCE, "320200")


@pytest.fixture
def issued(tmp_path, clearing_officer, jiangsu_policy):
    import_rows(
        tmp_path,
        [
            Row("V1", "320100", "320200", fund_amount="1000.00"),
            Row("V2", "320200", "320300", fund_amount="50.00"),
            Row("V3", "320100", "110000", fund_amount="70.00"),
            Row("V4", "330100", "320200", fund_amount="20.00"),
        ],
    )
    period = services.clearing_compute(period=ClearingPeriod.objects.get(), by=clearing_officer)
    job = services.clearing_issue_notices(period=period, by=clearing_officer, stamp_date=date(2026, 3, 26))
    run_job_now(job.pk)
    return ClearingPeriod.objects.get(pk=period.pk)


def urls(period: ClearingPeriod) -> list[str]:
    payment = PaymentDue.objects.order_by("pk").first()
    return [
        reverse("clearing:period_list"),
        reverse("clearing:period_detail", args=[period.period]),
        reverse("clearing:period_cross", args=[period.period]),
        reverse("clearing:settlement_list", args=[period.period]),
        reverse("clearing:payment_list"),
        reverse("clearing:payment_detail", args=[payment.pk]),
        reverse("clearing:advance_year", args=[2026]),
        reverse("clearing:ledger_city", args=[2026, "320100"]),
        reverse("clearing:ledger_province", args=[2026, "110000"]),
    ]


def test_anonymous_users_are_sent_to_login(client, issued):
    for url in [*urls(issued), reverse("clearing:import_list")]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/"), url


def test_a_counter_clerk_has_no_business_in_the_clearing(client, clerk, issued):
    client.force_login(clerk)
    for url in [*urls(issued), reverse("clearing:import_list")]:
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("role", [Role.CLEARING_OFFICER, Role.FINANCE, Role.SUPERVISOR, Role.ADMINISTRATOR])
def test_clearing_staff_can_read_every_page(client, make_staff, issued, role):
    region = "320100" if role in (Role.FINANCE, Role.SUPERVISOR) else "320000"
    client.force_login(make_staff(f"user_{role}", role, region))
    for url in urls(issued):
        if role in (Role.FINANCE, Role.SUPERVISOR) and "ledger/province" in url:
            continue
        assert client.get(url).status_code == 200, url


def test_city_staff_see_only_their_citys_figures_and_notices(client, finance, issued):
    client.force_login(finance)
    page = client.get(reverse("clearing:period_detail", args=[issued.period])).content.decode()
    assert "南京市" in page and "无锡市" not in page.split('id="balance-table"')[1].split("</table>")[0]
    documents = Document.objects.filter(period=issued.period)
    own = documents.get(key="clearing:2026-02:annex12:320100")
    other = documents.get(key="clearing:2026-02:annex12:320200")
    assert client.get(reverse("document_download", args=[own.pk])).status_code == 200
    assert client.get(reverse("document_download", args=[other.pk])).status_code == 404
    # 附件10 and 11 are issued to every city (第四十八条: each city pays its balance from 附件10).
    for annex in ("annex10", "annex11"):
        shared = documents.get(key=f"clearing:2026-02:{annex}")
        assert shared.region_id == "320000"
        assert client.get(reverse("document_download", args=[shared.pk])).status_code == 200
        assert shared.title in page


def test_another_citys_payment_and_ledger_are_404(client, finance_wuxi, issued):
    client.force_login(finance_wuxi)
    nanjing_payment = PaymentDue.objects.filter(region_id="320100").first()
    assert client.get(reverse("clearing:payment_detail", args=[nanjing_payment.pk])).status_code == 404
    assert client.get(reverse("clearing:ledger_city", args=[2026, "320100"])).status_code == 404
    listed = client.get(reverse("clearing:payment_list") + "?show=all").context["page"].object_list
    assert {payment.region_id for payment in listed} == {"320200"}


def test_city_staff_cannot_run_province_actions(client, finance, issued):
    client.force_login(finance)
    for action in ("compute", "close", "regenerate"):
        response = client.post(reverse("clearing:period_action", args=[issued.period, action]))
        assert response.status_code == 403
    assert client.post(reverse("clearing:advance_action", args=[2026, "compute_intra"])).status_code == 403


def test_officer_computes_from_the_page_through_a_job(client, clearing_officer, tmp_path, django_capture_on_commit_callbacks):
    import_rows(tmp_path, [Row("P1")])
    client.force_login(clearing_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("clearing:period_action", args=["2026-02", "compute"]))
    job = Job.objects.get(kind="clearing.compute_period")
    assert response.url.endswith(f"?job={job.pk}")
    assert ClearingPeriod.objects.get().status == "computed"


def test_officer_issues_notices_from_the_page(client, clearing_officer, tmp_path, django_capture_on_commit_callbacks):
    import_rows(tmp_path, [Row("P1"), Row("P2", "320300", "110000")])
    services.clearing_compute(period=ClearingPeriod.objects.get(), by=clearing_officer)
    client.force_login(clearing_officer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("clearing:period_action", args=["2026-02", "issue"]), {"stamp_date": "2026-03-26"})
    period = ClearingPeriod.objects.get()
    assert period.status == "notices_issued" and period.stamp_date == date(2026, 3, 26)
    assert Document.objects.filter(period="2026-02").count() == 28
    page = client.get(reverse("clearing:period_detail", args=["2026-02"])).content.decode()
    assert "附件10 江苏省异地就医医疗费用清算平衡总表" in page and 'id="city-documents"' in page


def test_refused_action_shows_the_message_and_changes_nothing(client, clearing_officer, issued):
    client.force_login(clearing_officer)
    response = client.post(reverse("clearing:period_action", args=[issued.period, "close"]), follow=True)
    assert "款项全部结清后才能关闭" in response.content.decode()
    assert ClearingPeriod.objects.get().status == "notices_issued"


# --- Upload -----------------------------------------------------------------------------


def upload(client, rows, *, name="s.csv", encoding="gb18030", skip_invalid=False, capture=None):
    file = SimpleUploadedFile(name, csv_text(rows).encode(encoding), content_type="text/csv")
    data = {"file": file}
    if skip_invalid:
        data["skip_invalid"] = "on"
    with capture(execute=True):
        return client.post(reverse("clearing:import_list"), data)


def test_upload_checks_previews_and_imports_on_confirmation(client, clearing_officer, django_capture_on_commit_callbacks):
    client.force_login(clearing_officer)
    response = upload(client, [Row("U1"), Row("U2", "320100", "110000")], capture=django_capture_on_commit_callbacks)
    batch = ImportBatch.objects.get()
    assert response.url == reverse("clearing:import_detail", args=[batch.pk])
    assert batch.status == "checked" and batch.row_count == 2 and batch.inserted_count == 2
    assert not Settlement.objects.exists()  # checked, not imported
    page = client.get(response.url).content.decode()
    assert "确认导入" in page and 'id="preview-table"' in page and "U1" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(response.url)
    batch.refresh_from_db()
    assert batch.status == "imported" and batch.imported_by == clearing_officer
    assert Settlement.objects.count() == 2


def test_an_upload_into_a_demo_month_says_the_demo_data_go(client, clearing_officer, tmp_path, django_capture_on_commit_callbacks):
    import_rows(tmp_path, [Row("DEMO-1")], name="demo.csv")
    ClearingPeriod.objects.filter(period="2026-02").update(is_demo=True)
    client.force_login(clearing_officer)
    response = upload(client, [Row("U1")], capture=django_capture_on_commit_callbacks)
    page = client.get(response.url).content.decode()
    assert "确认导入时将清除该期演示数据（1 条结算明细" in page and "已清除" not in page
    assert Settlement.objects.filter(pk="DEMO-1").exists()  # only checked so far

    with django_capture_on_commit_callbacks(execute=True):
        client.post(response.url)
    assert list(Settlement.objects.values_list("pk", flat=True)) == ["U1"]
    page = client.get(response.url).content.decode()
    assert "确认导入时将" not in page and "已清除该期演示数据" in page
    # The audit trail names the officer who confirmed the upload, not the command line.
    from core.models import AuditLog

    entry = AuditLog.objects.filter(message__contains="已清除该期演示数据").get()
    assert entry.user == clearing_officer and entry.username != "命令行"


def test_the_period_page_counts_imported_rows_before_the_clearing_runs(client, clearing_officer, tmp_path):
    import_rows(tmp_path, [Row("U1"), Row("U2")], name="two.csv")
    client.force_login(clearing_officer)
    page = client.get(reverse("clearing:period_detail", args=["2026-02"])).content.decode()
    assert "结算明细 <a" in page and ">2 条</a>" in page


def test_a_bad_upload_lists_row_errors_and_cannot_be_imported(client, clearing_officer, django_capture_on_commit_callbacks):
    client.force_login(clearing_officer)
    response = upload(client, [Row("U1"), Row("U2", "320100", "320100")], capture=django_capture_on_commit_callbacks)
    batch = ImportBatch.objects.get()
    assert batch.status == "rejected" and batch.errors == [[3, "参保地与就医地是同一设区市（320100 南京市），不属于异地就医结算"]]
    page = client.get(response.url).content.decode()
    assert "第 3 行" in page and "确认导入" not in page
    response = client.post(response.url, follow=True)
    assert "文件校验未通过，不能导入" in response.content.decode()
    assert not Settlement.objects.exists()
    errors = client.get(reverse("clearing:import_errors", args=[batch.pk]))
    assert "参保地与就医地是同一设区市" in errors.content.decode("utf-8-sig")


def test_valid_rows_only_after_explicit_choice(client, clearing_officer, django_capture_on_commit_callbacks):
    client.force_login(clearing_officer)
    response = upload(client, [Row("U1"), Row("U2", "990000", "320100")], skip_invalid=True, capture=django_capture_on_commit_callbacks)
    batch = ImportBatch.objects.get()
    assert batch.status == "checked" and batch.error_count == 1
    assert "只导入有效行" in client.get(response.url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response.url)
    assert list(Settlement.objects.values_list("settlement_id", flat=True)) == ["U1"]


def test_upload_refuses_other_file_types(client, clearing_officer):
    client.force_login(clearing_officer)
    response = client.post(reverse("clearing:import_list"), {"file": SimpleUploadedFile("a.pdf", b"%PDF")})
    assert "只能上传 CSV 或 XLSX 文件" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_city_officer_uploads_only_rows_of_the_city(client, make_staff, django_capture_on_commit_callbacks):
    officer = make_staff("clearing_nj", Role.CLEARING_OFFICER, "320100")
    client.force_login(officer)
    upload(client, [Row("U1"), Row("U2", "320300", "320400")], capture=django_capture_on_commit_callbacks)
    assert ImportBatch.objects.get().errors == [[3, "参保地（320300）与就医地（320400）都不是南京市，本单位只能导入涉及南京市的结算明细"]]


# --- Payments ---------------------------------------------------------------------------


def test_finance_records_a_transfer_on_the_page(client, finance, issued):
    payment = PaymentDue.objects.get(kind="intra_payable", region_id="320100")
    client.force_login(finance)
    response = client.post(
        reverse("clearing:payment_detail", args=[payment.pk]),
        {"action": "transfer", "amount": "1000.00", "transferred_on": "2026-04-01", "voucher_no": "YH-1"},
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.status == "paid" and Transfer.objects.get().recorded_by == finance


def test_a_refused_transfer_shows_why(client, finance, issued):
    payment = PaymentDue.objects.get(kind="intra_payable", region_id="320100")
    client.force_login(finance)
    response = client.post(
        reverse("clearing:payment_detail", args=[payment.pk]),
        {"action": "transfer", "amount": "2000.00", "transferred_on": "2026-04-01"},
    )
    assert "超过未付金额" in response.content.decode()
    assert not Transfer.objects.exists()


def test_only_the_province_decides_to_use_the_advance(client, finance, clearing_officer, issued):
    payment = PaymentDue.objects.get(kind="intra_payable", region_id="320100")
    AdvanceEntry.objects.create(year=2026, scope="intra", region_id="320100", kind="contribution", amount=Decimal("5000"), entry_date=date(2026, 2, 1))
    client.force_login(finance)
    assert client.post(reverse("clearing:payment_detail", args=[payment.pk]), {"action": "advance"}).status_code == 403
    client.force_login(clearing_officer)
    client.post(reverse("clearing:payment_detail", args=[payment.pk]), {"action": "advance"})
    payment.refresh_from_db()
    assert payment.advanced_amount == Decimal("1000.00")


# --- Advances ---------------------------------------------------------------------------


def test_allotments_are_entered_on_the_page(client, clearing_officer):
    client.force_login(clearing_officer)
    client.post(reverse("clearing:allotments", args=[2026]), {"p_110000": "12", "p_310000": "40"})
    from clearing.models import CrossAllotment

    assert dict(CrossAllotment.objects.values_list("province_id", "amount")) == {"110000": 12, "310000": 40}


def test_emergency_below_ninety_percent_is_refused_on_the_page(client, clearing_officer, jiangsu_policy):
    result("2025-05", "320100", "310000", "300000.00")
    services.cross_allotments_save(year=2026, amounts={"310000": 100}, by=clearing_officer)
    services.cross_advances_compute(year=2026, by=clearing_officer)
    result("2026-03", "320100", "310000", "10000.00")
    ClearingPeriod.objects.filter(period="2026-03").update(status="computed")
    client.force_login(clearing_officer)
    response = client.post(
        reverse("clearing:emergency_create", args=["2026-03"]), {"province": "310000", "amount": "5", "stamp_date": "2026-04-07"}, follow=True
    )
    assert "未达到90%，不能启动紧急调增流程" in response.content.decode()


# --- Query counts -----------------------------------------------------------------------


def test_period_list_and_payment_list_use_a_constant_number_of_queries(client, clearing_officer, django_assert_max_num_queries, tmp_path):
    client.force_login(clearing_officer)
    for month in range(1, 7):
        import_rows(tmp_path, [Row(f"Q{month}A", period=f"2026-{month:02d}"), Row(f"Q{month}B", "320300", "110000", period=f"2026-{month:02d}")], name=f"{month}.csv")
        period = services.clearing_compute(period=ClearingPeriod.objects.get(period=f"2026-{month:02d}"), by=clearing_officer)
        services.clearing_issue_notices(period=period, by=clearing_officer, stamp_date=date(2026, month + 1, 20))
    with django_assert_max_num_queries(20):
        assert client.get(reverse("clearing:period_list") + "?year=2026").status_code == 200
    with django_assert_max_num_queries(20):
        response = client.get(reverse("clearing:payment_list") + "?show=all")
        assert response.status_code == 200 and len(response.context["page"].object_list) == 24  # 3 per month + the province's payout to 北京 (第四十八条(二)3)


def test_province_ledger_shows_the_running_balance_for_each_viewer(client, clearing_officer, finance, jiangsu_policy):
    for city, amount in (("320100", "1000.00"), ("320200", "500.00")):
        AdvanceEntry.objects.create(year=2026, scope="cross", region_id=city, province_id="110000", kind="contribution",
                                    amount=Decimal(amount), entry_date=date(2026, 2, 20))
    url = reverse("clearing:ledger_province", args=[2026, "110000"])

    def balances(user) -> list[str]:
        client.force_login(user)
        page = client.get(url).content.decode()
        rows = [row for row in page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>") if "<td" in row]
        return [row.split('<td class="money">')[3].split("</td>")[0] for row in rows]

    assert balances(clearing_officer) == ["1,000.00", "1,500.00"]
    assert balances(finance) == ["1,000.00"]  # 南京's own advance held in 北京


def test_a_months_notices_download_as_one_zip_in_form_order(client, clearing_officer, finance, issued):
    import io
    import zipfile

    from core.models import AuditLog

    url = reverse("clearing:period_notices_zip", args=[issued.period])
    client.force_login(clearing_officer)
    response = client.get(url)
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    annexes = [name.split("-")[1] for name in names]
    assert annexes == ["annex10", "annex11", *["annex12"] * 13, *["annex13"] * 13]
    assert names[0].startswith("01-") and "320100" in names[2] and "320200" in names[3]
    assert AuditLog.objects.filter(action="download", message__contains="打包下载").exists()

    client.force_login(finance)  # 南京: the shared forms and its own 12/13 only
    names = zipfile.ZipFile(io.BytesIO(b"".join(client.get(url).streaming_content))).namelist()
    assert len(names) == 4


def test_the_whole_months_settlement_list_takes_its_count_from_the_period_not_a_count_query(client, clearing_officer,
                                                                                            tmp_path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import_rows(tmp_path, [Row(f"C{n}", "320100", "320200", fund_amount="10.00") for n in range(60)])
    period = ClearingPeriod.objects.get()
    assert period.settlement_count == 60
    client.force_login(clearing_officer)
    url = reverse("clearing:settlement_list", args=[period.period])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert "共 60 条" in page
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper() and "clearing_settlement" in q["sql"]]
    filtered = client.get(url, {"q": "C1"}).content.decode()  # a filtered list still counts its rows
    assert "共 11 条" in filtered
