"""Finance pays through the bank: whole accounts where it pays (audited), the batch-payment file,
and the bank's result file turned into 已支付 / 退票."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.errors import DomainError
from core.models import AuditLog
from reimbursement import bank, services
from reimbursement.jobs import bank_file_key
from reimbursement.models import Claim, PaymentBatch
from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details

pytestmark = pytest.mark.django_db
TODAY = date.today()
RECENT = TODAY - timedelta(days=10)
ACCOUNT = "6222021234567891234"


def _approved(clerk, supervisor, person, hospital, **details):
    details = inpatient_details(hospital, admission_date=RECENT - timedelta(days=5), discharge_date=RECENT, **details)
    claim = services.claim_create(by=clerk, person=person, details=details, ticked=ALL_INPATIENT_TICKS)
    services.claim_calculate(claim=claim, by=clerk)
    services.claim_submit(claim=claim, by=clerk)
    services.claim_approve(claim=claim, by=supervisor)
    return claim


@pytest.fixture
def batch(policy, person, hospital, long_term_filing, clerk, supervisor, finance, run_jobs):
    first = _approved(clerk, supervisor, person, hospital)
    second = _approved(clerk, supervisor, person, hospital, invoice_numbers="BJ-2")
    with run_jobs():
        batch = services.payment_batch_create(claims=[first, second], by=finance)
    return PaymentBatch.objects.get(pk=batch.pk)


def test_the_bank_file_lists_each_transfer_with_the_whole_account_and_adds_up(batch):
    transfers = bank.batch_transfers(batch)
    assert [t.sequence for t in transfers] == [1, 2]
    assert all(t.account == ACCOUNT for t in transfers)
    assert sum(t.amount for t in transfers) == batch.total_amount
    assert transfers[0].purpose.startswith("异地就医零星报销 ")


def test_the_job_archives_the_bank_file_as_xlsx_and_gb18030_csv(batch):
    from openpyxl import load_workbook

    xlsx = bank_file_key(batch, "xlsx")
    sheet = load_workbook(io.BytesIO(_latest(xlsx).read())).active
    rows = list(sheet.values)
    assert rows[0] == bank.COLUMNS
    assert rows[1][2] == ACCOUNT and Decimal(str(rows[1][4])) + Decimal(str(rows[2][4])) == batch.total_amount
    text = _latest(bank_file_key(batch, "csv")).read().decode("gb18030")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == list(bank.COLUMNS) and lines[1][2] == ACCOUNT and len(lines) == 3


def _latest(key):
    from core.documents import latest_document

    document = latest_document(key)
    assert document is not None, key
    return document


def test_a_batch_whose_rows_do_not_add_up_gives_no_bank_file(batch):
    PaymentBatch.objects.filter(pk=batch.pk).update(total_amount=batch.total_amount + 1)
    batch.refresh_from_db()
    with pytest.raises(DomainError, match="与明细之和"):
        bank.batch_transfers(batch)


def test_a_formula_in_a_payee_name_is_neutralised_in_the_file(batch):
    Claim.objects.filter(payment_batch=batch).update(payee_name="=HYPERLINK(1)")
    assert bank.render_csv(bank.batch_transfers(batch)).decode("gb18030").count("'=HYPERLINK") == 2


def test_finance_sees_whole_accounts_on_its_pages_and_each_view_is_audited(client, batch, finance, clerk):
    client.force_login(finance)
    page = client.get(reverse("reimbursement:batch_detail", args=[batch.pk])).content.decode()
    assert ACCOUNT in page and 'id="bank-files"' in page
    entry = AuditLog.objects.filter(action=AuditLog.Action.VIEW_SENSITIVE).get()
    assert entry.user == finance and batch.number in entry.message and len(entry.data["claims"]) == 2

    client.force_login(clerk)
    assert ACCOUNT not in client.get(reverse("reimbursement:claim_list")).content.decode()


def test_only_finance_downloads_the_bank_file_and_the_download_is_audited(client, batch, finance, supervisor):
    url = reverse("reimbursement:batch_bank_file", args=[batch.pk, "xlsx"])
    client.force_login(supervisor)
    assert client.get(url).status_code == 403
    client.force_login(finance)
    response = client.get(url)
    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert AuditLog.objects.filter(action=AuditLog.Action.DOWNLOAD, user=finance).exists()


def test_another_regions_finance_gets_404_for_the_bank_file(client, batch, make_staff):
    from core.models import Role

    client.force_login(make_staff("finance_wx", Role.FINANCE, "320200"))
    assert client.get(reverse("reimbursement:batch_bank_file", args=[batch.pk, "csv"])).status_code == 404
    assert client.get(reverse("reimbursement:batch_bank_result", args=[batch.pk])).status_code == 404


def _result_file(rows, name="result.csv"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序号", "收款账号", "金额", "结果", "失败原因"])
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode("gb18030"))


def test_the_banks_result_file_records_paid_and_returned_claims_after_a_preview(client, batch, finance):
    transfers = bank.batch_transfers(batch)
    url = reverse("reimbursement:batch_bank_result", args=[batch.pk])
    client.force_login(finance)
    upload = _result_file([[1, ACCOUNT, transfers[0].amount, "成功", ""], [2, ACCOUNT, transfers[1].amount, "失败", "户名与账号不符"]])
    page = client.post(url, {"file": upload, "paid_on": TODAY.isoformat(), "reference": "YH-1"}).content.decode()
    assert "支付成功 1 笔，失败（退票）1 笔" in page
    assert Claim.objects.filter(status=Claim.Status.PAYMENT_NOTIFIED).count() == 2  # nothing recorded yet

    response = client.post(url, {"confirm": "1"})
    assert response.status_code == 302
    paid = Claim.objects.get(pk=transfers[0].claim_id)
    returned = Claim.objects.get(pk=transfers[1].claim_id)
    assert paid.status == Claim.Status.PAID and paid.payment_reference == "YH-1"
    assert returned.status == Claim.Status.APPROVED
    assert returned.payment_returns.get().reason == "银行代发失败：户名与账号不符"


def test_a_result_file_with_a_wrong_amount_is_refused_row_by_row_and_records_nothing(client, batch, finance):
    transfers = bank.batch_transfers(batch)
    url = reverse("reimbursement:batch_bank_result", args=[batch.pk])
    client.force_login(finance)
    upload = _result_file([[1, ACCOUNT, transfers[0].amount, "成功", ""], [2, ACCOUNT, "1.00", "成功", ""],
                           [3, ACCOUNT, "5.00", "成功", ""], [1, ACCOUNT, transfers[0].amount, "未知", ""]])
    page = client.post(url, {"file": upload, "paid_on": TODAY.isoformat()}).content.decode()
    assert "第 3 行：金额 1.00 元与付款通知中" in page
    assert "第 4 行：在本付款通知中找不到该笔" in page
    assert 'id="confirm-result"' not in page
    assert client.post(url, {"confirm": "1"}).status_code == 302
    assert Claim.objects.filter(status=Claim.Status.PAYMENT_NOTIFIED).count() == 2
