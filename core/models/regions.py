from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

region_code_validator = RegexValidator(r"^\d{6}$", "地区代码应为6位数字（GB/T 2260）。")


class RegionQuerySet(models.QuerySet):
    def provinces(self) -> RegionQuerySet:
        return self.filter(level=Region.Level.PROVINCE)

    def cities(self) -> RegionQuerySet:
        return self.filter(level=Region.Level.CITY)

    def cities_of(self, province: Region | str) -> RegionQuerySet:
        code = province.code if isinstance(province, Region) else province
        return self.filter(level=Region.Level.CITY, parent_id=code)


class Region(models.Model):
    """A pooling region (统筹区): a province, or a city of the home province."""

    class Level(models.TextChoices):
        PROVINCE = "province", "省级"
        CITY = "city", "地市"

    code = models.CharField("地区代码", max_length=6, primary_key=True, validators=[region_code_validator])
    name = models.CharField("名称", max_length=40)
    short_name = models.CharField("简称", max_length=20, help_text="官方表格里使用的简称，如“南京”“内蒙古”。")
    level = models.CharField("级别", max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name="所属省份", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    history = HistoricalRecords()
    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = "地区"
        verbose_name_plural = "地区"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_province(self) -> bool:
        return self.level == self.Level.PROVINCE

    @property
    def province_code(self) -> str:
        return province_code_of(self.code)


def province_code_of(code: str) -> str:
    """GB/T 2260: the first two digits name the province."""
    return f"{code[:2]}0000"


class Agency(models.Model):
    """经办机构: a medical-insurance agency serving one pooling region."""

    name = models.CharField("经办机构全称", max_length=100, unique=True)
    short_name = models.CharField("简称", max_length=40)
    region = models.OneToOneField(Region, verbose_name="统筹区", on_delete=models.PROTECT, related_name="agency")
    phone = models.CharField("联系电话", max_length=40, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "经办机构"
        verbose_name_plural = "经办机构"
        ordering = ["region__sort_order", "region__code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_province_level(self) -> bool:
        return self.region.level == Region.Level.PROVINCE


class Institution(models.Model):
    """定点医药机构: a designated hospital or pharmacy."""

    class Level(models.TextChoices):
        LEVEL_1 = "1", "一级"
        LEVEL_2 = "2", "二级"
        LEVEL_3 = "3", "三级"
        UNRATED = "0", "未定级"

    class Kind(models.TextChoices):
        HOSPITAL = "hospital", "医疗机构"
        PHARMACY = "pharmacy", "零售药店"

    code = models.CharField("机构编码", max_length=30, unique=True)
    name = models.CharField("机构名称", max_length=100)
    region = models.ForeignKey(Region, verbose_name="所在地区", on_delete=models.PROTECT, related_name="institutions")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices, default=Kind.HOSPITAL)
    level = models.CharField("医院等级", max_length=1, choices=Level.choices, default=Level.UNRATED)
    designated = models.BooleanField("定点", default=True)
    networked = models.BooleanField("已联网（可直接结算）", default=True)
    can_refer = models.BooleanField("具有转诊资质", default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "定点医药机构"
        verbose_name_plural = "定点医药机构"
        ordering = ["region__sort_order", "name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name
