from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone

from core.models import Region
from core.reference import HOME_PROVINCE
from core.workdays import is_working_day


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
        for province in Region.objects.provinces().exclude(code=HOME_PROVINCE).order_by("sort_order", "code"):
            self.fields[f"p_{province.code}"] = forms.IntegerField(
                label=province.short_name, min_value=0, required=False, initial=initial_amounts.get(province.code),
                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm text-end", "step": 1}),
            )

    def amounts(self) -> dict[str, int]:
        return {
            name[2:]: value for name, value in self.cleaned_data.items() if name.startswith("p_") and value is not None
        }


class AllotmentUploadForm(forms.Form):
    file = forms.FileField(label="额度文件（CSV/XLSX，列：省份、额度（万元））")


class EmergencyForm(forms.Form):
    province = forms.ModelChoiceField(label="就医省", queryset=Region.objects.none())
    amount = forms.IntegerField(label="国家医保局核定的调增额度（万元）", min_value=1)
    stamp_date = forms.DateField(label="签章日期", initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, provinces=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].queryset = provinces if provinces is not None else Region.objects.provinces().exclude(code=HOME_PROVINCE)

    def clean_stamp_date(self):
        return working_stamp_date(self.cleaned_data.get("stamp_date"))
