from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class CalendarYear(models.Model):
    """Whether a year's holiday schedule (国务院办公厅节假日安排) is known.

    A year without a confirmed row is computed on weekends alone, and every
    deadline that touches it is reported as unconfirmed.
    """

    class Source(models.TextChoices):
        PACKAGE = "package", "chinese-calendar 软件包"
        IMPORT = "import", "导入"
        MANUAL = "manual", "手工维护"

    year = models.PositiveSmallIntegerField("年度", primary_key=True)
    confirmed = models.BooleanField("已确认", default=True)
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.MANUAL)
    notice = models.CharField("依据文件", max_length=200, blank=True, help_text="如：国务院办公厅关于2027年部分节假日安排的通知")
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="更新人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "工作日历年度"
        verbose_name_plural = "工作日历年度"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}年"


class CalendarDay(models.Model):
    """A day whose status differs from the weekday rule: a holiday on a weekday
    (法定节假日) or a make-up working day on a weekend (调休上班)."""

    date = models.DateField("日期", primary_key=True)
    is_working_day = models.BooleanField("是否工作日")
    name = models.CharField("说明", max_length=40, blank=True, help_text="如：春节、国庆节调休上班")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "节假日/调休日"
        verbose_name_plural = "节假日/调休日"
        ordering = ["date"]

    def __str__(self) -> str:
        kind = "上班" if self.is_working_day else "休息"
        return f"{self.date:%Y-%m-%d} {self.name or kind}"
