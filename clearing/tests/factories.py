"""Test helpers for the clearing: settlement files and rows built by hand."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from clearing.importers import COLUMNS, ImportOptions, import_file
from clearing.models import Settlement


@dataclass
class Row:
    settlement_id: str
    insured_region: str = "320100"
    treatment_region: str = "320200"
    fund_amount: str = "100.00"
    total_amount: str = ""
    insurance_type: str = "310"
    period: str = "2026-02"
    care_type: str = "inpatient"
    settled_on: str = ""
    institution: str = "南京鼓楼医院"
    extra: dict = field(default_factory=dict)

    def values(self) -> dict[str, str]:
        total = self.total_amount
        if not total:
            total = f"{Decimal(self.fund_amount) * 2:.2f}" if _is_number(self.fund_amount) else "100.00"
        return {
            "settlement_id": self.settlement_id,
            "period": self.period,
            "insured_region": self.insured_region,
            "treatment_region": self.treatment_region,
            "insurance_type": self.insurance_type,
            "care_type": self.care_type,
            "settled_on": self.settled_on or f"{self.period}-14",
            "total_amount": total,
            "fund_amount": self.fund_amount,
            "institution": self.institution,
            **self.extra,
        }


def _is_number(value: str) -> bool:
    try:
        Decimal(value)
    except ArithmeticError:
        return False
    return True


def csv_text(rows: list[Row | dict], *, columns: tuple[str, ...] | list[str] = COLUMNS, newline: str = "\r\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(columns)
    for row in rows:
        values = row.values() if isinstance(row, Row) else row
        writer.writerow([values.get(column, "") for column in columns])
    return buffer.getvalue()


def write_csv(path: Path, rows: list[Row | dict], *, encoding: str = "utf-8", **kwargs) -> Path:
    path.write_bytes(csv_text(rows, **kwargs).encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[Row | dict], *, columns=COLUMNS, numeric: bool = True) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(columns))
    for row in rows:
        values = row.values() if isinstance(row, Row) else row
        cells = []
        for column in columns:
            value = values.get(column, "")
            if numeric and column in ("total_amount", "fund_amount") and _is_number(value):
                value = float(value)
            cells.append(value)
        sheet.append(cells)
    workbook.save(path)
    return path


def import_rows(tmp_path: Path, rows: list[Row | dict], name: str = "settlements.csv", **options):
    path = write_csv(tmp_path / name, rows)
    return import_file(path, options=ImportOptions(**options))


def stored_ids() -> list[str]:
    return list(Settlement.objects.order_by("settlement_id").values_list("settlement_id", flat=True))
