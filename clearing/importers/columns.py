"""What a settlement file holds (columns, their Chinese labels and aliases, the
allowed codes, field limits) and the two ways reading one stops."""

from __future__ import annotations

COLUMNS: tuple[str, ...] = (
    "settlement_id",
    "period",
    "insured_region",
    "treatment_region",
    "insurance_type",
    "care_type",
    "settled_on",
    "total_amount",
    "fund_amount",
    "institution",
)
LABELS = {
    "settlement_id": "结算流水号",
    "period": "清算所属期",
    "insured_region": "参保地",
    "treatment_region": "就医地",
    "insurance_type": "险种类型",
    "care_type": "医疗类别",
    "settled_on": "结算日期",
    "total_amount": "总费用",
    "fund_amount": "基金支付合计",
    "institution": "定点医药机构",
}
#: The Chinese column names are accepted too (files exported from the provincial system).
ALIASES = {label: column for column, label in LABELS.items()} | {
    "结算流水号": "settlement_id",
    "清算月份": "period",
    "所属期": "period",
    "参保地代码": "insured_region",
    "就医地代码": "treatment_region",
    "险种": "insurance_type",
    "医疗类型": "care_type",
    "基金支付": "fund_amount",
    "医疗机构": "institution",
}
INSURANCE_TYPES = {"310": "职工", "390": "城乡居民"}
CARE_TYPES = {"inpatient": "住院", "outpatient": "门诊", "chronic": "门诊慢特病"}
MAX_INSTITUTION = 200
MAX_ID = 40


class Abandon(Exception):
    """Leave the fast path (its savepoint is rolled back) for the staging path."""


class FileProblem(Exception):
    """The file as a whole cannot be read (encoding, header, format)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
