"""Forms of the filing screens. They collect input; the rules live in services."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core import safe_files
from core.idcard import parse_id_number
from core.models import Institution, InsuranceType, InsuredPerson, Region
from core.reference import home_province_code
from filings import materials as checklist
from filings.models import (
    LONG_TERM_TYPES,
    Filing,
    FilingRegionSettings,
    PersonGroup,
    PersonType,
    SettlementState,
    destination_label,
)
from filings.services import (
    EARLIEST_DAY,
    LATEST_DAY,
    FilingData,
    PersonData,
    date_out_of_range,
    foreign_person_message,
    minimum_end_date,
    settings_for,
)

DATE_WIDGET = forms.DateInput(
    attrs={"type": "date", "class": "form-control", "min": f"{EARLIEST_DAY:%Y-%m-%d}", "max": f"{LATEST_DAY:%Y-%m-%d}"},
    format="%Y-%m-%d",
)


class BoundedDateField(forms.DateField):
    """A date a filing can plausibly carry: a mistyped year (9999) is an error, not a crash."""

    def validate(self, value):
        super().validate(value)
        problem = date_out_of_range(self.label, value)
        if problem:
            raise ValidationError(problem)


def destination_choices(exclude_code: str | None = None) -> list:
    """Regions grouped the way a clerk looks for them; the insured region left out."""
    regions = list(Region.objects.order_by("sort_order", "code"))
    home_cities, provinces, other_cities = [], [], []
    for region in regions:
        if region.code == exclude_code:
            continue
        if region.is_province:
            if region.code == home_province_code():
                continue
            provinces.append((region.code, destination_label(region)))
        elif region.parent_id == home_province_code():
            home_cities.append((region.code, region.name))
        else:
            other_cities.append((region.code, f"{region.name}（{region.parent.short_name if region.parent else ''}）"))
    return [("", "请选择就医地"), ("省内地市", home_cities), ("外省（整省/直辖市）", provinces), ("外省地市", other_cities)]


class RegionChoiceField(forms.ChoiceField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        region = Region.objects.filter(code=value).select_related("parent").first()
        if region is None:
            raise ValidationError("请选择有效的就医地。")
        return region

    def valid_value(self, value):
        return True


def _bs(form: forms.Form) -> None:
    """Bootstrap classes on every widget."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
            continue
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class FilingForm(forms.Form):
    """The one-screen counter form: the person (found or registered by ID number) and the filing."""

    id_number = forms.CharField(
        label="公民身份号码", max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True, "placeholder": "18位身份证号，回车查找"}),
    )
    name = forms.CharField(label="姓名", max_length=50)
    insurance_type = forms.ChoiceField(
        label="险种类型", choices=InsuranceType.choices, initial=InsuranceType.EMPLOYEE,
        error_messages={"invalid_choice": "险种类型“%(value)s”无效，应为职工（310）或城乡居民（390）。"},
    )
    phone = forms.CharField(label="联系电话1", max_length=30)
    phone_alt = forms.CharField(label="联系电话2", max_length=30, required=False)

    person_type = forms.ChoiceField(
        label="人员类别", choices=PersonType.choices, widget=forms.RadioSelect,
        error_messages={"invalid_choice": "人员类别“%(value)s”无效，请重新选择。", "required": "请选择人员类别。"},
    )
    destination = RegionChoiceField(label="就医地")
    start_date = BoundedDateField(label="开始日期", widget=DATE_WIDGET)
    end_date = BoundedDateField(label="结束日期", widget=DATE_WIDGET, required=False)
    contact_address = forms.CharField(label="就医地联系地址", max_length=200, required=False)
    materials = forms.MultipleChoiceField(
        label="已收材料", choices=list(checklist.MATERIALS.items()), required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "材料“%(value)s”不在材料清单中，请在清单中勾选。"},
    )
    referring_institution = forms.ModelChoiceField(
        label="转出医疗机构（开具转诊转院证明）", queryset=Institution.objects.none(), required=False,
        empty_label="请选择参保地定点医疗机构",
    )
    diagnosis = forms.CharField(label="诊断/转诊原因", max_length=200, required=False)

    by_proxy = forms.BooleanField(label="代办（由他人代为办理）", required=False)
    proxy_name = forms.CharField(label="代办人姓名", max_length=50, required=False)
    proxy_id_number = forms.CharField(label="代办人身份证号", max_length=24, required=False)
    proxy_phone = forms.CharField(label="代办人联系电话", max_length=30, required=False)
    proxy_relation = forms.CharField(label="与参保人关系", max_length=20, required=False)

    retroactive = forms.BooleanField(label="补办备案（就医已经发生）", required=False)
    admission_date = BoundedDateField(label="入院（就诊）日期", widget=DATE_WIDGET, required=False)
    treatment_institution = forms.CharField(label="就医机构", max_length=100, required=False)
    settlement_state = forms.ChoiceField(
        label="出院结算情况", choices=[("", "请选择"), *SettlementState.choices], required=False
    )
    discharge_date = BoundedDateField(label="出院日期", widget=DATE_WIDGET, required=False)
    remarks = forms.CharField(label="备注", max_length=300, required=False)

    PERSON_FIELDS = ("id_number", "name", "insurance_type", "phone", "phone_alt")

    def __init__(self, *args, user, region: Region, hospital: Institution | None = None, person=None,
                 change_of: Filing | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.region = region
        self.hospital = hospital
        self.person = person
        self.change_of = change_of
        self.foreign_person = False
        self.fields["destination"].choices = destination_choices(exclude_code=region.code)
        self.fields["referring_institution"].queryset = Institution.objects.filter(
            region=region, kind=Institution.Kind.HOSPITAL, designated=True, can_refer=True
        )
        self.fields["start_date"].initial = timezone.localdate()
        if person is not None:  # change or draft edit: the person is fixed
            for name in self.PERSON_FIELDS:
                self.fields[name].required = False
                self.fields[name].disabled = True
            self.fields["id_number"].initial = person.id_number
            self.fields["name"].initial = person.name
            self.fields["insurance_type"].initial = person.insurance_type
            self.fields["phone"].initial = person.phone
            self.fields["phone_alt"].initial = person.phone_alt
        if hospital is not None:
            self.fields["person_type"].choices = [(PersonType.REFERRAL, PersonType.REFERRAL.label)]
            self.fields["person_type"].error_messages["invalid_choice"] = "医疗机构只能办理异地转诊备案。"
            self.fields["person_type"].initial = PersonType.REFERRAL
            self.fields["referring_institution"].queryset = Institution.objects.filter(pk=hospital.pk)
            self.fields["referring_institution"].initial = hospital.pk
            for name in ("retroactive", "admission_date", "treatment_institution", "settlement_state", "discharge_date"):
                del self.fields[name]
        if change_of is not None:
            for name in ("retroactive", "admission_date", "treatment_institution", "settlement_state", "discharge_date"):
                self.fields.pop(name, None)
            self.fields["change_reason"] = forms.CharField(label="变更原因", max_length=300)
            self.order_fields(["change_reason"])
        _bs(self)
        self.fields["id_number"].widget.attrs["class"] += " font-monospace"

    # -- Reading the form ------------------------------------------------------------

    def clean_id_number(self):
        if self.person is not None:
            return self.person.id_number
        value = self.cleaned_data.get("id_number", "")
        try:
            number = parse_id_number(value).number
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None
        if not self.user.sees_all_regions:
            insured_in = (
                InsuredPerson.objects.with_id_number(number).values_list("insured_region_id", flat=True).first()
            )
            if insured_in is not None and insured_in != self.region.code:
                # Checked before anything else: no name comparison, no "new person" fields.
                self.foreign_person = True
                raise ValidationError(foreign_person_message(self.region))
        return number

    def clean_proxy_id_number(self):
        value = (self.cleaned_data.get("proxy_id_number") or "").strip()
        if not value or not self.data.get(self.add_prefix("by_proxy")):
            return value
        try:
            return parse_id_number(value).number
        except ValidationError as exc:
            raise ValidationError(f"代办人{exc.messages[0]}") from None

    def clean(self):
        cleaned = super().clean()
        if self.foreign_person:
            # Only the "not of this region" error: the person's fields are not asked for.
            for name in ("name", "insurance_type", "phone", "phone_alt"):
                self._errors.pop(name, None)
        if cleaned.get("by_proxy"):
            for name, label in (("proxy_name", "代办人姓名"), ("proxy_id_number", "代办人身份证号"),
                                ("proxy_phone", "代办人联系电话")):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, f"代办的，请填写{label}。")
        return cleaned

    def filing_data(self) -> FilingData:
        data = self.cleaned_data
        referring = data.get("referring_institution")
        if self.hospital is not None:
            referring = self.hospital
        materials = list(data.get("materials") or [])
        if self.hospital is not None and "referral_certificate" not in materials:
            materials.append("referral_certificate")  # the hospital issues the certificate itself
        return FilingData(
            person_type=data["person_type"],
            destination=data["destination"],
            start_date=data["start_date"],
            end_date=data.get("end_date"),
            materials=materials,
            by_proxy=bool(data.get("by_proxy")),
            proxy_name=data.get("proxy_name", ""),
            proxy_id_number=data.get("proxy_id_number", ""),
            proxy_phone=data.get("proxy_phone", ""),
            proxy_relation=data.get("proxy_relation", ""),
            referring_institution=referring if data["person_type"] == PersonType.REFERRAL else None,
            diagnosis=data.get("diagnosis", ""),
            contact_address=data.get("contact_address", ""),
            retroactive=bool(data.get("retroactive")),
            admission_date=data.get("admission_date"),
            treatment_institution=data.get("treatment_institution", ""),
            settlement_state=data.get("settlement_state", ""),
            discharge_date=data.get("discharge_date"),
            remarks=data.get("remarks", ""),
        )

    def person_data(self) -> PersonData:
        data = self.cleaned_data
        return PersonData(
            id_number=data["id_number"],
            name=data["name"],
            insurance_type=data["insurance_type"],
            insured_region=self.region,
            phone=data.get("phone", ""),
            phone_alt=data.get("phone_alt", ""),
        )

    def field_error_list(self) -> list[str]:
        """“字段：错误” for every field error, for the summary at the top of the form
        (some fields are hidden or far down the page)."""
        items = []
        for name, errors in self.errors.items():
            if name == "__all__":
                continue
            label = self.fields[name].label if name in self.fields else name
            items.extend(f"{label}：{error}" for error in errors)
        return items

    def add_domain_error(self, message: str) -> None:
        for line in message.splitlines():
            if line.strip():
                self.add_error(None, line.strip())

    # -- What the checklist partial shows ---------------------------------------------

    def current(self, name: str, default=""):
        if self.is_bound:
            if name in ("materials",):
                return self.data.getlist(self.add_prefix(name))
            return self.data.get(self.add_prefix(name), default)
        value = self.initial.get(name, self.fields[name].initial if name in self.fields else default)
        return default if value is None else value

    @classmethod
    def initial_from_filing(cls, filing: Filing, *, for_change: bool = False) -> dict:
        initial = {
            name: getattr(filing, name)
            for name in ("person_type", "start_date", "end_date", "contact_address", "diagnosis", "by_proxy",
                         "proxy_name", "proxy_id_number", "proxy_phone", "proxy_relation", "retroactive",
                         "admission_date", "treatment_institution", "settlement_state", "discharge_date", "remarks")
        }
        initial["destination"] = filing.destination_id
        initial["referring_institution"] = filing.referring_institution_id
        initial["materials"] = list(filing.materials)
        if for_change:
            initial["start_date"] = timezone.localdate()
            initial["end_date"] = filing.end_date if filing.end_date and filing.end_date > timezone.localdate() else None
            initial["by_proxy"] = False
            for name in ("proxy_name", "proxy_id_number", "proxy_phone", "proxy_relation"):
                initial[name] = ""
        return initial


def checklist_context(form: FilingForm) -> dict:
    """The materials checklist and type-specific hints for the current person type."""
    person_type = form.current("person_type") or ""
    by_proxy = str(form.current("by_proxy", "")).lower() in ("on", "true", "1")
    provided = list(form.current("materials") or [])
    if form.hospital is not None and "referral_certificate" not in provided:
        provided.append("referral_certificate")  # the hospital issues it itself
    if person_type not in PersonType.values:
        return {"person_type": None}
    lists = checklist.material_rules(form.region)  # the insured region's: the person is the form region's
    result = checklist.evaluate(person_type, provided, by_proxy=by_proxy, rules=lists)
    region_settings = settings_for(form.region)
    rows = []
    for state in result.states:
        options = []
        for option in state.requirement.options:
            options.append(
                {
                    "materials": [(code, checklist.MATERIALS[code], code in result.provided) for code in option],
                    "met": state.met_by == option,
                    "is_commitment": option == (checklist.COMMITMENT_LETTER,),
                }
            )
        rows.append({"state": state, "options": options})
    start = form.current("start_date") or ""
    earliest_end = None
    if person_type not in LONG_TERM_TYPES:
        try:
            from datetime import date

            start_day = date.fromisoformat(str(start)) if start else timezone.localdate()
            if not date_out_of_range("", start_day):
                earliest_end = minimum_end_date(start_day, region_settings.temporary_min_months)
        except (ValueError, OverflowError):
            earliest_end = None
    group = PersonType(person_type).group
    return {
        "person_type": PersonType(person_type),
        "group": group,
        "is_long_term": group == PersonGroup.LONG_TERM,
        "rows": rows,
        "result": result,
        "by_commitment": result.basis == "commitment",
        "earliest_end": earliest_end,
        "settings": region_settings,
        "is_referral": person_type == PersonType.REFERRAL,
        "is_emergency": person_type == PersonType.EMERGENCY,
        "lists": lists,
    }


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=300, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, label: str = "原因", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        _bs(self)


class MaterialsForm(forms.Form):
    materials = forms.MultipleChoiceField(label="补交的证明材料", widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, filing: Filing, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = [
            code
            for code in checklist.allowed_materials(
                filing.person_type, by_proxy=filing.by_proxy, rules=checklist.rules_of(filing)
            )
            if code != checklist.COMMITMENT_LETTER and code not in filing.materials
        ]
        self.fields["materials"].choices = [(code, checklist.MATERIALS[code]) for code in allowed]


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label="审核结论", choices=[("approve", "通过"), ("reject", "驳回")],
                                 widget=forms.RadioSelect)
    materials = forms.MultipleChoiceField(label="核验通过的材料", required=False, widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label="审核意见（驳回时必填，将告知申请人）", max_length=300, required=False,
                           widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}))

    def __init__(self, *args, filing: Filing, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = checklist.allowed_materials(
            filing.person_type, by_proxy=filing.by_proxy, rules=checklist.rules_of(filing)
        )
        self.fields["materials"].choices = [(code, checklist.MATERIALS[code]) for code in allowed]
        self.fields["materials"].initial = list(filing.materials)


class ImportForm(forms.Form):
    file = forms.FileField(label="线上申请文件（CSV 或 XLSX）",
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx", "class": "form-control"}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".csv", ".xlsx")):
            raise ValidationError("请上传 .csv 或 .xlsx 文件。")
        safe_files.check_upload_size(upload, safe_files.SMALL_TABLE)
        return upload


class UploadExportForm(forms.Form):
    file_format = forms.ChoiceField(
        label="文件格式", choices=[("xlsx", "Excel（XLSX，推荐）"), ("csv", "CSV（UTF-8 文本）")], initial="xlsx",
        widget=forms.Select(attrs={"class": "form-select"}),
        help_text="XLSX 中身份证号、地区代码、电话均为文本格式，用 Excel/WPS 打开不会变形。"
                  "CSV 供能直接读取文本文件的系统使用：用 Excel 双击打开会把18位身份证号显示成科学计数法，请勿打开后另存再上传。",
    )


class RegionSettingsForm(forms.ModelForm):
    class Meta:
        model = FilingRegionSettings
        fields = [
            "commitment_materials_months", "commitment_lock_months", "materials_lock_months", "temporary_min_months",
            "retroactive_max_days",
            "review_working_days",
            "commitment_notice_extra",
        ]
        widgets = {"commitment_notice_extra": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["materials_lock_months"].required = False  # 0: any time (the usual rule)
        _bs(self)

    def clean_materials_lock_months(self):
        return self.cleaned_data.get("materials_lock_months") or 0

    def clean(self):
        """The materials lock within the province's rules (core.jurisdictions), refused with the article.
        (The commitment lock and the temporary validity keep the field limits of 6 months, the same in every
        province's rules so far.)"""
        from core.jurisdictions import rules_for

        data = super().clean()
        rules = rules_for(self.instance.region_id)
        value = data.get("materials_lock_months")
        if value and value > rules.materials_lock_months_max:
            most = rules.materials_lock_months_max
            limit = "随时可以变更或取消" if most == 0 else f"最多{most}个月"
            self.add_error("materials_lock_months", f"本省规定{limit}（{rules.cite('materials_lock')}）。")
        return data
