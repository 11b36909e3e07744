"""Forms and list filters of 业务协同. Forms only shape input; the services decide."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q

from cooperation.models import AssistRequest, Coordination
from core.idcard import id_number_hash
from core.jurisdictions import rules_for
from core.models import Agency, Region, Sex

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SMALL_SELECT = forms.Select(attrs={"class": "form-select form-select-sm"})
SMALL_TEXT = forms.TextInput(attrs={"class": "form-control form-control-sm"})


def regions_for_assist(user):
    """Every city and province except the user's own region."""
    return Region.objects.exclude(code=user.region_code or "").order_by("sort_order", "code")


class AssistForm(forms.Form):
    treatment_region = forms.ModelChoiceField(label="就医地（协查方）", queryset=Region.objects.none(),
                                              empty_label="请选择就医地")
    id_number = forms.CharField(label="身份证号码", max_length=18)
    name = forms.CharField(label="姓名", max_length=50)
    sex = forms.ChoiceField(label="性别", choices=[("", "请选择"), *Sex.choices])
    institution_name = forms.CharField(label="医疗服务机构名称", max_length=200)
    hospital_number = forms.CharField(label="住院号", max_length=40)
    invoice_number = forms.CharField(label="发票号码", max_length=200)
    admission_date = forms.DateField(label="入院日期", widget=DATE)
    discharge_date = forms.DateField(label="出院日期", widget=DATE)
    total_amount = forms.DecimalField(label="费用总额（元）", max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    concern = forms.CharField(label="疑点说明", widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              help_text="疑似违规之处，便于就医地有针对性地核查。")
    settlement_id = forms.CharField(widget=forms.HiddenInput, required=False)
    claim = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["treatment_region"].queryset = regions_for_assist(user)


class AnswerForm(forms.Form):
    result = forms.ChoiceField(label="协查结果", choices=AssistRequest.Result.choices, widget=forms.RadioSelect)
    finding = forms.CharField(label="核查有误的具体原因", widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              help_text="选择“核查有误”时必须填写。")
    irregular_amount = forms.DecimalField(label="涉及违规费用（元）", max_digits=14, decimal_places=2, required=False,
                                          min_value=Decimal("0"))
    note = forms.CharField(label="协查说明", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean(self):
        data = super().clean()
        if data.get("result") == AssistRequest.Result.HAS_ISSUE and not (data.get("finding") or "").strip():
            self.add_error("finding", f"选择“核查有误”须填写具体原因方能上传结果{rules_for(None).cited('audit_assist')}。")
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因/说明", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class CoordinationForm(forms.Form):
    receiver = forms.ModelChoiceField(label="待协同机构", queryset=Agency.objects.none(), empty_label="请选择经办机构")
    kind = forms.ChoiceField(label="问题类型", choices=[("", "请选择"), *Coordination.Kind.choices],
                             help_text="备案类2个工作日内回复，系统故障类1个工作日，其他最长10个工作日。")
    subject = forms.CharField(label="主要协同事项", max_length=200)
    description = forms.CharField(label="问题描述", widget=forms.Textarea(attrs={"rows": 4}), required=False)
    person_id_number = forms.CharField(label="参保人员身份证号码", max_length=18, required=False,
                                       help_text="针对特定参保人员的问题须填写。")
    person_name = forms.CharField(label="参保人员姓名", max_length=50, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiver"].queryset = (
            Agency.objects.exclude(pk=getattr(user, "agency_id", None)).select_related("region")
            .order_by("region__sort_order", "region__code")
        )


class NoteForm(forms.Form):
    text = forms.CharField(label="处理情况", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class HelperForm(forms.Form):
    agency = forms.ModelChoiceField(label="协助机构", queryset=Agency.objects.none(), empty_label="请选择经办机构")
    task = forms.CharField(label="需协助的事项", max_length=200)

    def __init__(self, *args, coordination=None, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = Agency.objects.order_by("region__sort_order", "region__code")
        if coordination is not None:
            queryset = queryset.exclude(pk__in=[coordination.requester_id, coordination.receiver_id])
        self.fields["agency"].queryset = queryset


class ExtendForm(forms.Form):
    new_due = forms.DateField(label="新的回复期限", widget=DATE)
    reason = forms.CharField(label="延长原因（已与申请地沟通）", max_length=300)


class ReplyForm(forms.Form):
    reply = forms.CharField(label="处理结果", widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)


class ImportForm(forms.Form):
    file = forms.FileField(label="国家系统返回的协查结果（XLSX 或 CSV）")


# --- List filters (django-filter) -----------------------------------------------------------------

FLAG_CHOICES = [("overdue", "已逾期"), ("due_soon", "2个工作日内到期")]


class AssistFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="搜索", method="filter_q", widget=SMALL_TEXT,
                                  help_text="协查编号、身份证号、姓名、医疗机构或住院号")
    side = django_filters.ChoiceFilter(
        label="我方角色", method="filter_side", empty_label="全部", widget=SMALL_SELECT,
        choices=[("raised", "我方发起（参保地）"), ("to_answer", "待我方核查（就医地）"), ("to_confirm", "待我方确认")],
    )
    status = django_filters.ChoiceFilter(label="状态", choices=AssistRequest.Status.choices, empty_label="全部状态",
                                         widget=SMALL_SELECT)
    result = django_filters.ChoiceFilter(label="结果", choices=AssistRequest.Result.choices, empty_label="全部结果",
                                         widget=SMALL_SELECT)
    flag = django_filters.ChoiceFilter(label="期限", choices=[*FLAG_CHOICES, ("late", "曾延期")], method="filter_flag",
                                       empty_label="全部", widget=SMALL_SELECT)
    period = django_filters.CharFilter(label="统计所属期", widget=forms.TextInput(
        attrs={"class": "form-control form-control-sm", "placeholder": "YYYY-MM"}))
    cross_province = django_filters.ChoiceFilter(label="范围", choices=[("yes", "跨省"), ("no", "省内")],
                                                 method="filter_cross_province", empty_label="全部", widget=SMALL_SELECT)
    exported = django_filters.ChoiceFilter(label="国家系统", method="filter_exported", empty_label="全部",
                                           choices=[("no", "跨省未导出"), ("yes", "跨省已导出")], widget=SMALL_SELECT)

    class Meta:
        model = AssistRequest
        fields: list[str] = []

    def __init__(self, *args, user=None, window=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.window = window

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value) | Q(id_number_hash=id_number_hash(value)) | Q(name__icontains=value)
            | Q(institution_name__icontains=value) | Q(hospital_number=value) | Q(settlement_id=value)
        )

    def filter_side(self, queryset, name, value):
        region = self.user.region_code
        if value == "raised":
            return queryset.filter(insured_region_id=region)
        if value == "to_answer":
            return queryset.filter(treatment_region_id=region, status__in=AssistRequest.ANSWER_STATUSES,
                                   cross_province=False)
        if value == "to_confirm":
            return queryset.filter(insured_region_id=region, status=AssistRequest.Status.ANSWERED)
        return queryset

    def filter_flag(self, queryset, name, value):
        from cooperation.selectors import assist_flag_filter

        return assist_flag_filter(queryset, value, self.window)

    def filter_cross_province(self, queryset, name, value):
        return queryset.filter(cross_province=(value == "yes"))

    def filter_exported(self, queryset, name, value):
        queryset = queryset.filter(cross_province=True)
        return queryset.filter(exported_at__isnull=(value == "no"))


class CoordinationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="搜索", method="filter_q", widget=SMALL_TEXT,
                                  help_text="协同编号、事项、身份证号或姓名")
    side = django_filters.ChoiceFilter(
        label="我方角色", method="filter_side", empty_label="全部", widget=SMALL_SELECT,
        choices=[("raised", "我方发起"), ("to_reply", "待我方回复"), ("to_confirm", "待我方确认"), ("helping", "请我方协助")],
    )
    status = django_filters.ChoiceFilter(label="状态", choices=Coordination.Status.choices, empty_label="全部状态",
                                         widget=SMALL_SELECT)
    kind = django_filters.ChoiceFilter(label="问题类型", choices=Coordination.Kind.choices, empty_label="全部类型",
                                       widget=SMALL_SELECT)
    flag = django_filters.ChoiceFilter(label="期限", choices=FLAG_CHOICES, method="filter_flag", empty_label="全部",
                                       widget=SMALL_SELECT)
    received_from = django_filters.DateFilter(label="接收日期从", field_name="received_on", lookup_expr="gte",
                                              widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}))
    received_to = django_filters.DateFilter(label="至", field_name="received_on", lookup_expr="lte",
                                            widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}))

    class Meta:
        model = Coordination
        fields: list[str] = []

    def __init__(self, *args, user=None, window=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.window = window

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value) | Q(subject__icontains=value) | Q(person_id_number_hash=id_number_hash(value))
            | Q(person_name__icontains=value)
        )

    def filter_side(self, queryset, name, value):
        agency = self.user.agency_id
        if value == "raised":
            return queryset.filter(requester_id=agency)
        if value == "to_reply":
            return queryset.filter(receiver_id=agency, status=Coordination.Status.OPEN)
        if value == "to_confirm":
            return queryset.filter(requester_id=agency, status=Coordination.Status.REPLIED)
        if value == "helping":
            from cooperation.models import CoordinationHelper

            helped = CoordinationHelper.objects.filter(agency_id=agency).values("coordination_id")
            return queryset.filter(pk__in=helped)
        return queryset

    def filter_flag(self, queryset, name, value):
        from cooperation.selectors import coordination_flag_filter

        return coordination_flag_filter(queryset, value, self.window)


class AssistDeductionForm(forms.Form):
    """违规费用扣款 from a confirmed 核查有误 result (第五十三条); the service checks the amount."""

    amount = forms.DecimalField(label="扣款金额（元）", max_digits=14, decimal_places=2,
                                help_text="不超过该次住院的费用总额；计入下一个尚未下达通知书的清算月。")
    insurance_type = forms.ChoiceField(label="险种类型", required=False,
                                       choices=[("", "请选择"), ("310", "职工（310）"), ("390", "城乡居民（390）")])

    def __init__(self, *args, assist: AssistRequest | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if assist is not None and assist.settlement_id:
            # The settlement's own 险种 is used; the field is not asked.
            del self.fields["insurance_type"]
