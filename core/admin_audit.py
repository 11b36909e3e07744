"""Role and permission changes made in /admin/ go to the audit trail.

Who may do what is the most sensitive state of all: a user's groups (岗位), direct
permissions, agency (which region they see), active/staff/superuser flags, and a
group's permissions. The admin classes take a snapshot before saving and after the
many-to-many fields are saved, and `record_access_change` logs the difference.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group

from core.audit import log_action
from core.models import AuditLog, User

USER_FIELDS = {"agency": "所属经办机构", "institution": "所属定点医疗机构", "is_active": "启用", "is_staff": "可登录管理后台", "is_superuser": "超级用户"}
SET_FIELDS = {"groups": "岗位", "user_permissions": "单独权限", "permissions": "权限"}


def _permission_names(permissions) -> list[str]:
    return sorted(f"{app_label}.{codename}" for app_label, codename in permissions.values_list("content_type__app_label", "codename"))


def access_snapshot(obj) -> dict[str, Any]:
    """What `obj` (a User or a Group) is allowed to do, as plain values."""
    if isinstance(obj, Group):
        return {"permissions": _permission_names(obj.permissions)}
    snapshot: dict[str, Any] = {
        "groups": sorted(obj.groups.values_list("name", flat=True)),
        "user_permissions": _permission_names(obj.user_permissions),
    }
    for field in USER_FIELDS:
        value = getattr(obj, field)
        snapshot[field] = value if isinstance(value, bool) else (str(value) if value is not None else "")
    return snapshot


def access_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    diff: dict[str, Any] = {}
    for key, new in after.items():
        old = before.get(key, [] if isinstance(new, list) else ("" if not isinstance(new, bool) else False))
        if isinstance(new, list):
            added = sorted(set(new) - set(old))
            removed = sorted(set(old) - set(new))
            if added or removed:
                diff[key] = {"added": added, "removed": removed}
        elif old != new:
            diff[key] = {"from": old, "to": new}
    return diff


def _describe(diff: dict[str, Any]) -> str:
    parts = []
    for key, change in diff.items():
        if key in SET_FIELDS:
            label = SET_FIELDS[key]
            if change["added"]:
                parts.append(f"增加{label}：{'、'.join(change['added'])}")
            if change["removed"]:
                parts.append(f"取消{label}：{'、'.join(change['removed'])}")
        else:
            def show(value):
                return ("是" if value else "否") if isinstance(value, bool) else (value or "（无）")

            parts.append(f"{USER_FIELDS[key]}：{show(change['from'])} → {show(change['to'])}")
    return "；".join(parts)


def record_access_change(*, obj: User | Group, before: dict[str, Any] | None, by: User) -> AuditLog | None:
    """Log what changed in `obj`'s access since `before` (None: it was just created)."""
    diff = access_diff(before or {}, access_snapshot(obj))
    if not diff:
        return None
    kind = "岗位组" if isinstance(obj, Group) else "工作人员"
    return log_action(
        action=AuditLog.Action.PERMISSION,
        user=by,
        obj=obj,
        to_state="created" if before is None else "changed",
        message=f"{kind} {obj} 权限变更：{_describe(diff)}",
        data=diff,
    )


def record_access_removed(*, obj: User | Group, by: User) -> AuditLog:
    kind = "岗位组" if isinstance(obj, Group) else "工作人员"
    return log_action(
        action=AuditLog.Action.PERMISSION,
        user=by,
        obj=obj,
        to_state="deleted",
        message=f"删除{kind} {obj}",
        data={"before": access_snapshot(obj)},
    )


class AccessAuditMixin:
    """For a ModelAdmin of User or Group: audit every change of access it saves or deletes."""

    def save_model(self, request, obj, form, change):
        request._yidi_access_before = access_snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        record_access_change(obj=form.instance, before=getattr(request, "_yidi_access_before", None), by=request.user)

    def delete_model(self, request, obj):
        record_access_removed(obj=obj, by=request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            record_access_removed(obj=obj, by=request.user)
        super().delete_queryset(request, queryset)
