"""XLSX exports of the clearing lists: a month's settlement records and a year's advance ledger
(cells made safe by core.exports)."""

from __future__ import annotations

from import_export import fields, resources

from clearing.models import AdvanceEntry, Settlement
from core.exports import SafeField


class RegionNameField(fields.Field):
    """A six-digit region code shown with its name (the records store the code only)."""

    def __init__(self, *args, names: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.names = names

    def export(self, instance, **kwargs):
        code = self.get_value(instance) or ""
        return f"{code} {self.names.get(code, '')}".strip()


class SettlementExportResource(resources.ModelResource):
    settlement_id = SafeField(attribute="settlement_id", column_name="结算流水号")
    period = SafeField(attribute="period", column_name="清算所属期")
    insurance_type = SafeField(attribute="get_insurance_type_display", column_name="险种类型")
    care_type = SafeField(attribute="get_care_type_display", column_name="医疗类别")
    settled_on = SafeField(attribute="settled_on", column_name="结算日期")
    total_amount = SafeField(attribute="total_amount", column_name="总费用")
    fund_amount = SafeField(attribute="fund_amount", column_name="基金支付合计")
    institution = SafeField(attribute="institution", column_name="定点医药机构")

    def __init__(self, *, names: dict[str, str]):
        super().__init__()
        self.fields["insured_region"] = RegionNameField(attribute="insured_region", column_name="参保地", names=names)
        self.fields["treatment_region"] = RegionNameField(attribute="treatment_region", column_name="就医地", names=names)

    def get_export_order(self):
        return ("settlement_id", "period", "insured_region", "treatment_region", "insurance_type", "care_type",
                "settled_on", "total_amount", "fund_amount", "institution")

    class Meta:
        model = Settlement
        fields = ("settlement_id", "period", "insurance_type", "care_type", "settled_on", "total_amount",
                  "fund_amount", "institution")


class AdvanceEntryResource(resources.ModelResource):
    entry_date = SafeField(attribute="entry_date", column_name="记账日期")
    year = SafeField(attribute="year", column_name="预付金年度")
    scope = SafeField(attribute="get_scope_display", column_name="预付金类型")
    region = SafeField(attribute="region__name", column_name="设区市")
    province = SafeField(attribute="province__name", column_name="对方省份")
    kind = SafeField(attribute="get_kind_display", column_name="摘要")
    amount = SafeField(attribute="amount", column_name="金额（元，流出为负）")
    note = SafeField(attribute="note", column_name="说明")
    recorded_by = SafeField(attribute="recorded_by__full_name", column_name="记账人")

    class Meta:
        model = AdvanceEntry
        fields = export_order = ("entry_date", "year", "scope", "region", "province", "kind", "amount", "note",
                                 "recorded_by")
