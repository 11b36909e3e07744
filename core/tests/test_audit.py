"""The audit trail: role and permission changes in /admin/ are recorded, and every row carries the client IP."""

import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from core.models import AuditLog, Role, User
from core.roles import group_for
from core.tests.factories import AgencyFactory, region

pytestmark = pytest.mark.django_db


def user_change_form(user: User, **overrides) -> dict:
    data = {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "agency": user.agency_id or "",
        "institution": user.institution_id or "",
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "groups": [str(pk) for pk in user.groups.values_list("pk", flat=True)],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != "" or key in ("institution", "agency")}


def test_a_state_change_service_records_the_client_ip_without_being_given_the_request(client, administrator):
    client.force_login(administrator)
    upload = io.BytesIO("日期,类型,名称\n2027-01-01,休息,元旦\n".encode("gb18030"))
    upload.name = "2027.csv"
    response = client.post(reverse("calendar"), {"year": 2027, "file": upload}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
    entry = AuditLog.objects.get(action=AuditLog.Action.IMPORT)
    assert entry.ip == "10.1.2.3"


def test_granting_a_role_in_admin_is_audited_with_before_after_and_ip(client, administrator, clerk):
    client.force_login(administrator)
    url = reverse("admin:core_user_change", args=[clerk.pk])
    groups = [str(group_for(Role.CLERK).pk), str(group_for(Role.SUPERVISOR).pk)]
    response = client.post(url, user_change_form(clerk, groups=groups), REMOTE_ADDR="10.7.7.7")
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditLog.objects.get(action=AuditLog.Action.PERMISSION, object_id=str(clerk.pk))
    assert entry.user == administrator
    assert entry.ip == "10.7.7.7"
    assert entry.data["groups"]["added"] == [Role.SUPERVISOR.label]
    assert entry.data["groups"]["removed"] == []
    assert "审核人员" in entry.message


def test_moving_staff_to_another_region_and_deactivating_are_audited(client, administrator, clerk):
    client.force_login(administrator)
    wuxi = AgencyFactory(region=region("320200"))
    url = reverse("admin:core_user_change", args=[clerk.pk])
    response = client.post(url, user_change_form(clerk, agency=wuxi.pk, is_active=""))
    assert response.status_code == 302
    entry = AuditLog.objects.get(action=AuditLog.Action.PERMISSION, object_id=str(clerk.pk))
    assert entry.data["agency"]["to"] == str(wuxi)
    assert entry.data["is_active"] == {"from": True, "to": False}


def test_saving_a_user_without_permission_changes_writes_no_permission_record(client, administrator, clerk):
    client.force_login(administrator)
    url = reverse("admin:core_user_change", args=[clerk.pk])
    response = client.post(url, user_change_form(clerk, full_name="新名字"))
    assert response.status_code == 302
    assert not AuditLog.objects.filter(action=AuditLog.Action.PERMISSION).exists()


def test_changing_a_groups_permissions_in_admin_is_audited(client, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", password="x-Very-long-pass-1")
    client.force_login(superuser)
    group = group_for(Role.FINANCE)
    permission = Permission.objects.get(codename="view_auditlog")
    permissions = [str(pk) for pk in group.permissions.values_list("pk", flat=True)] + [str(permission.pk)]
    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]), {"name": group.name, "permissions": permissions}, REMOTE_ADDR="10.8.8.8"
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditLog.objects.get(action=AuditLog.Action.PERMISSION, object_id=str(group.pk))
    assert entry.ip == "10.8.8.8"
    assert entry.data["permissions"]["added"] == ["core.view_auditlog"]


def test_deleting_a_group_in_admin_is_audited(client, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", password="x-Very-long-pass-1")
    client.force_login(superuser)
    group = Group.objects.create(name="临时组")
    response = client.post(reverse("admin:auth_group_delete", args=[group.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert AuditLog.objects.filter(action=AuditLog.Action.PERMISSION, object_repr="临时组", to_state="deleted").exists()
