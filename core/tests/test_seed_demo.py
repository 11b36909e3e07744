import pytest
from django.apps import apps
from django.core.management import call_command

from core.demo import DEMO_PASSWORD, demo_users
from core.models import Region, Role, User

pytestmark = pytest.mark.django_db


def table_counts() -> dict[str, int]:
    skip = {"core.auditlog", "sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}
    return {
        model._meta.label_lower: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label_lower not in skip
    }


def test_seed_demo_is_idempotent_and_creates_the_named_users():
    call_command("seed_demo", quiet=True)
    first = table_counts()
    call_command("seed_demo", quiet=True)
    assert table_counts() == first

    for username, _name, role, region in demo_users():
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD), username
        assert user.has_role(role)
        assert user.agency.region_id == region
    assert User.objects.get(username="clerk_wuxi").region_code == "320200"
    assert User.objects.get(username="clearing_jiangsu").sees_all_regions
    admin = User.objects.get(username="admin")
    assert admin.is_staff and not admin.is_superuser and admin.has_role(Role.ADMINISTRATOR)


def test_reference_regions():
    assert Region.objects.provinces().count() == 31
    assert list(Region.objects.cities_of("320000").values_list("code", flat=True)) == [
        f"32{n:02d}00" for n in range(1, 14)
    ]
    assert Region.objects.get(code="330100").parent_id == "330000"


def test_demo_users_can_log_in_through_the_form(client):
    call_command("seed_demo", quiet=True)
    response = client.post("/login/", {"username": "clerk_nanjing", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert "王晓敏" in client.get("/").content.decode()
