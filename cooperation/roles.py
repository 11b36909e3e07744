"""What each role may do with 费用协查 and 问题协同 (merged by core.roles.sync_role_groups).
Which side may act is decided by the services (the case's regions), not by these permissions."""

from core.models import Role

_VIEW = ["cooperation.view_assistrequest", "cooperation.view_coordination"]
_WORK = [*_VIEW, "cooperation.add_assistrequest", "cooperation.change_assistrequest", "cooperation.add_coordination",
         "cooperation.change_coordination"]

PERMISSIONS = {
    Role.CLERK: _WORK,
    Role.SUPERVISOR: _WORK,
    Role.CLEARING_OFFICER: _WORK,
    Role.ADMINISTRATOR: _VIEW,
}
