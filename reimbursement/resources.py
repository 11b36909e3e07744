"""XLSX export of claim lists (django-import-export), safe to open in a spreadsheet.

Text a clerk or an applicant typed (names, invoice numbers, bank names …) may start
with = + - @ or a control character; a spreadsheet would run such a cell as a
formula (CSV/formula injection). django-import-export's
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only strips a leading "=", and turns
every cell into text, so this resource neutralises text cells itself (a leading
apostrophe, as OWASP recommends) and keeps amounts numeric and dates as date cells.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from import_export import fields, resources

from reimbursement.models import Claim

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SafeField(fields.Field):
    def export(self, instance, **kwargs):
        value = self.get_value(instance)
        if value is None:
            return ""
        if isinstance(value, Decimal | int | float | date):
            return value  # numbers and dates stay typed cells (a date cell, not text)
        return neutralise(str(value) if not isinstance(value, str) else value)


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
