"""XLSX export of the filing list (cells made safe by core.exports; ID numbers masked)."""

from __future__ import annotations

from import_export import resources

from core.exports import SafeField
from filings.models import Filing


class FilingExportResource(resources.ModelResource):
    number = SafeField(attribute="number", column_name="备案编号")
    name = SafeField(attribute="insured_person__name", column_name="姓名")
    id_number = SafeField(attribute="insured_person__masked_id_number", column_name="公民身份号码（脱敏）")
    insured_region = SafeField(attribute="insured_region__name", column_name="参保地")
    person_type = SafeField(attribute="get_person_type_display", column_name="人员类别")
    person_group = SafeField(attribute="get_person_group_display", column_name="备案类型")
    destination = SafeField(attribute="destination__name", column_name="就医地")
    start_date = SafeField(attribute="start_date", column_name="开始日期")
    end_date = SafeField(attribute="end_date", column_name="结束日期")
    terminated_on = SafeField(attribute="terminated_on", column_name="终止日期")
    status = SafeField(attribute="status_label", column_name="状态")
    basis = SafeField(attribute="get_basis_display", column_name="办理方式")
    channel = SafeField(attribute="get_channel_display", column_name="办理渠道")
    upload_status = SafeField(attribute="get_upload_status_display", column_name="省平台上传")
    applied_on = SafeField(attribute="applied_on", column_name="申请日期")
    created_by = SafeField(attribute="created_by__full_name", column_name="经办人")

    class Meta:
        model = Filing
        fields = export_order = (
            "number", "name", "id_number", "insured_region", "person_type", "person_group", "destination", "start_date",
            "end_date", "terminated_on", "status", "basis", "channel", "upload_status", "applied_on", "created_by",
        )
