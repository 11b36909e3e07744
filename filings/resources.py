"""django-import-export resources: online applications in, provincial upload out.

The import goes through the same services as the counter: each row finds or
registers the person and submits an online application (`filing_submit_online`).
A dry run shows the preview (the services run inside a transaction that is
rolled back); the confirmed run imports the valid rows and skips the rest.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from import_export import fields, resources
from import_export.formats import base_formats

from core import safe_files
from core.errors import DomainError
from core.idcard import parse_id_number
from core.models import Institution, InsuranceType, InsuredPerson, Region
from core.services import insured_person_upsert
from filings import materials as checklist
from filings.models import Filing, PersonType, UploadAction
from filings.services import FilingData, filing_submit_online, foreign_person_message, province_known

# Column headers of the online-application file (the template offers them in this order).
IMPORT_COLUMNS: list[tuple[str, str, bool]] = [
    ("申请流水号", "线上平台的申请编号，同一编号只导入一次", True),
    ("申请日期", "YYYY-MM-DD", True),
    ("公民身份号码", "18位", True),
    ("姓名", "", True),
    ("险种类型", "职工 / 城乡居民（或 310 / 390）；已登记人员可不填", False),
    ("联系电话", "", False),
    ("人员类别", "异地安置退休人员、异地长期居住人员、常驻异地工作人员、异地转诊人员、其他临时外出就医人员"
     "（异地急诊抢救人员视同已备案，无需申请）", True),
    ("就医地", "地区代码（如 110000、320500）或名称（如 北京市）", True),
    ("开始日期", "YYYY-MM-DD", True),
    ("结束日期", "临时外出就医可填，不填则按最短有效期；长期居住不填", False),
    ("材料", "已上传材料名称，多个用“、”或“;”分隔", False),
    ("转出医疗机构", "异地转诊人员填写开具转诊证明的医院名称或编码", False),
    ("就医地联系地址", "", False),
    ("代办人姓名", "", False),
    ("代办人身份证号", "", False),
    ("代办人电话", "", False),
    ("代办人关系", "", False),
]

_SPLIT = re.compile(r"[;；、,，|/\n]+")


def _text(row: dict, column: str) -> str:
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(row: dict, column: str, errors: dict, *, required: bool) -> date | None:
    value = row.get(column)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(row, column)
    if not text:
        if required:
            errors[column] = f"请填写{column}。"
        return None
    try:
        return date.fromisoformat(text.replace("/", "-").replace(".", "-"))
    except ValueError:
        errors[column] = f"{column}“{text}”无效，应为 YYYY-MM-DD。"
        return None


def _person_type(text: str) -> str | None:
    for choice in PersonType:
        if text in (choice.value, choice.label):
            return choice.value
    return None


def _region(text: str) -> Region | None:
    if re.fullmatch(r"\d{6}", text):
        return Region.objects.filter(code=text).first()
    return Region.objects.filter(name=text).first() or Region.objects.filter(short_name=text).first()


def _materials(text: str, errors: dict) -> list[str]:
    by_label = {label: code for code, label in checklist.MATERIALS.items()}
    by_label.update({"身份证": "id_card", "居民身份证": "id_card", "社保卡": "social_security_card",
                     "个人承诺书": checklist.COMMITMENT_LETTER, "承诺书": checklist.COMMITMENT_LETTER,
                     "常住人口登记卡": "residence_registration_card", "转诊转院证明": "referral_certificate",
                     "代办人身份证": "proxy_id_proof"})
    codes, unknown = [], []
    for item in filter(None, (part.strip() for part in _SPLIT.split(text))):
        code = item if item in checklist.MATERIALS else by_label.get(item)
        if code is None:
            unknown.append(item)
        elif code not in codes:
            codes.append(code)
    if unknown:
        errors["材料"] = f"无法识别的材料：{'、'.join(unknown)}。"
    return codes


def _insurance_type(text: str) -> str:
    mapping = {"310": "310", "职工": "310", "职工基本医疗保险": "310", "职工医保": "310",
               "390": "390", "城乡居民": "390", "城乡居民基本医疗保险": "390", "居民医保": "390"}
    return mapping.get(text, "")


class OnlineApplicationResource(resources.ModelResource):
    """One row = one online 不见面 application; imported as "awaiting review"."""

    online_reference = fields.Field(attribute="online_reference", column_name="申请流水号")
    number = fields.Field(attribute="number", column_name="备案编号", readonly=True)

    class Meta:
        model = Filing
        fields = ("online_reference", "number")
        import_id_fields = ("online_reference",)
        clean_model_instances = False
        skip_diff = True
        report_skipped = True
        use_transactions = True
        store_row_values = True

    def __init__(self, *, by, today: date | None = None):
        super().__init__()
        self.by = by
        self.today = today or timezone.localdate()

    def get_queryset(self):
        return Filing.objects.all()

    def before_import(self, dataset, **kwargs):
        """Number the rows as the spreadsheet does and find references used twice in the file."""
        self.source_rows = list(getattr(dataset, "source_rows", None) or range(2, len(dataset) + 2))
        seen: dict[str, list[int]] = {}
        for number, values in zip(self.source_rows, dataset, strict=False):
            reference = _text(dict(zip(dataset.headers, values, strict=False)), "申请流水号")
            if reference:
                seen.setdefault(reference, []).append(number)
        self.duplicates = {reference: numbers for reference, numbers in seen.items() if len(numbers) > 1}

    def spreadsheet_row(self, index: int) -> int:
        """The spreadsheet's row number of the dataset's `index`-th row (1-based)."""
        rows = getattr(self, "source_rows", None) or []
        return rows[index - 1] if 0 < index <= len(rows) else index + 1

    def skip_row(self, instance, original, row, import_validation_errors=None):
        # An application already imported (this file twice, or an overlap of two
        # exports) is reported and left as it is -- unless the row itself is wrong.
        return instance.pk is not None and not import_validation_errors

    def import_instance(self, instance, row, **kwargs):
        reference = _text(row, "申请流水号")
        numbers = getattr(self, "duplicates", {}).get(reference)
        if numbers:
            rows = "、".join(f"第{number}行" for number in numbers)
            raise ValidationError({"申请流水号": f"申请流水号 {reference} 在本文件中重复：{rows}。"
                                   "同一申请只能有一行，请核对后修改或删除多余的行。"})
        if instance.pk is not None:
            return
        errors: dict[str, str] = {}
        if not reference:
            errors["申请流水号"] = "请填写申请流水号。"
        applied_on = _date(row, "申请日期", errors, required=True)
        id_number = _text(row, "公民身份号码")
        try:
            id_number = parse_id_number(id_number).number
        except ValidationError as exc:
            errors["公民身份号码"] = exc.messages[0]
        name = _text(row, "姓名")
        if not name:
            errors["姓名"] = "请填写姓名。"
        person_type = _person_type(_text(row, "人员类别"))
        if person_type is None:
            errors["人员类别"] = f"人员类别“{_text(row, '人员类别')}”无法识别，应为：{'、'.join(PersonType.labels)}。"
        destination = _region(_text(row, "就医地"))
        if destination is None:
            errors["就医地"] = f"就医地“{_text(row, '就医地')}”不是已知的地区代码或名称。"
        start = _date(row, "开始日期", errors, required=True)
        end = _date(row, "结束日期", errors, required=False)
        materials = _materials(_text(row, "材料"), errors)
        institution = None
        if _text(row, "转出医疗机构"):
            text = _text(row, "转出医疗机构")
            institution = Institution.objects.filter(code=text).first() or Institution.objects.filter(name=text).first()
            if institution is None:
                errors["转出医疗机构"] = f"转出医疗机构“{text}”不在定点医药机构名单中。"
        insurance_type = _insurance_type(_text(row, "险种类型"))
        if _text(row, "险种类型") and not insurance_type:
            errors["险种类型"] = f"险种类型“{_text(row, '险种类型')}”无法识别，应为职工或城乡居民。"
        proxy_name = _text(row, "代办人姓名")
        if errors:
            raise ValidationError(errors)
        instance.online_reference = reference
        instance._application = {
            "reference": reference,
            "applied_on": applied_on,
            "id_number": id_number,
            "name": name,
            "insurance_type": insurance_type,
            "phone": _text(row, "联系电话"),
            "data": FilingData(
                person_type=person_type,
                destination=destination,
                start_date=start,
                end_date=end,
                materials=materials,
                referring_institution=institution,
                contact_address=_text(row, "就医地联系地址"),
                contact_phone=_text(row, "联系电话"),
                by_proxy=bool(proxy_name),
                proxy_name=proxy_name,
                proxy_id_number=_text(row, "代办人身份证号"),
                proxy_phone=_text(row, "代办人电话"),
                proxy_relation=_text(row, "代办人关系"),
            ),
        }

    def save_instance(self, instance, is_create, row, **kwargs):
        application = instance._application
        try:
            with transaction.atomic():
                person = self._person(application)
                filing = filing_submit_online(
                    person=person,
                    data=application["data"],
                    online_reference=application["reference"],
                    applied_on=application["applied_on"],
                    by=self.by,
                    today=self.today,
                )
        except DomainError as exc:
            raise ValidationError({"申请": exc.message}) from None
        instance.pk = filing.pk
        instance.number = filing.number

    def _person(self, application: dict) -> InsuredPerson:
        existing = InsuredPerson.objects.with_id_number(application["id_number"]).first()
        if existing is not None and not self.by.sees_all_regions and existing.insured_region_id != self.by.region_code:
            # Before the name is compared: nothing about another region's person may leak.
            raise DomainError(foreign_person_message(self.by.region), code="other_region")
        if existing is None:
            own = self.by.region
            if own is None or own.is_province:
                raise DomainError("新登记人员的参保地无法确定：请由所属地市的经办人员导入。")
            if not application["insurance_type"]:
                raise DomainError("该人员尚未登记，请填写险种类型（职工或城乡居民）。")
            return insured_person_upsert(
                id_number=application["id_number"], name=application["name"],
                insurance_type=application["insurance_type"] or InsuranceType.EMPLOYEE, insured_region=own,
                phone=application["phone"], by=self.by,
            )
        # A registered person's phone is not touched here: the application keeps it
        # (Filing.contact_phone) and approval applies it.
        return insured_person_upsert(
            id_number=application["id_number"], name=application["name"], insurance_type=existing.insurance_type,
            insured_region=existing.insured_region, by=self.by,
        )


NOT_XLSX = safe_files.NOT_XLSX


def load_dataset(content: bytes, filename: str) -> tablib.Dataset:
    """Read an uploaded CSV (UTF-8, UTF-8 BOM or GB18030) or XLSX into a Dataset,
    through the checks of core.safe_files (size, zip bombs, encoding).

    Blank lines are dropped, but every row keeps the number the spreadsheet shows
    (header = row 1) in `dataset.source_rows`, so the preview's row numbers match
    what the clerk sees in Excel."""
    records = safe_files.read_table_rows(content, filename, safe_files.SMALL_TABLE)
    if not records:
        raise DomainError("文件是空的，或缺少表头行。", code="empty")
    headers = [str(header if header is not None else "").strip() for header in records[0][1]]
    while headers and not headers[-1]:
        headers.pop()
    missing = [column for column, _hint, required in IMPORT_COLUMNS if required and column not in headers]
    if missing:
        raise DomainError(f"文件缺少必需的列：{'、'.join(missing)}。请使用导入模板。", code="columns")
    clean = tablib.Dataset(headers=headers)
    source_rows = []
    for number, cells in records[1:]:
        cells = list(cells)[: len(headers)]
        if not any(cell is not None and str(cell).strip() for cell in cells):
            continue  # a blank line (Excel leaves them, people add them)
        clean.append(cells + [None] * (len(headers) - len(cells)))
        source_rows.append(number)
    if not len(clean):
        raise DomainError("文件里没有任何申请记录。", code="empty")
    clean.source_rows = source_rows
    return clean


def template_csv() -> str:
    dataset = tablib.Dataset(headers=[column for column, _hint, _required in IMPORT_COLUMNS])
    dataset.append([
        "WS202603130001", "2026-03-13", "320106195603120248", "李秀英", "职工", "13905150001", "异地长期居住人员",
        "110000", "2026-03-13", "", "有效身份证件、居住证明", "", "北京市朝阳区", "", "", "", "",
    ])
    return "\ufeff" + dataset.export("csv")


# --- Provincial upload export ----------------------------------------------------------------


def _safe_cell(value) -> str:
    """Spreadsheet formula injection: prefix = + - @ with an apostrophe (import-export
    only strips a leading =)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _subject(filing: Filing) -> Filing:
    """The filing a row describes: for the cancellation of a change the province
    never received, the uploaded filing being cancelled."""
    if filing.upload_action == UploadAction.CANCEL:
        known = province_known(filing)
        if known is not None:
            return known
    return filing


class FilingUploadResource(resources.Resource):
    """The rows handed to the provincial 异地就医 system: new, changed and cancelled filings."""

    upload_action = fields.Field(column_name="上传业务")
    number = fields.Field(column_name="备案编号")
    replaces = fields.Field(column_name="原备案编号")
    name = fields.Field(column_name="姓名")
    id_number = fields.Field(column_name="公民身份号码")
    sex = fields.Field(column_name="性别")
    insurance_type = fields.Field(column_name="险种类型")
    insured_region_code = fields.Field(column_name="参保地代码")
    insured_region = fields.Field(column_name="参保地")
    person_group = fields.Field(column_name="备案类型")
    person_type = fields.Field(column_name="人员类别")
    status = fields.Field(column_name="备案状态")
    destination_code = fields.Field(column_name="就医地代码")
    destination = fields.Field(column_name="就医地")
    start_date = fields.Field(column_name="开始日期")
    end_date = fields.Field(column_name="结束日期")
    terminated_on = fields.Field(column_name="终止日期")
    basis = fields.Field(column_name="办理方式")
    multi_place = fields.Field(column_name="多地备案")
    retroactive = fields.Field(column_name="补办")
    channel = fields.Field(column_name="办理渠道")
    phone = fields.Field(column_name="联系电话")
    reason = fields.Field(column_name="变更/取消原因")
    created_by = fields.Field(column_name="经办人")
    activated_at = fields.Field(column_name="办理时间")
    note = fields.Field(column_name="说明")

    class Meta:
        export_order = (
            "upload_action", "number", "replaces", "name", "id_number", "sex", "insurance_type",
            "insured_region_code", "insured_region", "person_group", "person_type", "status", "destination_code",
            "destination", "start_date", "end_date", "terminated_on", "basis", "multi_place", "retroactive",
            "channel", "phone", "reason", "created_by", "activated_at", "note",
        )

    def dehydrate_upload_action(self, filing):
        return filing.get_upload_action_display()

    # The provincial system knows only what was uploaded. A change refers to the
    # last uploaded filing of its chain; a cancellation of a change that never
    # reached the province cancels that uploaded filing instead.

    def dehydrate_number(self, filing):
        return _safe_cell(_subject(filing).number)

    def dehydrate_replaces(self, filing):
        if filing.upload_action != UploadAction.CHANGE:
            return ""
        known = province_known(filing.replaces)
        return known.number if known is not None else ""

    def dehydrate_note(self, filing):
        known = _subject(filing)
        if known.pk != filing.pk:
            return f"本地变更后的备案 {filing.number} 尚未上传即取消，取消省平台上的备案 {known.number}"
        if filing.upload_action == UploadAction.BACKFILL:
            return "补办时有效期已届满：补录历史备案，不作为当前有效备案"
        return ""

    def dehydrate_name(self, filing):
        return _safe_cell(filing.insured_person.name)

    def dehydrate_id_number(self, filing):
        return filing.insured_person.id_number

    def dehydrate_sex(self, filing):
        return filing.insured_person.get_sex_display()

    def dehydrate_insurance_type(self, filing):
        return filing.insured_person.get_insurance_type_display()

    def dehydrate_insured_region_code(self, filing):
        return filing.insured_region_id

    def dehydrate_insured_region(self, filing):
        return filing.insured_region.name

    def dehydrate_person_group(self, filing):
        filing = _subject(filing)
        return filing.get_person_group_display()

    def dehydrate_person_type(self, filing):
        filing = _subject(filing)
        return filing.get_person_type_display()

    def dehydrate_status(self, filing):
        return filing.get_status_display()

    def dehydrate_destination_code(self, filing):
        filing = _subject(filing)
        return filing.destination_id

    def dehydrate_destination(self, filing):
        filing = _subject(filing)
        return filing.destination.name

    def dehydrate_start_date(self, filing):
        filing = _subject(filing)
        return f"{filing.start_date:%Y-%m-%d}"

    def dehydrate_end_date(self, filing):
        filing = _subject(filing)
        return f"{filing.end_date:%Y-%m-%d}" if filing.end_date else "长期"

    def dehydrate_terminated_on(self, filing):
        return f"{filing.terminated_on:%Y-%m-%d}" if filing.terminated_on else ""

    def dehydrate_basis(self, filing):
        filing = _subject(filing)
        return filing.get_basis_display() if filing.is_long_term else ""

    def dehydrate_multi_place(self, filing):
        filing = _subject(filing)
        return "是" if filing.multi_place else "否"

    def dehydrate_retroactive(self, filing):
        filing = _subject(filing)
        return "是" if filing.retroactive else "否"

    def dehydrate_channel(self, filing):
        filing = _subject(filing)
        return filing.get_channel_display()

    def dehydrate_phone(self, filing):
        return _safe_cell(filing.insured_person.phone)

    def dehydrate_reason(self, filing):
        return _safe_cell(filing.cancel_reason or filing.change_reason)

    def dehydrate_created_by(self, filing):
        user = filing.created_by
        return _safe_cell(user.get_full_name()) if user else ""

    def dehydrate_activated_at(self, filing):
        moment = filing.activated_at or filing.created_at
        return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


EXPORT_FORMATS = {"xlsx": base_formats.XLSX, "csv": base_formats.CSV}


def upload_file_content(dataset: tablib.Dataset, file_format: str) -> bytes:
    """The upload file's bytes.

    XLSX (the default) is written cell by cell as text (number format "@"), so
    ID numbers, codes and phone numbers stay exactly as they are when the file is
    opened in Excel or WPS. CSV is plain UTF-8 (with BOM) text for systems that
    read CSV directly; opened by double-click in Excel, 18-digit numbers turn into
    scientific notation — the upload page says so, and recommends XLSX."""
    if file_format == "csv":
        return ("\ufeff" + EXPORT_FORMATS["csv"]().export_data(dataset)).encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "备案上传"
    widths = [len(str(h)) * 2 + 2 for h in dataset.headers]
    for row_index, values in enumerate([dataset.headers, *dataset], start=1):
        for column_index, value in enumerate(values, start=1):
            text = ILLEGAL_CHARACTERS_RE.sub("", _safe_cell(value))
            cell = sheet.cell(row=row_index, column=column_index, value=text)
            cell.data_type = "s"  # never a formula, never a number
            cell.number_format = "@"
            if row_index == 1:
                cell.font = Font(bold=True)
            widths[column_index - 1] = min(max(widths[column_index - 1], len(text) + 2), 40)
    for column_index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column_index)].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
