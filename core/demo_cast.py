"""The demo data of any province: the 江苏 demo, recast onto the home province.

The demo modules describe their cases once, with 江苏 codes and names (南京 320100 and
无锡 320200 as the two demo cities). For another home province this cast maps them:
the i-th 江苏 city becomes the province's i-th prefecture-level city (in code order, so
南京 → its capital), a county code becomes a county of that city, an institution code
and name follow its city, usernames take the city's pinyin (clerk_nanjing → clerk_urumqi
for 新疆, clerk_nanchang for 江西; a province without a pinyin row uses the city code,
e.g. clerk_430100). The home province's own codes, where the 江苏 demo names them as
another province, become 江苏. For 江苏 every function returns its input unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property

from core.jurisdictions import rules_for
from core.reference import city_rows, divisions, home_province_code, province_rows

JIANGSU = "320000"

#: Pinyin of the provinces and demo cities the README lists (first two cities of each).
PINYIN = {
    "320000": "jiangsu", "320100": "nanjing", "320200": "wuxi",
    "360000": "jiangxi", "360100": "nanchang", "360200": "jingdezhen",
    "650000": "xinjiang", "650100": "urumqi", "650200": "karamay",
}

#: 江苏 demo institutions by name -> the pattern of their counterpart ({city}: the mapped city's name).
INSTITUTION_NAMES = {
    "南京鼓楼医院": "{city}第一人民医院",
    "江苏省人民医院": "{province}人民医院",
    "南京市第一医院": "{city}第二人民医院",
    "南京市江宁区人民医院": "{city}中医医院",
    "南京市栖霞区社区卫生服务中心": "{city}社区卫生服务中心",
    "南京大药房新街口店": "{short}大药房中心店",
    "无锡市人民医院": "{city}人民医院",
    "无锡市第二人民医院": "{city}第二人民医院",
    "无锡市滨湖区中医院": "{city}中医医院",
    "苏州大学附属第一医院": "{city}人民医院",
    "徐州医科大学附属医院": "{city}人民医院",
    "南通大学附属医院": "{city}人民医院",
}


@dataclass(frozen=True)
class Cast:
    province: str

    @property
    def identity(self) -> bool:
        return self.province == JIANGSU

    @cached_property
    def _cities(self) -> list[tuple[str, str, str]]:
        return [row for row in city_rows() if row[0][:2] == self.province[:2]]

    @cached_property
    def _jiangsu_cities(self) -> list[str]:
        return [row[0] for row in city_rows() if row[0][:2] == JIANGSU[:2]]

    @cached_property
    def _province_row(self) -> tuple[str, str, str]:
        return next(row for row in province_rows() if row[0] == self.province)

    def city(self, jiangsu_city: str) -> tuple[str, str, str]:
        index = self._jiangsu_cities.index(jiangsu_city)
        return self._cities[index % len(self._cities)]

    def code(self, code: str) -> str:
        """A region code of the 江苏 demo, in this province."""
        if self.identity or not code:
            return code
        if code[:2] == self.province[:2]:
            return JIANGSU  # the home province named as another province becomes 江苏
        if code[:2] != JIANGSU[:2]:
            return code
        if code == JIANGSU:
            return self.province
        city = self.city(f"{code[:4]}00")[0]
        if code.endswith("00"):
            return city
        counties = sorted(c for c in divisions()["counties"] if c[:4] == city[:4] and not c.endswith("00"))
        return counties[int(code[4:]) % len(counties)] if counties else city

    def username(self, name: str) -> str:
        if self.identity:
            return name
        for code in (JIANGSU, *self._jiangsu_cities[:2]):
            word = PINYIN[code]
            if name.endswith(f"_{word}") or f"_{word}_" in name:
                target = self.code(code)
                return name.replace(word, PINYIN.get(target, target))
        return name

    def institution_code(self, code: str) -> str:
        """H32010600001 -> H65010200001: the region digits follow the cast."""
        if self.identity or code[1:3] != JIANGSU[:2]:
            return code
        return f"{code[0]}{self.code(code[1:7])}{code[7:]}"

    def institution_name(self, name: str, region: str) -> str:
        """The demo name of an institution of the 江苏 demo in ``region`` (a 江苏 code)."""
        if self.identity or region[:2] != JIANGSU[:2] or name not in INSTITUTION_NAMES:
            return name
        code, city, short = self.city(f"{region[:4]}00")
        return INSTITUTION_NAMES[name].format(city=city, short=short, province=self._province_row[1])

    @cached_property
    def _text_map(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for code in self._jiangsu_cities:
            _code, name, short = next(row for row in city_rows() if row[0] == code)
            _target, target_name, target_short = self.city(code)
            mapping[name] = target_name
            mapping[short] = target_short
        mapping["江苏省"] = self._province_row[1]
        mapping["江苏"] = self._province_row[2]
        return mapping

    def text(self, value: str) -> str:
        """Free text of the 江苏 demo (remarks, notices) with its places recast."""
        if self.identity or not value:
            return value
        for jiangsu_name in sorted(INSTITUTION_NAMES, key=len, reverse=True):
            if jiangsu_name in value:
                value = value.replace(jiangsu_name, self.institution_name(jiangsu_name, _region_of_name(jiangsu_name)))
        pattern = re.compile("|".join(sorted(map(re.escape, self._text_map), key=len, reverse=True)))
        return pattern.sub(lambda match: self._text_map[match.group(0)], value)

    @property
    def rules(self):
        return rules_for(self.province)


def _region_of_name(name: str) -> str:
    return {"无锡": "320200", "苏州": "320500", "徐州": "320300", "南通": "320600"}.get(name[:2], "320100")


def current() -> Cast:
    return _cast(home_province_code())


@cache
def _cast(province: str) -> Cast:
    return Cast(province)
