"""The printable forms, rendered by the background jobs and read back."""

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from core.models import Document
from core.tests.factories import region
from reimbursement import services
from reimbursement.jobs import settlement_key
from reimbursement.tests.factories import ALL_INPATIENT_TICKS, inpatient_details

D = Decimal
pytestmark = pytest.mark.django_db


def text_of(document: Document) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(document.file.read()))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def flat(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def claim_ready(policy, person, hospital, long_term_filing):
    return person, hospital


def test_missing_materials_notice_lists_every_missing_item(claim_ready, clerk, run_jobs):
    person, hospital = claim_ready
    with run_jobs():
        claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital),
                                      ticked={"invoice"}, today=date(2026, 3, 16))
    notice = claim.notices.get()
    notice.refresh_from_db()
    text, pages = text_of(notice.document)
    body = flat(text)
    assert pages == 1
    assert "异地就医零星报销一次性告知书" in body
    assert claim.number in body
    for item in ("住院费用清单", "诊断证明（或出院小结）", "有效身份证明材料"):
        assert item in body
    assert "共3项" in body
    assert "已收到的材料：医院收费票据" in body
    assert person.id_number not in body  # masked on notices
    assert "南京市医疗保障基金管理中心" in body


def test_receipt_shows_the_deadline(claim_ready, clerk, run_jobs):
    person, hospital = claim_ready
    with run_jobs():
        claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital),
                                      ticked=ALL_INPATIENT_TICKS, today=date(2026, 3, 16))
    receipt = claim.notices.get()
    receipt.refresh_from_db()
    body = flat(text_of(receipt.document)[0])
    assert "异地就医零星报销受理回执" in body
    assert "2026年3月30日前办结" in body
    assert "10个工作日" in body
    assert "6222********1234" in body


def test_settlement_statement_is_laid_out_like_annex_9(claim_ready, clerk, supervisor, run_jobs):
    person, hospital = claim_ready
    claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital),
                                  ticked=ALL_INPATIENT_TICKS, today=date(2026, 3, 16))
    services.claim_calculate(claim=claim, by=clerk)
    services.claim_submit(claim=claim, by=clerk)
    with run_jobs():
        services.claim_approve(claim=claim, by=supervisor)
    document = Document.objects.get(key=settlement_key(claim), is_latest=True)
    text, pages = text_of(document)
    body = flat(text)
    assert pages == 1
    assert "附件9" in body and "南京市异地就医住院结算单" in body
    assert "单位：元(保留两位小数)" in body
    labels = ["患者姓名", "性别", "年龄", "社会保障号码", "参保地", "险种类型", "就医地", "医院名称", "医院等级",
              "入院方式", "住院号", "出院科室", "主要诊断", "次要诊断", "入院日期", "出院日期", "住院天数", "总费用",
              "统筹基金支付范围内费用", "乙类先行自付费用", "超限价自付费用", "自费费用", "基金支付合计金额",
              "个人现金支付金额", "本次起付标准"]
    for label in labels:
        assert label in body, label
    for value in ("12,000.00", "10,000.00", "800.00", "200.00", "1,000.00", "7,650.00", "4,350.00", "北京测试医院",
                  "职工基本医疗保险", "2026-03-02", "2026-03-10", "ZY2026001", person.id_number):
        assert value in body, value
    assert "总费用=统筹基金支付范围内费用+乙类先行自付费用+超限价自付费用+自费费用" in body
    assert "总费用=基金支付合计金额+个人现金支付金额" in body


def test_settlement_statement_only_for_calculated_inpatient_claims(claim_ready, clerk):
    from core.errors import DomainError

    person, hospital = claim_ready
    claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital),
                                  ticked=ALL_INPATIENT_TICKS, today=date(2026, 3, 16))
    with pytest.raises(DomainError, match="尚未计算待遇"):
        services.claim_print(claim=claim, by=clerk, form="settlement")


def test_payment_notice_has_payees_masked_accounts_figures_and_daxie(claim_ready, clerk, supervisor, finance, run_jobs):
    person, hospital = claim_ready
    claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital),
                                  ticked=ALL_INPATIENT_TICKS, today=date(2026, 3, 16))
    services.claim_calculate(claim=claim, by=clerk)
    services.claim_submit(claim=claim, by=clerk)
    services.claim_approve(claim=claim, by=supervisor)
    with run_jobs():
        batch = services.payment_batch_create(claims=[claim], by=finance)
    document = Document.objects.get(key=batch.document_key)
    assert document.region == region("320100")
    body = flat(text_of(document)[0])
    assert "异地就医零星报销付款通知书" in body
    assert batch.number in body and claim.number in body
    assert "张三" in body and "中国工商银行南京分行" in body
    assert "6222********1234" in body  # 6222 **** **** 1234, blanks removed
    assert "6222021234567891234" not in body
    assert "7,650.00" in body and "柒仟陆佰伍拾元整" in body
    assert "合计（1笔）" in body


def test_payment_notice_signs_with_the_reviewers_and_approvers(claim_ready, clerk, supervisor, finance, run_jobs):
    """审核人 = the clerk who reviewed and submitted; 复核人 = the supervisor who approved; 制表人 = finance."""
    person, hospital = claim_ready
    claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital),
                                  ticked=ALL_INPATIENT_TICKS, today=date(2026, 3, 16))
    services.claim_calculate(claim=claim, by=clerk)
    services.claim_submit(claim=claim, by=clerk)
    services.claim_approve(claim=claim, by=supervisor)
    with run_jobs():
        batch = services.payment_batch_create(claims=[claim], by=finance)
    body = flat(text_of(Document.objects.get(key=batch.document_key))[0])
    assert f"审核人：{clerk.get_full_name()}" in body
    assert f"复核人：{supervisor.get_full_name()}" in body
    assert f"制表人：{finance.get_full_name()}" in body


def test_missing_materials_notice_tells_where_to_bring_them(claim_ready, clerk, run_jobs):
    from core.models import Agency

    Agency.objects.filter(region_id="320100").update(address="南京市建邺区江东中路000号市民服务中心")
    person, hospital = claim_ready
    with run_jobs():
        claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital),
                                      ticked={"invoice"}, today=date(2026, 3, 16))
    notice = claim.notices.get()
    notice.refresh_from_db()
    body = flat(text_of(notice.document)[0])
    assert "办理地址：南京市建邺区江东中路000号市民服务中心" in body


def test_missing_materials_notice_says_one_discharge_summary_serves_two_lines(claim_ready, clerk, run_jobs):
    person, hospital = claim_ready
    with run_jobs():
        claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital, rescue=True),
                                      ticked={"invoice", "id_proof:0", "inpatient_fee_list"}, today=date(2026, 3, 16))
    notice = claim.notices.get()
    notice.refresh_from_db()
    body = flat(text_of(notice.document)[0])
    assert "提供第3项“出院小结”的，本项无需另交" in body


def test_reprinted_receipt_shows_what_was_told_then_not_the_claims_current_limit(claim_ready, clerk, supervisor, run_jobs):
    person, hospital = claim_ready
    claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital),
                                  ticked=ALL_INPATIENT_TICKS, today=date(2026, 3, 16))
    receipt = claim.notices.get()
    assert (receipt.processing_days, receipt.special, receipt.complete_on) == (10, False, date(2026, 3, 16))
    services.claim_mark_special(claim=claim, by=supervisor, reason="需协查", today=date(2026, 3, 17))
    with run_jobs():
        services.claim_print(claim=claim, by=clerk, form="receipt", notice=receipt)
    receipt.refresh_from_db()
    body = flat(text_of(receipt.document)[0])
    assert "2026年3月30日前办结" in body
    assert "10个工作日" in body
    assert "20个工作日" not in body and "特殊情况" not in body


def test_receipt_lists_one_discharge_summary_once_though_it_serves_two_lines(claim_ready, clerk, run_jobs):
    """An inpatient rescue asks for 诊断证明（或出院小结） and 出院小结: the one paper is listed once."""
    person, hospital = claim_ready
    with run_jobs():
        claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital, rescue=True),
                                      ticked={"invoice", "id_proof:0", "inpatient_fee_list", "discharge_summary", "rescue_record"},
                                      today=date(2026, 3, 16))
    receipt = claim.notices.get()
    assert receipt.kind == "receipt"
    receipt.refresh_from_db()
    body = flat(text_of(receipt.document)[0])
    received = body.split("已收材料")[1].split("收齐材料日期")[0]
    assert received.count("出院小结") == 1, received


def test_annex_9_stays_on_one_page_with_a_long_diagnosis_and_hospital_name(claim_ready, clerk, supervisor):
    """江苏 第四十条 附件9: long 诊断 and 医院名称 (the fields' full lengths) shrink as 附件8's do, one page."""
    from reimbursement.printing import render_settlement_statement

    person, hospital = claim_ready
    claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital),
                                  ticked=ALL_INPATIENT_TICKS, today=date(2026, 3, 16))
    services.claim_calculate(claim=claim, by=clerk)
    long_name = "中国人民解放军东部战区总医院秦淮医疗区附属第二门诊部暨江苏省南京市秦淮区中医结合康复医学研究中心附属医院住院部"
    claim.institution_name = (long_name * 2)[:100]
    claim.main_diagnosis = ("慢性阻塞性肺疾病伴有急性加重合并Ⅱ型呼吸衰竭及肺源性心脏病心功能不全" * 4)[:100]
    claim.secondary_diagnosis = ("二型糖尿病伴多个并发症高血压病三级极高危冠状动脉粥样硬化性心脏病" * 4)[:100]
    claim.department = ("呼吸与危重症医学科" * 5)[:40]
    claim.save()
    content = render_settlement_statement(claim)
    reader = PdfReader(io.BytesIO(content))
    body = flat("".join(page.extract_text() for page in reader.pages))
    assert len(reader.pages) == 1
    assert "总费用=基金支付合计金额+个人现金支付金额" in body
    assert flat(claim.main_diagnosis)[-10:] in body


def test_a_one_page_receipt_is_well_under_100_kb_and_its_chinese_reads_back_with_pdftotext(claim_ready, clerk, run_jobs):
    """Issue 15: the CJK fonts are subset to the glyphs drawn (core/pdf_fonts.py); it was ~430 KB."""
    import subprocess

    person, hospital = claim_ready
    with run_jobs():
        claim = services.claim_create(by=clerk, person=person, details=inpatient_details(hospital),
                                      ticked=ALL_INPATIENT_TICKS, today=date(2026, 3, 16))
    receipt = claim.notices.get()
    receipt.refresh_from_db()
    content = receipt.document.file.read()
    assert len(PdfReader(io.BytesIO(content)).pages) == 1
    assert len(content) < 100 * 1024, len(content)
    assert receipt.document.size == len(content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
    body = flat(text)
    assert "异地就医零星报销受理回执" in body
    assert claim.number in body and "2026年3月30日前办结" in body
    assert "南京市医疗保障基金管理中心" in body
