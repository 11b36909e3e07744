"""The top navigation, built from what each app registers in its `navigation.py`."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

from core.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: tuple[Role, ...]
    menu: str = ""  # items sharing a menu label form a dropdown
    order: int = 100
    icon: str = ""
    url_kwargs: dict = field(default_factory=dict)

    def url(self) -> str | None:
        try:
            return reverse(self.url_name, kwargs=self.url_kwargs or None)
        except NoReverseMatch:
            return None


_items: list[NavItem] = []


def register(*items: NavItem) -> None:
    for item in items:
        if item not in _items:
            _items.append(item)


@dataclass
class NavMenu:
    label: str
    order: int
    icon: str
    links: list[tuple[str, str, str]]  # (label, url, icon)


def menus_for(user) -> list[NavMenu]:
    if not getattr(user, "is_authenticated", False):
        return []
    menus: dict[str, NavMenu] = {}
    for item in sorted(_items, key=lambda entry: entry.order):
        if not user.has_role(*item.roles):
            continue
        url = item.url()
        if url is None:
            continue
        name = item.menu or item.label
        menu = menus.setdefault(name, NavMenu(label=name, order=item.order, icon=item.icon, links=[]))
        menu.links.append((item.label, url, item.icon))
    return sorted(menus.values(), key=lambda menu: menu.order)


register(NavItem("安全管理", "security_overview", (Role.SECURITY_ADMIN,), order=90, icon="shield-check"))
