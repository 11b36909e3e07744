from functools import wraps

from django.core.exceptions import PermissionDenied

from core.models import Role


def role_required(*roles: Role):
    """Allow the view only to users holding one of `roles` (superusers always)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_role(*roles):
                raise PermissionDenied("您的岗位没有这项操作的权限。")
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator
