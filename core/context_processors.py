from core.navigation import menus_for


def navigation(request):
    user = getattr(request, "user", None)
    return {"nav_menus": menus_for(user) if user is not None else []}
