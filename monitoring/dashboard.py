"""Home-page tile of 运行监测: the regions and indicators over their warning line
in the latest month with data (a constant number of queries on the aggregates)."""

from __future__ import annotations

from django.urls import reverse

from core.dashboard import Panel, Tile, panel
from core.models import Role
from core.reference import home_province_code
from monitoring import rules, selectors

VIEWERS = (Role.CLEARING_OFFICER, Role.FINANCE, Role.SUPERVISOR)
SHOWN = 6


def flags_for(user, spec: rules.PeriodSpec) -> list[tuple[str, str, rules.Flag]]:
    """(region code, region name, flag) the user may see: a city its own, the province all."""
    codes = None if user.sees_all_regions else [user.region_code]
    figures = selectors.region_figures(spec, codes)
    return [(code, item.name, flag) for code, item in figures.items() for flag in item.flags]


@panel
def monitoring_panel(user) -> Panel | None:
    if not user.has_role(*VIEWERS) or not (user.sees_all_regions or user.region_code):
        return None
    latest = selectors.latest_period()
    if latest is None:
        return None
    spec = rules.parse_period(latest)
    flags = flags_for(user, spec)
    url = reverse("monitoring:overview")
    direction_text = {"outflow": "差出", "inflow": "差进", "": ""}
    tiles = [
        Tile(
            f"{name}{direction_text[flag.direction]}",
            "预警",
            f"{url}?period={spec.code}&region={code}" if user.sees_all_regions or code == user.region_code else url,
            tone="danger",
            note=flag.reason,
        )
        for code, name, flag in flags[:SHOWN]
    ]
    if len(flags) > SHOWN:
        tiles.append(Tile("其余预警", len(flags) - SHOWN, f"{url}?period={spec.code}&region={home_province_code()}", tone="danger"))
    if not tiles:
        tiles.append(Tile(f"{spec.label}监测预警", 0, f"{url}?period={spec.code}", tone="success", note="各项指标均在预警值以内"))
    return Panel(title=f"运行监测预警（{spec.label}）", tiles=tiles, order=35)
