"""Role groups and their permissions.

Each app lists what its roles may do in `<app>/roles.py` as
`PERMISSIONS = {Role.CLERK: ["app.codename", ...], ...}`; `sync_role_groups()`
makes the groups match (run after every migrate, and by seed_demo).
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import Group, Permission

from core.discovery import app_modules
from core.models import Role

logger = logging.getLogger(__name__)

PERMISSIONS: dict[Role, list[str]] = {
    Role.CLERK: ["core.view_insuredperson", "core.add_insuredperson", "core.change_insuredperson", "core.view_document"],
    Role.SUPERVISOR: ["core.view_insuredperson", "core.view_document"],
    Role.FINANCE: ["core.view_insuredperson", "core.view_document"],
    Role.CLEARING_OFFICER: ["core.view_document"],
    Role.HOSPITAL: ["core.view_insuredperson", "core.add_insuredperson"],
    Role.ADMINISTRATOR: [
        "core.view_document",
        *(
            f"core.{action}_{model}"
            for model in ("region", "agency", "institution", "insuredperson", "calendaryear", "calendarday", "user")
            for action in ("view", "add", "change")
        ),
        "core.delete_calendarday",
        "core.view_job",
        "auth.view_group",
    ],
    # 三员分立: lockouts and the audit chain are the security administrator's; the audit log
    # itself is read by the audit administrator alone (the system administrator's actions are in it).
    Role.SECURITY_ADMIN: [
        "core.view_auditchaincheck",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accessfailurelog",
    ],
    Role.AUDIT_ADMIN: ["core.view_auditlog", "core.view_auditchaincheck"],
}

#: The roles that administer the system and may never do business actions.
ADMINISTRATION_ROLES = (Role.ADMINISTRATOR, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)


def declared_permissions() -> dict[Role, set[str]]:
    merged: dict[Role, set[str]] = {role: set() for role in Role}
    for module in app_modules("roles"):
        for role, names in getattr(module, "PERMISSIONS", {}).items():
            merged[role].update(names)
    return merged


def sync_role_groups() -> None:
    """Create one group per role and give it exactly its declared permissions."""
    wanted = declared_permissions()
    available = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list("pk", "content_type__app_label", "codename")
    }
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.group_name)
        ids = set()
        for name in wanted[role]:
            if name in available:
                ids.add(available[name])
            else:
                logger.debug("permission %s for %s does not exist yet", name, role)
        if set(group.permissions.values_list("pk", flat=True)) != ids:
            group.permissions.set(ids)


def group_for(role: Role) -> Group:
    return Group.objects.get(name=role.group_name)
