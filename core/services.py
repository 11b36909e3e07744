"""Core services: insured persons and the working-day calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core import workdays
from core.audit import log_action
from core.errors import DomainError
from core.idcard import parse_id_number
from core.models import AuditLog, CalendarDay, CalendarYear, InsuredPerson, Region
from core.reference import package_calendar_exceptions, package_calendar_years
from core.safe_files import to_halfwidth
from core.validators import plain_text_problem


def insured_person_upsert(
    *,
    id_number: str,
    name: str,
    insurance_type: str,
    insured_region: Region,
    phone: str = "",
    phone_alt: str = "",
    address: str = "",
    by=None,
) -> InsuredPerson:
    """Find the person by ID number or register them; sex and birth date come from the number."""
    try:
        info = parse_id_number(id_number)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code="id_number") from None
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写参保人员姓名。", code="name")
    problem = plain_text_problem(name, "姓名")
    if problem:
        raise DomainError(problem, code="name")
    person = InsuredPerson.objects.with_id_number(info.number).first()
    if person is not None:
        if person.name != name:
            # The registered name is not repeated: the caller may be another
            # region's clerk, who must not learn who holds the number.
            raise DomainError(
                f"身份证号 {person.masked_id_number} 已登记的姓名与填写的“{name}”不一致，请核对身份证件。",
                code="name_mismatch",
            )
        changed = []
        for field, value in (("phone", phone), ("phone_alt", phone_alt), ("address", address)):
            if value and getattr(person, field) != value:
                setattr(person, field, value)
                changed.append(field)
        if changed:
            person.save(update_fields=changed)
        return person
    try:
        with transaction.atomic():
            person = InsuredPerson.objects.create(
                id_number=info.number,
                name=name,
                sex=info.sex,
                birth_date=info.birth_date,
                insurance_type=insurance_type,
                insured_region=insured_region,
                phone=phone,
                phone_alt=phone_alt,
                address=address,
            )
    except IntegrityError:
        # Registered by a concurrent request (a double submit): use that row.
        return insured_person_upsert(
            id_number=info.number, name=name, insurance_type=insurance_type, insured_region=insured_region, by=by
        )
    log_action(action=AuditLog.Action.CREATE, user=by, obj=person, message="登记参保人员")
    return person


def insured_person_set_status(*, person: InsuredPerson, status: str, effective_on: date, by=None) -> InsuredPerson:
    """Record a change of the person's 参保状态 from ``effective_on``; the daily job
    (filings.status_changes) then ends their long-term filings (江苏 第十条)."""
    from core.models import InsuranceStatus

    if status not in InsuranceStatus.values:
        raise DomainError(f"参保状态“{status}”无效。", code="insurance_status")
    with transaction.atomic():
        person = InsuredPerson.objects.select_for_update().get(pk=person.pk)
        if person.insurance_status == status:
            raise DomainError(f"{person.name}的参保状态已是“{InsuranceStatus(status).label}”。", code="insurance_status_same")
        previous = person.get_insurance_status_display()
        person.insurance_status = status
        person.insurance_status_since = effective_on
        person._change_reason = f"参保状态变更：{previous} → {InsuranceStatus(status).label}（{effective_on:%Y-%m-%d}起）"
        person.save(update_fields=["insurance_status", "insurance_status_since"])
        log_action(action=AuditLog.Action.CHANGE, user=by, obj=person, message=person._change_reason)
    return person


# --- Working-day calendar -------------------------------------------------------

WORKING_WORDS = {"上班", "班", "工作日", "调休上班", "workday", "work", "1", "是", "true"}
RESTING_WORDS = {"休息", "休", "节假日", "放假", "holiday", "rest", "0", "否", "false"}


@dataclass(frozen=True)
class CalendarRow:
    day: date
    is_working_day: bool
    name: str = ""


def parse_calendar_rows(raw_rows: list[dict[str, str]], *, year: int) -> list[CalendarRow]:
    """Turn uploaded rows (日期, 类型, 名称) into calendar rows; every problem is
    reported at once with its row number (the header is row 1)."""
    errors: list[str] = []
    rows: list[CalendarRow] = []
    seen: set[date] = set()
    for index, raw in enumerate(raw_rows, start=2):
        text_date = to_halfwidth(raw.get("日期") or raw.get("date") or "").strip()
        text_kind = to_halfwidth(raw.get("类型") or raw.get("kind") or "").strip().lower()
        name = (raw.get("名称") or raw.get("name") or "").strip()[:40]
        if not text_date and not text_kind:
            continue
        try:
            if not text_date.isascii():
                raise ValueError(text_date)
            day = date.fromisoformat(text_date.replace("/", "-"))
        except ValueError:
            errors.append(f"第{index}行：日期“{text_date}”无效，应为 YYYY-MM-DD。")
            continue
        if day.year != year:
            errors.append(f"第{index}行：日期 {day:%Y-%m-%d} 不在 {year} 年。")
            continue
        if day in seen:
            errors.append(f"第{index}行：日期 {day:%Y-%m-%d} 重复。")
            continue
        seen.add(day)
        if text_kind in WORKING_WORDS:
            working = True
        elif text_kind in RESTING_WORDS:
            working = False
        else:
            errors.append(f"第{index}行：类型“{text_kind}”无法识别，应填“休息”或“上班”。")
            continue
        rows.append(CalendarRow(day=day, is_working_day=working, name=name))
    if errors:
        raise DomainError("\n".join(errors), code="calendar_rows")
    if not rows:
        raise DomainError("文件中没有任何节假日或调休日期。", code="calendar_empty")
    return rows


@transaction.atomic
def calendar_import_year(*, year: int, rows: list[CalendarRow], notice: str = "", by=None) -> CalendarYear:
    """Replace a year's holidays and make-up days and mark the year confirmed."""
    exceptions = [row for row in rows if row.is_working_day != (row.day.weekday() < 5)]
    CalendarDay.objects.filter(date__year=year).delete()
    CalendarDay.objects.bulk_create(
        CalendarDay(date=row.day, is_working_day=row.is_working_day, name=row.name) for row in exceptions
    )
    calendar_year, _ = CalendarYear.objects.update_or_create(
        year=year,
        defaults={"confirmed": True, "source": CalendarYear.Source.IMPORT, "notice": notice[:200], "updated_by": by},
    )
    log_action(
        action=AuditLog.Action.IMPORT,
        user=by,
        obj=calendar_year,
        message=f"导入{year}年节假日安排：{sum(not r.is_working_day for r in exceptions)}个节假日，"
        f"{sum(r.is_working_day for r in exceptions)}个调休上班日",
    )
    transaction.on_commit(lambda: workdays.invalidate(year))
    return calendar_year


def seed_calendar_from_package(calendar_year_model=CalendarYear, calendar_day_model=CalendarDay) -> int:
    """Load every year `chinese-calendar` knows that the table does not have yet.

    Takes the models as arguments so the data migration can pass historical ones.
    """
    known_years = package_calendar_years()
    present = set(calendar_year_model.objects.values_list("year", flat=True))
    added = 0
    for year in known_years:
        if year in present:
            continue
        calendar_day_model.objects.bulk_create(
            [
                calendar_day_model(date=day, is_working_day=working, name=name)
                for day, working, name in package_calendar_exceptions(year)
            ],
            ignore_conflicts=True,
        )
        calendar_year_model.objects.create(
            year=year, confirmed=True, source="package", notice="国务院办公厅节假日安排（chinese-calendar）"
        )
        added += 1
    workdays.invalidate(*known_years)
    return added
