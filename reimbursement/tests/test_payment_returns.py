"""退票: the bank sent a payment back. Finance records it with the reason, the claim goes back to
“已审批（待付款）”, the counter checks or corrects the payee account (audited), and only then can the
claim go on a new payment notice."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from core.errors import DomainError
from core.models import AuditLog
from reimbursement import services
from reimbursement.models import Claim, PaymentBatch, PaymentReturn
from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details

D = Decimal
pytestmark = pytest.mark.django_db
TODAY = date.today()
RECENT = TODAY - timedelta(days=10)


@pytest.fixture
def notified(policy, person, hospital, long_term_filing, clerk, supervisor, finance):
    details = inpatient_details(hospital, admission_date=RECENT - timedelta(days=5), discharge_date=RECENT)
    claim = services.claim_create(by=clerk, person=person, details=details, ticked=ALL_INPATIENT_TICKS)
    services.claim_calculate(claim=claim, by=clerk)
    services.claim_submit(claim=claim, by=clerk)
    services.claim_approve(claim=claim, by=supervisor)
    services.payment_batch_create(claims=[claim], by=finance)
    claim.refresh_from_db()
    return claim


@pytest.fixture
def paid(notified, finance):
    services.payment_record(claims=[notified], by=finance, paid_on=TODAY, reference="ZF1")
    notified.refresh_from_db()
    return notified


def audit_of(claim):
    return list(AuditLog.objects.filter(content_type__model="claim", object_id=str(claim.pk)).order_by("pk"))


def test_return_of_a_paid_claim_reopens_it_for_payment_and_keeps_the_record(paid, finance):
    batch = paid.payment_batch
    services.payment_return_record(claim=paid, by=finance, reason="账户已销户", returned_on=TODAY)
    paid.refresh_from_db()
    assert paid.status == Claim.Status.APPROVED
    assert paid.payment_batch is None and paid.paid_on is None and paid.finished_on is None
    assert paid.payment_reference == "" and paid.paid_by is None
    record = PaymentReturn.objects.get()
    assert record.batch == batch and record.amount == D("7650.00") and record.reason == "账户已销户"
    assert record.account_before == "6222 **** **** 1234" and record.is_open
    entry = audit_of(paid)[-1]
    assert entry.from_state == "paid" and entry.to_state == "approved"
    assert "退票" in entry.message and "账户已销户" in entry.message and batch.number in entry.message
    # the batch keeps what it printed
    batch.refresh_from_db()
    assert batch.claim_count == 1 and batch.total_amount == D("7650.00")


def test_claim_with_an_open_return_cannot_go_on_a_new_notice_until_the_account_is_checked(paid, finance, clerk, supervisor):
    services.payment_return_record(claim=paid, by=finance, reason="户名与账号不符", returned_on=TODAY)
    batches = PaymentBatch.objects.count()
    with pytest.raises(DomainError, match="退票后收款账户尚待经办人核对更正"):
        services.payment_batch_create(claims=[paid], by=finance)
    assert PaymentBatch.objects.count() == batches
    services.claim_correct_payee(claim=paid, by=clerk, payee_name="张三", bank_name="中国银行南京分行",
                                 bank_account="6217 0012 3456 7890 999")
    paid.refresh_from_db()
    assert paid.bank_account == "6217001234567890999" and paid.bank_name == "中国银行南京分行"
    record = PaymentReturn.objects.get()
    assert not record.is_open and record.resolved_by == clerk and record.account_after == "6217 **** **** 0999"
    entry = audit_of(paid)[-1]
    assert "6222 **** **** 1234" in entry.message and "6217 **** **** 0999" in entry.message
    assert "6217001234567890999" not in entry.message
    # A changed account is paid only after a supervisor has checked it (never the one who changed it).
    with pytest.raises(DomainError, match="更正了收款账户，尚待审核人员复核"):
        services.payment_batch_create(claims=[paid], by=finance)
    with pytest.raises(DomainError, match="收款账户由您更正"):
        services.claim_verify_payee(claim=paid, by=clerk)
    assert PaymentBatch.objects.count() == batches and PaymentReturn.objects.get().verified_at is None
    services.claim_verify_payee(claim=paid, by=supervisor)
    record = PaymentReturn.objects.get()
    assert record.verified_by == supervisor and "复核更正后的收款账户" in audit_of(paid)[-1].message
    with pytest.raises(DomainError, match="没有待复核的收款账户更正"):
        services.claim_verify_payee(claim=paid, by=supervisor)
    batch = services.payment_batch_create(claims=[paid], by=finance)
    assert batch.claim_count == 1 and Claim.objects.get().status == Claim.Status.PAYMENT_NOTIFIED


def test_the_counter_may_confirm_an_unchanged_account(notified, finance, clerk):
    services.payment_return_record(claim=notified, by=finance, reason="银行系统故障退回", returned_on=TODAY)
    services.claim_correct_payee(claim=notified, by=clerk, payee_name=notified.payee_name,
                                 bank_name=notified.bank_name, bank_account="")
    record = PaymentReturn.objects.get()
    assert not record.is_open and not record.account_changed and not record.awaits_verification
    assert "核对无误" in audit_of(notified)[-1].message
    assert services.payment_batch_create(claims=[notified], by=finance).claim_count == 1  # nothing to verify


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reason": " "}, "请填写退票原因"),
        ({"returned_on": TODAY + timedelta(days=1)}, "退票日期 .* 晚于今天"),
        ({"returned_on": TODAY - timedelta(days=30)}, "早于付款通知"),
    ],
)
def test_bad_return_records_are_refused_with_nothing_written(notified, finance, kwargs, message):
    values = {"reason": "账户已销户", "returned_on": TODAY} | kwargs
    before = len(audit_of(notified))
    with pytest.raises(DomainError, match=message):
        services.payment_return_record(claim=notified, by=finance, **values)
    assert not PaymentReturn.objects.exists()
    assert Claim.objects.get().status == Claim.Status.PAYMENT_NOTIFIED
    assert len(audit_of(notified)) == before


def test_return_only_for_claims_sent_for_payment(policy, person, hospital, long_term_filing, clerk, finance):
    details = inpatient_details(hospital, admission_date=RECENT - timedelta(days=5), discharge_date=RECENT)
    claim = services.claim_create(by=clerk, person=person, details=details, ticked=ALL_INPATIENT_TICKS)
    with pytest.raises(DomainError, match="当前状态为“已受理（审核中）”，不能登记退票"):
        services.payment_return_record(claim=claim, by=finance, reason="x退回", returned_on=TODAY)
    assert not PaymentReturn.objects.exists()


def test_account_correction_only_after_a_return_and_valid(notified, clerk, finance):
    with pytest.raises(DomainError, match="只有退票后待核对收款账户的申请"):
        services.claim_correct_payee(claim=notified, by=clerk, payee_name="张三", bank_name="中国银行",
                                     bank_account="6217001234567890999")
    services.payment_return_record(claim=notified, by=finance, reason="账户已销户", returned_on=TODAY)
    before = len(audit_of(notified))
    with pytest.raises(DomainError, match="银行账号应为12–30位数字"):
        services.claim_correct_payee(claim=notified, by=clerk, payee_name="张三", bank_name="中国银行", bank_account="12AB")
    with pytest.raises(DomainError, match="请填写开户银行"):
        services.claim_correct_payee(claim=notified, by=clerk, payee_name="张三", bank_name=" ",
                                     bank_account="6217001234567890999")
    assert Claim.objects.get().bank_account == "6222021234567891234"
    assert PaymentReturn.objects.get().is_open and len(audit_of(notified)) == before


def test_return_and_correction_through_the_pages(client, paid, finance, clerk, clerk_wuxi, supervisor):
    detail = reverse("reimbursement:claim_detail", args=[paid.pk])
    client.force_login(finance)
    assert "登记退票" in client.get(detail).content.decode()
    url = reverse("reimbursement:claim_payment_return", args=[paid.pk])
    page = client.post(url, {"returned_on": TODAY.isoformat(), "reason": "账户已销户"}, follow=True).content.decode()
    assert "已登记退票" in page and "退票待更正账户" in page
    payments = client.get(reverse("reimbursement:payments")).content.decode()
    assert paid.number in payments and "退票待更正账户" in payments
    client.force_login(clerk)
    page = client.get(detail).content.decode()
    assert "更正收款账户" in page and "6222021234567891234" not in page
    correct = reverse("reimbursement:claim_correct_payee", args=[paid.pk])
    client.force_login(clerk_wuxi)
    assert client.post(correct, {"payee_name": "x"}).status_code == 404
    client.force_login(finance)
    assert client.post(correct, {"payee_name": "x"}).status_code == 403
    client.force_login(clerk)
    page = client.post(correct, {"payee_name": "张三", "bank_name": "中国银行南京分行",
                                 "bank_account": "6217001234567890999"}, follow=True).content.decode()
    assert "收款账户已更正" in page
    assert Claim.objects.get().bank_account == "6217001234567890999"
    client.force_login(finance)
    payments = client.get(reverse("reimbursement:payments")).content.decode()
    assert "更正账户待复核" in payments and f'name="claim" value="{paid.pk}"' not in payments
    verify = reverse("reimbursement:claim_verify_payee", args=[paid.pk])
    assert client.post(verify).status_code == 403
    client.force_login(supervisor)
    page = client.get(detail).content.decode()
    assert "更正账户待复核" in page and "6217001234567890999" in page  # the checker sees the whole number
    page = client.post(verify, follow=True).content.decode()
    assert "已复核更正后的收款账户" in page and "已复核" in page
    client.force_login(finance)
    payments = client.get(reverse("reimbursement:payments")).content.decode()
    assert "退票后已更正账户（已复核）" in payments and f'name="claim" value="{paid.pk}"' in payments


def test_counter_home_page_and_list_show_returns_waiting_for_the_account(client, paid, finance, clerk, supervisor,
                                                                         hospital):
    services.payment_return_record(claim=paid, by=finance, reason="账户已销户", returned_on=TODAY)
    # another approved claim, never returned, must not be listed
    other = services.claim_create(by=clerk, person=paid.person, ticked=ALL_INPATIENT_TICKS, details=inpatient_details(
        hospital, admission_date=RECENT - timedelta(days=5), discharge_date=RECENT, invoice_numbers="OTHER1"))
    services.claim_calculate(claim=other, by=clerk)
    services.claim_submit(claim=other, by=clerk)
    services.claim_approve(claim=other, by=supervisor)
    client.force_login(clerk)
    page = client.get(reverse("home")).content.decode()
    tile = page[page.index("退票待更正账户"):][:120]
    assert '<div class="display-6 text-danger">1</div>' in tile
    listing = client.get(reverse("reimbursement:claim_list"), {"deadline": "payment_returned"}).content.decode()
    assert paid.number in listing and other.number not in listing and "共 1 条" in listing


def test_reprinted_payment_notice_lists_a_returned_payment_apart_and_asks_for_nothing(paid, finance, clerk, run_jobs):
    """退票 (第二十八条 payment): the returned claim leaves the rows, the 合计 and the 请按…支付 sentence;
    a batch holding only returned claims asks finance to pay nothing."""
    import io

    from pypdf import PdfReader

    from core.models import Document

    batch = paid.payment_batch
    services.payment_return_record(claim=paid, by=finance, reason="账户已销户", returned_on=TODAY)
    services.claim_correct_payee(claim=paid, by=clerk, payee_name="张三", bank_name="中国银行南京分行",
                                 bank_account="6217001234567890999")
    with run_jobs():
        services.payment_batch_regenerate(batch=batch, by=finance)
    document = Document.objects.get(key=batch.document_key, is_latest=True)
    text = "".join(PdfReader(io.BytesIO(document.file.read())).pages[0].extract_text().split())
    assert paid.number in text and f"{TODAY:%Y-%m-%d}退票" in text
    assert "6222********1234" in text and "6217********0999" not in text  # the account it was paid to
    assert "合计（" not in text and "请按列明的收款人和账户支付" not in text
    assert "已退票款项" in text and "本通知无需支付" in text and "7,650.00" in text  # the amount it returned


def test_supervisor_home_and_list_show_corrected_accounts_waiting_for_review(client, paid, finance, clerk, supervisor):
    services.payment_return_record(claim=paid, by=finance, reason="账户已销户", returned_on=TODAY)
    services.claim_correct_payee(claim=paid, by=clerk, payee_name="张三", bank_name="中国银行南京分行",
                                 bank_account="6217001234567890999")
    client.force_login(supervisor)
    page = client.get(reverse("home")).content.decode()
    tile = page[page.index("更正账户待复核"):][:120]
    assert '<div class="display-6 text-danger">1</div>' in tile
    listing = client.get(reverse("reimbursement:claim_list"), {"deadline": "payee_unverified"}).content.decode()
    assert paid.number in listing and "共 1 条" in listing
    services.claim_verify_payee(claim=paid, by=supervisor)
    listing = client.get(reverse("reimbursement:claim_list"), {"deadline": "payee_unverified"}).content.decode()
    assert paid.number not in listing
