from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone

from core import safe_files
from core.forms import clean_table_upload
from core.models import Region
from core.reference import home_province_code
from core.validators import MAX_WAN_YUAN
from core.workdays import is_working_day

WAN_YUAN_ERRORS = {
    "invalid": "请输入整数（万元）。",
    "max_value": f"额度过大：不能超过 {MAX_WAN_YUAN:,} 万元，请核对单位（万元）。",
}


def working_stamp_date(value):
    """A notice is stamped on a working day: deadlines count from it in working days."""
    if value is not None and not is_working_day(value):
        raise forms.ValidationError(
            f"签章日期 {value:%Y-%m-%d} 不是工作日（周末或法定节假日），请选择工作日。", code="not_working_day"
        )
    return value


class UploadForm(forms.Form):
    file = forms.FileField(
        label="结算明细文件",
        help_text="CSV（UTF-8、带 BOM 的 UTF-8 或 GB18030）或 XLSX；第 1 行为表头，列顺序不限。上传后先校验并预览，确认后才导入。",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    skip_invalid = forms.BooleanField(
        label="有错误的行跳过，只导入有效行（默认：有任何错误整个文件都不导入）",
        required=False,
    )

    def clean_file(self):
        return clean_table_upload(
            self.cleaned_data["file"], limits=safe_files.settlement_limits(), extensions=(".csv", ".txt", ".xlsx", ".xlsm")
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=200, widget=forms.TextInput(attrs={"placeholder": "如：南通市补传三方对账后的明细"}))


class StampDateForm(forms.Form):
    stamp_date = forms.DateField(
        label="签章日期",
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="付款期限自签章之日起按工作日计算；签章日期须为工作日。",
    )

    def clean_stamp_date(self):
        return working_stamp_date(self.cleaned_data.get("stamp_date"))


class TransferForm(forms.Form):
    amount = forms.DecimalField(label="到账金额（元）", max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    transferred_on = forms.DateField(label="到账日期", initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    voucher_no = forms.CharField(label="凭证号", max_length=60, required=False)
    note = forms.CharField(label="备注", max_length=200, required=False)


class AllotmentForm(forms.Form):
    """One field per other province: the national system's amount (万元)."""

    def __init__(self, *args, initial_amounts: dict[str, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        initial_amounts = initial_amounts or {}
        for province in Region.objects.provinces().exclude(code=home_province_code()).order_by("sort_order", "code"):
            self.fields[f"p_{province.code}"] = forms.IntegerField(
                label=province.short_name, min_value=0, max_value=MAX_WAN_YUAN, required=False,
                initial=initial_amounts.get(province.code), error_messages=WAN_YUAN_ERRORS,
                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm text-end", "step": 1}),
            )

    def amounts(self) -> dict[str, int]:
        return {
            name[2:]: value for name, value in self.cleaned_data.items() if name.startswith("p_") and value is not None
        }


class AllotmentUploadForm(forms.Form):
    file = forms.FileField(label="额度文件（CSV/XLSX，列：省份、额度（万元））")

    def clean_file(self):
        return clean_table_upload(self.cleaned_data["file"])


class EmergencyForm(forms.Form):
    province = forms.ModelChoiceField(label="就医省", queryset=Region.objects.none())
    amount = forms.IntegerField(label="国家医保局核定的调增额度（万元）", min_value=1, max_value=MAX_WAN_YUAN,
                                error_messages=WAN_YUAN_ERRORS)
    stamp_date = forms.DateField(label="签章日期", initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, provinces=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].queryset = provinces if provinces is not None else Region.objects.provinces().exclude(code=home_province_code())

    def clean_stamp_date(self):
        return working_stamp_date(self.cleaned_data.get("stamp_date"))


class _SmallControls:
    """Bootstrap's small controls on every field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
            field.widget.attrs.setdefault("class", css)


class RefundForm(_SmallControls, forms.Form):
    """隔笔退费 / 跨年退费 / 清算后退费 of one cleared settlement (第四十五条)."""

    settlement_id = forms.CharField(label="原结算流水号", max_length=40)
    refund_type = forms.ChoiceField(label="退费方式", choices=[
        ("separate", "隔笔退费"), ("cross_year", "跨年退费"), ("after_clearing", "清算后退费"),
    ])
    amount = forms.DecimalField(label="退回基金金额（元）", max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    refunded_on = forms.DateField(label="退费日期", initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reason = forms.CharField(label="退费原因", max_length=200)
    source_ref = forms.CharField(label="退费流水号", max_length=80, required=False)


class DeductionForm(_SmallControls, forms.Form):
    """违规费用扣款 against the insured region (第五十三条)."""

    settlement_id = forms.CharField(label="原结算流水号（可选）", max_length=40, required=False,
                                    help_text="填写后参保地、就医地和险种取自该笔结算。")
    insured_region = forms.CharField(label="参保地代码", max_length=6, required=False)
    treatment_region = forms.CharField(label="就医地代码", max_length=6, required=False)
    insurance_type = forms.ChoiceField(label="险种类型", choices=[("310", "职工（310）"), ("390", "城乡居民（390）")], required=False)
    amount = forms.DecimalField(label="扣款金额（元）", max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    basis = forms.CharField(label="扣款依据", max_length=200, help_text="如：费用协查核查有误（重复收费）、稽核认定超标准收费")
    source_ref = forms.CharField(label="来源单据号", max_length=80, help_text="协查编号、稽核文书号等")
