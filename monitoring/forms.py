from __future__ import annotations

from decimal import Decimal

from django import forms

from monitoring.models import Direction, Indicator


class ThresholdForm(forms.Form):
    indicator = forms.ChoiceField(label="指标", choices=Indicator.choices)
    direction = forms.ChoiceField(label="方向", choices=Direction.choices, initial=Direction.BOTH)
    value = forms.DecimalField(label="预警值", max_digits=10, decimal_places=2, min_value=Decimal("0"),
                               help_text="百分比指标填百分数（20 表示 20%）；可支付月数填月数。")
    active = forms.BooleanField(label="启用", required=False, initial=True)
    note = forms.CharField(label="说明", max_length=200, required=False)


class FundBalanceForm(forms.Form):
    period = forms.RegexField(label="截至月份", regex=r"^\d{4}-(0[1-9]|1[0-2])$", max_length=7,
                              error_messages={"invalid": "月份格式为 YYYY-MM，如 2026-03。"},
                              widget=forms.TextInput(attrs={"type": "month"}))
    balance = forms.DecimalField(label="基金累计结余（元）", max_digits=18, decimal_places=2, min_value=Decimal("0"))
    monthly_expenditure = forms.DecimalField(label="月均基金支出（元）", max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    note = forms.CharField(label="说明", max_length=200, required=False)


class ReportForm(forms.Form):
    period = forms.CharField(label="所属期", max_length=7, help_text="月份 YYYY-MM，或季度 YYYYQn（如 2026Q1）")
