"""Files for the national system (国家异地就医系统) and XLSX exports of the queues.

A request whose other end is in another province travels through the national system:
`national_requests_xlsx` writes the requests, `parse_answers` reads the answers back
(row-numbered Chinese errors; the caller commits nothing unless every row is clean).
Every text cell is neutralised against formula injection; amounts stay numbers, dates dates.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from openpyxl import Workbook
from openpyxl.styles import Font

from cooperation.models import AssistRequest
from core.errors import DomainError
from core.exports import neutralise
from core.tabular import read_table

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, Decimal | int | float | date):
        return value
    return neutralise(str(value))


def xlsx_bytes(*, title: str, header: list[str], rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(value) for value in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 16
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Queue exports --------------------------------------------------------------------------------

ASSIST_HEADER = [
    "协查编号", "状态", "参保地", "就医地", "跨省", "身份证号码", "姓名", "性别", "医疗服务机构名称", "住院号", "发票号码",
    "入院日期", "出院日期", "费用总额", "收到申请日期", "协查期限", "统计所属期", "延期次数", "协查结果", "核查有误原因",
    "涉及违规费用", "结果返回日期", "确认期限", "确认日期",
]


def assist_rows(requests):
    for r in requests:
        yield [
            r.number, r.get_status_display(), r.insured_region.name, r.treatment_region.name,
            "是" if r.cross_province else "否", r.id_number, r.name, r.get_sex_display(), r.institution_name,
            r.hospital_number, r.invoice_number, r.admission_date, r.discharge_date, r.total_amount, r.received_on,
            r.answer_due, r.period, r.late_count, r.get_result_display() if r.result else "", r.finding,
            r.irregular_amount, r.answered_on, r.confirm_due, r.confirmed_on,
        ]


COORDINATION_HEADER = [
    "协同编号", "状态", "申请机构", "待协同机构", "问题类型", "主要协同事项", "参保人员身份证号码", "参保人员姓名",
    "接收日期", "回复期限", "延长原因", "回复日期", "处理结果", "默认确认日期", "确认日期",
]


def coordination_rows(coordinations):
    for c in coordinations:
        yield [
            c.number, c.get_status_display(), c.requester.short_name, c.receiver.short_name, c.get_kind_display(),
            c.subject, c.person_id_number, c.person_name, c.received_on, c.reply_due, c.extension_reason, c.replied_on,
            c.reply, c.deemed_confirmed_on, c.confirmed_on,
        ]


# --- National system: requests out ---------------------------------------------------------------

NATIONAL_HEADER = [
    "协查编号", "参保地代码", "参保地", "就医地代码", "就医地", "身份证号码", "姓名", "性别", "医疗服务机构名称", "住院号",
    "发票号码", "入院日期", "出院日期", "费用总额", "疑点说明", "申请日期", "协查期限",
]


def national_requests_xlsx(requests) -> bytes:
    rows = (
        [
            r.number, r.insured_region_id, r.insured_region.name, r.treatment_region_id, r.treatment_region.name,
            r.id_number, r.name, r.get_sex_display(), r.institution_name, r.hospital_number, r.invoice_number,
            r.admission_date, r.discharge_date, r.total_amount, r.concern, r.received_on, r.answer_due,
        ]
        for r in requests
    )
    return xlsx_bytes(title="费用协查申请", header=NATIONAL_HEADER, rows=rows)


# --- National system: answers in ------------------------------------------------------------------

ANSWER_COLUMNS = {"协查编号": "number", "协查结果": "result", "具体原因": "finding", "涉及违规费用": "irregular_amount",
                  "结果返回日期": "answered_on", "协查说明": "note"}
REQUIRED_COLUMNS = ("协查编号", "协查结果", "结果返回日期")
RESULT_WORDS = {label: value for value, label in AssistRequest.Result.choices}


@dataclass
class AnswerRow:
    row: int
    number: str
    result: str
    finding: str
    irregular_amount: Decimal | None
    answered_on: date
    note: str

    def as_json(self) -> dict:
        return {
            "row": self.row, "number": self.number, "result": self.result, "finding": self.finding,
            "irregular_amount": str(self.irregular_amount) if self.irregular_amount is not None else None,
            "answered_on": self.answered_on.isoformat(), "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict) -> AnswerRow:
        amount = data.get("irregular_amount")
        return cls(
            row=int(data["row"]), number=data["number"], result=data["result"], finding=data.get("finding", ""),
            irregular_amount=Decimal(amount) if amount is not None else None,
            answered_on=date.fromisoformat(data["answered_on"]), note=data.get("note", ""),
        )


def parse_answers(upload, *, user, today: date) -> tuple[list[AnswerRow], list[str]]:
    """Read and check an answer file. Returns (rows, errors); an error names its row (the header is row 1)."""
    table = read_table(upload)
    if not table:
        raise DomainError("文件中没有数据行。", code="empty")
    missing = [column for column in REQUIRED_COLUMNS if column not in table[0]]
    if missing:
        raise DomainError(f"缺少列：{'、'.join(missing)}。表头应为：{'、'.join(ANSWER_COLUMNS)}。", code="columns")
    numbers = [(raw.get("协查编号") or "").strip() for raw in table]
    known = {
        r.number: r for r in AssistRequest.objects.for_user(user).filter(number__in=[n for n in numbers if n])
    }
    rows: list[AnswerRow] = []
    errors: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(table, start=2):
        problems: list[str] = []
        number = (raw.get("协查编号") or "").strip()
        request = known.get(number)
        if not number:
            problems.append("协查编号为空")
        elif request is None:
            problems.append(f"协查编号 {number} 不存在，或不是本地区发起的协查")
        elif number in seen:
            problems.append(f"协查编号 {number} 在文件中重复")
        elif not request.cross_province:
            problems.append(f"{number} 是省内协查，结果应由就医地在本平台填写")
        elif request.status not in AssistRequest.ANSWER_STATUSES:
            problems.append(f"{number} 当前为“{request.get_status_display()}”，不在待核查状态")
        seen.add(number)
        result_word = (raw.get("协查结果") or "").strip()
        result = RESULT_WORDS.get(result_word, "")
        if not result:
            problems.append(f"协查结果“{result_word}”无效，应为“核查无误”或“核查有误”")
        finding = (raw.get("具体原因") or "").strip()
        if result == AssistRequest.Result.HAS_ISSUE and len(finding) < 4:
            problems.append("“核查有误”须填写具体原因")
        amount_text = (raw.get("涉及违规费用") or "").strip().replace(",", "")
        amount = None
        if amount_text:
            try:
                amount = Decimal(amount_text)
                if amount < 0 or amount.as_tuple().exponent < -2:
                    raise InvalidOperation
            except InvalidOperation:
                problems.append(f"涉及违规费用“{amount_text}”不是有效金额（元，最多两位小数，不能为负）")
                amount = None
            else:
                if request is not None and amount > request.total_amount:
                    problems.append("涉及违规费用大于费用总额")
        date_text = (raw.get("结果返回日期") or "").strip()
        answered_on = None
        try:
            answered_on = date.fromisoformat(date_text)
        except ValueError:
            problems.append(f"结果返回日期“{date_text}”无效，应为 YYYY-MM-DD")
        else:
            if answered_on > today:
                problems.append("结果返回日期晚于今天")
            elif request is not None and answered_on < request.received_on:
                problems.append("结果返回日期早于申请日期")
        if problems:
            errors.append(f"第{index}行：{'；'.join(problems)}。")
            continue
        rows.append(AnswerRow(row=index, number=number, result=result, finding=finding, irregular_amount=amount,
                              answered_on=answered_on, note=(raw.get("协查说明") or "").strip()))
    return rows, errors
