"""XLSX export of claim lists (django-import-export); cells made safe by core.exports."""

from __future__ import annotations

from import_export import resources

from core.exports import SafeField
from reimbursement.models import Claim, PaymentBatch


class ClaimResource(resources.ModelResource):
    number = SafeField(attribute="number", column_name="申请编号")
    status = SafeField(attribute="get_status_display", column_name="状态")
    person_name = SafeField(attribute="person__name", column_name="参保人")
    id_number = SafeField(attribute="person__masked_id_number", column_name="公民身份号码（脱敏）")
    insurance_type = SafeField(attribute="get_insurance_type_display", column_name="险种类型")
    care_type = SafeField(attribute="get_care_type_display", column_name="费用类型")
    situation = SafeField(attribute="get_situation_display", column_name="报销情形")
    institution = SafeField(attribute="institution_name", column_name="医疗机构")
    treatment_region = SafeField(attribute="treatment_region__name", column_name="就医地")
    admission_date = SafeField(attribute="admission_date", column_name="入院（就诊）日期")
    discharge_date = SafeField(attribute="discharge_date", column_name="出院（就诊）日期")
    invoices = SafeField(attribute="invoice_numbers", column_name="票据号码")
    total_amount = SafeField(attribute="total_amount", column_name="总费用")
    in_scope_amount = SafeField(attribute="in_scope_amount", column_name="统筹基金支付范围内费用")
    fund_payment = SafeField(attribute="fund_payment", column_name="基金支付")
    personal_payment = SafeField(attribute="personal_payment", column_name="个人支付")
    payee = SafeField(attribute="payee_name", column_name="收款人")
    account = SafeField(attribute="masked_account", column_name="银行账号（脱敏）")
    received_on = SafeField(attribute="received_on", column_name="申请日期")
    complete_on = SafeField(attribute="complete_on", column_name="收齐材料日期")
    due_on = SafeField(attribute="due_on", column_name="办理期限")
    finished_on = SafeField(attribute="finished_on", column_name="办结日期")
    intake_by = SafeField(attribute="intake_by__full_name", column_name="受理人")

    class Meta:
        model = Claim
        fields = export_order = (
            "number", "status", "person_name", "id_number", "insurance_type", "care_type", "situation", "institution",
            "treatment_region", "admission_date", "discharge_date", "invoices", "total_amount", "in_scope_amount",
            "fund_payment", "personal_payment", "payee", "account", "received_on", "complete_on", "due_on",
            "finished_on", "intake_by",
        )


def export_claims_xlsx(queryset) -> tuple[bytes, int]:
    """The list as XLSX bytes and the number of rows."""
    dataset = ClaimResource().export(queryset=queryset)
    dataset.title = "零星报销申请"
    # Cells are neutralised above; tablib writes strings as text, numbers as numbers, dates as dates.
    return dataset.export("xlsx"), dataset.height


class PaymentBatchResource(resources.ModelResource):
    number = SafeField(attribute="number", column_name="付款通知批次号")
    region = SafeField(attribute="region__name", column_name="经办地")
    created_at = SafeField(attribute="created_date", column_name="制单日期")
    created_by = SafeField(attribute="created_by__full_name", column_name="制单人")
    claim_count = SafeField(attribute="claim_count", column_name="笔数")
    total_amount = SafeField(attribute="total_amount", column_name="金额合计")
    status = SafeField(attribute="get_status_display", column_name="状态")
    paid_on = SafeField(attribute="paid_on", column_name="支付日期")
    reference = SafeField(attribute="payment_reference", column_name="支付凭证号")

    class Meta:
        model = PaymentBatch
        fields = export_order = (
            "number", "region", "created_at", "created_by", "claim_count", "total_amount", "status", "paid_on", "reference",
        )
