from core.navigation import menus_for


def navigation(request):
    user = getattr(request, "user", None)
    from core.search import SEARCH_ROLES

    return {
        "nav_menus": menus_for(user) if user is not None else [],
        "people_search": bool(user is not None and user.is_authenticated and user.has_role(*SEARCH_ROLES)),
    }
