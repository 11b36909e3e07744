from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.idcard import normalize_id_number, parse_id_number
from core.models import Institution, InsuranceType, Region
from core.search import list_search
from core.validators import MAX_CLAIM_AMOUNT, validate_plain_text
from reimbursement.formatting import mask_bank_account
from reimbursement.models import (
    AdjustmentSituation,
    CareType,
    Claim,
    ClaimNotice,
    HospitalLevel,
    OtherAllowedCase,
    SettlementFailure,
    Situation,
)
from reimbursement.services import ClaimDetails

MONEY_WIDGET = forms.NumberInput(attrs={"step": "0.01", "min": "0", "class": "text-end", "inputmode": "decimal"})
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


TOO_LARGE = f"金额过大：单笔零星报销不能超过 {MAX_CLAIM_AMOUNT:,} 元，请核对。"


def money_field(label: str, required: bool = True, initial=None) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=len(str(MAX_CLAIM_AMOUNT).replace(".", "")),
        decimal_places=2,
        min_value=Decimal("0"),
        required=required,
        initial=initial,
        widget=MONEY_WIDGET,
        error_messages={
            "max_decimal_places": "最多保留两位小数（到分）。",
            "max_digits": TOO_LARGE,
            "max_whole_digits": TOO_LARGE,
            "min_value": "不能为负数。",
            "invalid": "请输入金额。",
        },
    )


class InstitutionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Institution) -> str:
        flag = "" if obj.designated or "非定点" in obj.name else "（非定点）"
        return f"{obj.region.short_name} · {obj.name}{flag}"


class ClaimDetailsForm(forms.Form):
    """What the counter records about the care and the fees (intake and correction)."""

    care_type = forms.ChoiceField(label="费用类型", choices=CareType.choices, widget=forms.RadioSelect, initial=CareType.INPATIENT)
    rescue = forms.BooleanField(label="抢救", required=False)
    patient_deceased = forms.BooleanField(label="患者已死亡（需死亡记录及死亡证明）", required=False)
    accidental_injury = forms.BooleanField(label="意外伤害", required=False)
    dual_channel_drugs = forms.BooleanField(label="“双通道”管理及单独支付药品", required=False)
    drugs_bought_outside = forms.BooleanField(label="外购药品", required=False)

    institution = InstitutionChoiceField(
        label="医疗机构",
        queryset=Institution.objects.filter(kind=Institution.Kind.HOSPITAL).select_related("region").order_by("region__sort_order", "name"),
        required=False,
        empty_label="（不在列表中：手工填写）",
    )
    institution_name = forms.CharField(label="医疗机构名称", max_length=100, required=False)
    treatment_region = forms.ModelChoiceField(label="就医地", queryset=Region.objects.all(), required=False)
    hospital_level = forms.ChoiceField(label="医院等级", choices=[("", "—")] + HospitalLevel.choices, required=False)
    designated = forms.BooleanField(label="定点医疗机构", required=False, initial=True)

    admission_date = forms.DateField(label="入院（就诊）日期", widget=DATE_WIDGET)
    discharge_date = forms.DateField(label="出院日期", widget=DATE_WIDGET, required=False, help_text="门诊、急诊不填。")
    hospital_number = forms.CharField(label="住院号", max_length=40, required=False)
    admission_method = forms.CharField(label="入院方式", max_length=20, required=False)
    department = forms.CharField(label="出院科室", max_length=40, required=False)
    main_diagnosis = forms.CharField(label="主要诊断", max_length=100, required=False)
    secondary_diagnosis = forms.CharField(label="次要诊断", max_length=100, required=False)
    invoice_numbers = forms.CharField(label="票据号码", max_length=400, help_text="多张票据用逗号或空格分隔。")

    total_amount = money_field("总费用")
    in_scope_amount = money_field("统筹基金支付范围内费用")
    class_b_self_pay = money_field("乙类先行自付费用", initial=Decimal("0.00"))
    over_limit_self_pay = money_field("超限价自付费用", initial=Decimal("0.00"))
    self_funded_amount = money_field("自费费用", initial=Decimal("0.00"))

    situation = forms.ChoiceField(label="报销情形", choices=Situation.choices)
    settlement_failure = forms.ChoiceField(
        label="未能直接结算的原因", choices=[("", "—")] + SettlementFailure.choices, required=False
    )
    settlement_failure_note = forms.CharField(label="原因说明", max_length=200, required=False)
    other_case = forms.ModelChoiceField(label="参保地规定的其他情形", queryset=OtherAllowedCase.objects.none(), required=False)

    payee_name = forms.CharField(label="收款人", max_length=50)
    bank_name = forms.CharField(label="开户银行", max_length=60)
    bank_account = forms.CharField(label="银行账号", max_length=40)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)

    def __init__(self, *args, region_code: str | None = None, current_account: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        cases = OtherAllowedCase.objects.filter(active=True)
        self.fields["other_case"].queryset = cases.filter(region_id=region_code) if region_code else cases
        self.current_account = current_account
        if current_account:
            # The account is never shown in full: leave the field empty to keep it.
            field = self.fields["bank_account"]
            field.required = False
            field.help_text = f"当前账号 {mask_bank_account(current_account)}；不修改请留空。"
            field.widget.attrs["placeholder"] = mask_bank_account(current_account)

    def clean(self):
        data = super().clean()
        if self.current_account and not (data.get("bank_account") or "").strip():
            data["bank_account"] = self.current_account
        if data.get("institution") is None:
            for name, label in (("institution_name", "医疗机构名称"), ("treatment_region", "就医地"), ("hospital_level", "医院等级")):
                if not data.get(name):
                    self.add_error(name, f"未从列表选择医疗机构时，请填写{label}。")
        if data.get("care_type") in (CareType.OUTPATIENT, CareType.EMERGENCY):
            data["discharge_date"] = data.get("admission_date")
        elif data.get("admission_date") and not data.get("discharge_date"):
            self.add_error("discharge_date", "住院、生育费用请填写出院日期。")
        return data

    def to_details(self) -> ClaimDetails:
        data = self.cleaned_data
        return ClaimDetails(
            care_type=data["care_type"],
            situation=data["situation"],
            admission_date=data["admission_date"],
            discharge_date=data["discharge_date"],
            invoice_numbers=data["invoice_numbers"],
            total_amount=data["total_amount"],
            in_scope_amount=data["in_scope_amount"],
            class_b_self_pay=data["class_b_self_pay"],
            over_limit_self_pay=data["over_limit_self_pay"],
            self_funded_amount=data["self_funded_amount"],
            payee_name=data["payee_name"],
            bank_name=data["bank_name"],
            bank_account=data["bank_account"],
            institution=data.get("institution"),
            institution_name=data.get("institution_name") or "",
            treatment_region=data.get("treatment_region"),
            hospital_level=data.get("hospital_level") or "",
            designated=bool(data.get("designated")),
            rescue=data["rescue"],
            accidental_injury=data["accidental_injury"],
            dual_channel_drugs=data["dual_channel_drugs"],
            drugs_bought_outside=data["drugs_bought_outside"],
            patient_deceased=data["patient_deceased"],
            settlement_failure=data.get("settlement_failure") or "",
            settlement_failure_note=data.get("settlement_failure_note") or "",
            other_case=data.get("other_case"),
            hospital_number=data.get("hospital_number") or "",
            admission_method=data.get("admission_method") or "",
            department=data.get("department") or "",
            main_diagnosis=data.get("main_diagnosis") or "",
            secondary_diagnosis=data.get("secondary_diagnosis") or "",
            phone=data.get("phone") or "",
        )

    @classmethod
    def initial_from_claim(cls, claim: Claim) -> dict:
        names = [name for name in cls.base_fields if hasattr(claim, name)]
        initial = {name: getattr(claim, name) for name in names}
        initial["institution"] = claim.institution_id
        initial["treatment_region"] = claim.treatment_region_id
        initial["other_case"] = claim.other_case_id
        initial["invoice_numbers"] = "，".join(claim.invoice_list)
        initial.pop("bank_account", None)
        return initial


class IntakeForm(ClaimDetailsForm):
    """Intake: the person, then the care, the fees and the materials."""

    id_number = forms.CharField(
        label="公民身份号码", max_length=20, widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"})
    )
    name = forms.CharField(label="姓名", max_length=50, help_text="已登记的参保人员输入身份证号后自动填入。")
    insurance_type = forms.ChoiceField(
        label="险种类型", choices=InsuranceType.choices, required=False, help_text="已登记的参保人员以登记信息为准。"
    )

    def clean_id_number(self):
        try:
            return parse_id_number(self.cleaned_data["id_number"]).number
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0]) from None

    def clean_name(self):
        name = self.cleaned_data["name"]
        validate_plain_text(name, "姓名")
        return name


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class DelayNoticeForm(forms.Form):
    reason = forms.CharField(label="不能按期办结的原因", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    expected_on = forms.DateField(label="预计办结日期", widget=DATE_WIDGET)
    method = forms.ChoiceField(label="告知方式", choices=ClaimNotice.Method.choices, initial=ClaimNotice.Method.PHONE)


class PaymentRecordForm(forms.Form):
    paid_on = forms.DateField(label="支付日期", widget=DATE_WIDGET, initial=timezone.localdate)
    reference = forms.CharField(label="支付凭证号", max_length=60, required=False)


class PaymentReturnForm(forms.Form):
    returned_on = forms.DateField(label="退票日期", widget=DATE_WIDGET, initial=timezone.localdate)
    reason = forms.CharField(label="退票原因", max_length=300, help_text="如：账户已销户、户名与账号不符")


class PayeeCorrectionForm(forms.Form):
    payee_name = forms.CharField(label="收款人", max_length=50)
    bank_name = forms.CharField(label="开户银行", max_length=60)
    bank_account = forms.CharField(label="银行账号", max_length=40, required=False, help_text="核对无误、不修改账号的请留空。")


class TrialForm(forms.Form):
    """试算: the steps of a calculation before anything is saved."""

    region = forms.ModelChoiceField(
        label="参保地（统筹区）",
        queryset=Region.objects.filter(benefit_policies__isnull=False).distinct().order_by("sort_order", "code"),
    )
    id_number = forms.CharField(
        label="参保人公民身份号码（可选）",
        max_length=20,
        required=False,
        help_text="填写后按其本年度已审批报销计算已用起付标准和限额；不填则按下面的“此前已用”计算。",
    )
    insurance_type = forms.ChoiceField(label="险种类型", choices=InsuranceType.choices)
    care_type = forms.ChoiceField(label="费用类型", choices=CareType.choices)
    treatment_region = forms.ModelChoiceField(label="就医地", queryset=Region.objects.all())
    hospital_level = forms.ChoiceField(label="医院等级", choices=HospitalLevel.choices, initial=HospitalLevel.LEVEL_3)
    designated = forms.BooleanField(label="定点医疗机构", required=False, initial=True)
    emergency = forms.BooleanField(label="急诊或抢救", required=False)
    adjustment_situation = forms.ChoiceField(label="人员情形", choices=AdjustmentSituation.choices)
    admission_date = forms.DateField(label="入院（就诊）日期", widget=DATE_WIDGET)
    discharge_date = forms.DateField(label="出院（就诊）日期", widget=DATE_WIDGET)
    total_amount = money_field("总费用")
    in_scope_amount = money_field("统筹基金支付范围内费用")
    class_b_self_pay = money_field("乙类先行自付费用", initial=Decimal("0.00"))
    over_limit_self_pay = money_field("超限价自付费用", initial=Decimal("0.00"))
    self_funded_amount = money_field("自费费用", initial=Decimal("0.00"))
    deductible_used_before = money_field("本年度此前已计入起付标准", required=False, initial=Decimal("0.00"))
    fund_used_before = money_field("本年度此前基金已支付", required=False, initial=Decimal("0.00"))

    def clean_id_number(self):
        value = self.cleaned_data.get("id_number") or ""
        if not value.strip():
            return ""
        return normalize_id_number(value)

    def clean(self):
        data = super().clean()
        if data.get("admission_date") and data.get("discharge_date") and data["discharge_date"] < data["admission_date"]:
            self.add_error("discharge_date", "出院日期不能早于入院日期。")
        return data


class ClaimFilter(django_filters.FilterSet):
    DEADLINE_CHOICES = [
        ("overdue", "已逾期"),
        ("due_today", "今日到期"),
        ("due_soon", "2个工作日内到期"),
        ("needs_notice", "临期未告知"),
        ("special", "特殊情况"),
        ("returned", "被退回"),
        ("payment_returned", "退票待更正账户"),
        ("payee_unverified", "更正账户待复核"),
    ]

    q = django_filters.CharFilter(label="查询", method="search", help_text="申请编号、姓名、身份证号（后4位即可）或票据号")
    status = django_filters.MultipleChoiceFilter(label="状态", choices=Claim.Status.choices)
    care_type = django_filters.ChoiceFilter(label="费用类型", choices=CareType.choices, empty_label="全部")
    situation = django_filters.ChoiceFilter(label="报销情形", choices=Situation.choices, empty_label="全部")
    deadline = django_filters.ChoiceFilter(label="期限", choices=DEADLINE_CHOICES, method="by_deadline", empty_label="全部")
    received_from = django_filters.DateFilter(label="申请日期从", field_name="received_on", lookup_expr="gte", widget=DATE_WIDGET)
    received_to = django_filters.DateFilter(label="至", field_name="received_on", lookup_expr="lte", widget=DATE_WIDGET)
    mine = django_filters.BooleanFilter(label="我受理的", method="only_mine", widget=forms.CheckboxInput)

    class Meta:
        model = Claim
        fields: list[str] = []

    def __init__(self, *args, window=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.window = window
        self.user = user

    def search(self, queryset, name, value):
        # Claim and invoice numbers have trigram indexes (migration 0010).
        return list_search(queryset, value, person="person", numbers=("number", "invoice_numbers"))

    def by_deadline(self, queryset, name, value):
        if value == "special":
            return queryset.filter(status__in=Claim.CLOCK_STATUSES, special=True)
        if value == "returned":
            return queryset.filter(status=Claim.Status.ACCEPTED).exclude(return_reason="")
        if value in ("payment_returned", "payee_unverified"):
            from django.db.models import Exists, OuterRef

            from reimbursement.models import PaymentReturn

            returns = PaymentReturn.objects.filter(claim=OuterRef("pk"))
            returns = returns.open() if value == "payment_returned" else returns.unverified()
            return queryset.filter(Exists(returns), status=Claim.Status.APPROVED)
        return queryset.filter(self.window.q(value))

    def only_mine(self, queryset, name, value):
        return queryset.filter(intake_by=self.user) if value else queryset

    #: Deadline filters whose rows are listed most urgent first, as on the deadlines page whose
    #: "see all" links lead here (read on the open claims' index by due date, claim_clock_due).
    BY_URGENCY = ("overdue", "due_today", "due_soon", "needs_notice")

    def ordering(self) -> tuple[str, ...]:
        """Newest intake first, or the earliest deadline first under a deadline filter."""
        if self.is_bound and self.form.is_valid() and self.form.cleaned_data.get("deadline") in self.BY_URGENCY:
            return ("due_on", "pk")
        return ("-intake_at", "-pk")


class PolicyFilterForm(forms.Form):
    region = forms.ModelChoiceField(
        label="统筹区", queryset=Region.objects.filter(benefit_policies__isnull=False).distinct(), required=False
    )


__all__ = [
    "ClaimDetailsForm",
    "ClaimFilter",
    "DelayNoticeForm",
    "IntakeForm",
    "PayeeCorrectionForm",
    "PaymentRecordForm",
    "PaymentReturnForm",
    "PolicyFilterForm",
    "ReasonForm",
    "TrialForm",
]
