"""Regional reference data: published materials lists, student vacations, other allowed cases."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

# --- Regional reference data -------------------------------------------------------


class PublishedMaterial(models.Model):
    """Extra material a region requires, published in advance and filed with the
    province (第二十七条: 需要增加其他材料必须事前公示，并报省级医保部门备案)."""

    region = models.ForeignKey("core.Region", verbose_name="参保地", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("材料名称", max_length=100)
    applies_to_inpatient = models.BooleanField("住院", default=True)
    applies_to_outpatient = models.BooleanField("门诊", default=True)
    applies_to_emergency = models.BooleanField("急诊", default=True)
    applies_to_maternity = models.BooleanField("生育", default=True)
    published_on = models.DateField("公示日期")
    filed_with_province_on = models.DateField("报省级备案日期", null=True, blank=True)
    notice = models.CharField("公示文件", max_length=200, blank=True)
    withdrawn_on = models.DateField("停止执行日期", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "参保地公示的补充材料"
        verbose_name_plural = "参保地公示的补充材料"
        ordering = ["region__sort_order", "region_id", "published_on", "id"]

    def __str__(self) -> str:
        return f"{self.region}：{self.name}"

    def applies_to(self, care_type: str) -> bool:
        return bool(getattr(self, f"applies_to_{care_type}", False))


class StudentVacation(models.Model):
    """The winter or summer vacation of the students insured in a region (第二十六条第三项).

    Rows for a city, or for a whole province (NN0000) applying to its cities. For a year
    with no rows, January–February and July–August count as the vacations.
    """

    region = models.ForeignKey(
        "core.Region", verbose_name="参保地（或全省）", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    name = models.CharField("假期", max_length=20, help_text="如：寒假、暑假")
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")
    basis = models.CharField("依据", max_length=200, blank=True, help_text="如：省教育厅校历通知")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "参保学生寒暑假"
        verbose_name_plural = "参保学生寒暑假"
        ordering = ["region__sort_order", "region_id", "year", "start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="student_vacation_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year}年{self.name}（{self.start_date:%m-%d} 至 {self.end_date:%m-%d}）"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "结束日期不能早于开始日期。"})
        if self.start_date and self.year and self.start_date.year != self.year:
            raise ValidationError({"start_date": f"开始日期应在{self.year}年内（假期按开始日期所在年度登记）。"})


class OtherAllowedCase(models.Model):
    """参保地医保部门规定的其他可以零星报销的情形 (第二十六条第五项)."""

    region = models.ForeignKey("core.Region", verbose_name="参保地", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("情形", max_length=200)
    basis = models.CharField("依据文件", max_length=200, blank=True)
    active = models.BooleanField("有效", default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "其他可零星报销情形"
        verbose_name_plural = "其他可零星报销情形"
        ordering = ["region__sort_order", "region_id", "id"]

    def __str__(self) -> str:
        return self.name
