"""Role home pages: each app contributes panels of real counts in its `dashboard.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Tile:
    label: str
    value: int | str
    url: str = ""
    tone: str = "primary"  # bootstrap colour: primary, warning, danger, success, secondary
    note: str = ""


@dataclass
class Panel:
    title: str
    tiles: list[Tile] = field(default_factory=list)
    order: int = 100
    note: str = ""


PanelProvider = Callable[[object], "Panel | None"]
_providers: list[PanelProvider] = []


def panel(func: PanelProvider) -> PanelProvider:
    """Register a function `(user) -> Panel | None` for the home page."""
    if func not in _providers:
        _providers.append(func)
    return func


def panels_for(user) -> list[Panel]:
    result = [p for provider in _providers if (p := provider(user)) is not None]
    return sorted(result, key=lambda p: p.order)
