"""Demo data for core: agencies, institutions, insured persons and the demo staff.

Everything is keyed by natural keys, so running it again changes nothing.
"""

from __future__ import annotations

from datetime import date

from core import demo_cast
from core.idcard import build_id_number, id_number_hash
from core.jurisdictions import city_agency_name
from core.models import Agency, Institution, InsuredPerson, Region, Role, User
from core.otp import enrol_demo_device
from core.reference import home_province_code
from core.roles import group_for

DEMO_PASSWORD = "yidi-demo-2026"

# username, full name, role, agency region — the 江苏 demo; demo_users() gives the home province's.
JIANGSU_USERS: list[tuple[str, str, Role | None, str]] = [
    ("clerk_nanjing", "王晓敏", Role.CLERK, "320100"),
    ("supervisor_nanjing", "陈建国", Role.SUPERVISOR, "320100"),
    ("finance_nanjing", "刘芳", Role.FINANCE, "320100"),
    ("clerk_wuxi", "赵磊", Role.CLERK, "320200"),
    ("supervisor_wuxi", "孙丽华", Role.SUPERVISOR, "320200"),
    ("finance_wuxi", "周静", Role.FINANCE, "320200"),
    ("clearing_jiangsu", "吴振宇", Role.CLEARING_OFFICER, "320000"),
    ("admin", "系统管理员", Role.ADMINISTRATOR, "320000"),
    ("security_admin", "安全管理员", Role.SECURITY_ADMIN, "320000"),
    ("audit_admin", "审计管理员", Role.AUDIT_ADMIN, "320000"),
]


def demo_users() -> list[tuple[str, str, Role | None, str]]:
    """The demo accounts of the home province (the 江苏 names recast, see core.demo_cast)."""
    cast = demo_cast.current()
    return [(cast.username(name), full_name, role, cast.code(region)) for name, full_name, role, region in JIANGSU_USERS]

# code, name, region, kind, level, designated, networked, can_refer
INSTITUTIONS: list[tuple[str, str, str, str, str, bool, bool, bool]] = [
    ("H32010600001", "南京鼓楼医院", "320100", "hospital", "3", True, True, True),
    ("H32010600002", "江苏省人民医院", "320100", "hospital", "3", True, True, True),
    ("H32010500003", "南京市第一医院", "320100", "hospital", "3", True, True, True),
    ("H32011500004", "南京市江宁区人民医院", "320100", "hospital", "2", True, True, False),
    ("H32011300005", "南京市栖霞区社区卫生服务中心", "320100", "hospital", "1", True, False, False),
    ("P32010200006", "南京大药房新街口店", "320100", "pharmacy", "0", True, True, False),
    ("H32020000001", "无锡市人民医院", "320200", "hospital", "3", True, True, True),
    ("H32020000002", "无锡市第二人民医院", "320200", "hospital", "3", True, True, True),
    ("H32020000003", "无锡市滨湖区中医院", "320200", "hospital", "2", True, True, False),
    ("H32050000001", "苏州大学附属第一医院", "320500", "hospital", "3", True, True, True),
    ("H32030000001", "徐州医科大学附属医院", "320300", "hospital", "3", True, True, True),
    ("H32060000001", "南通大学附属医院", "320600", "hospital", "3", True, True, True),
    ("H11000000001", "北京协和医院", "110000", "hospital", "3", True, True, False),
    ("H31000000001", "复旦大学附属中山医院", "310000", "hospital", "3", True, True, False),
    ("H33010000001", "浙江大学医学院附属第一医院", "330100", "hospital", "3", True, True, False),
    ("H44010000001", "中山大学附属第一医院", "440100", "hospital", "3", True, True, False),
    ("H46020000001", "三亚市人民医院", "460200", "hospital", "3", True, False, False),
    ("H51010000001", "四川大学华西医院", "510100", "hospital", "3", True, True, False),
    ("X33010000009", "杭州西湖私立诊所（非定点）", "330100", "hospital", "0", False, False, False),
]

# name, region of the ID address, birth date, sequence, insurance type, insured region, phone
PERSONS: list[tuple[str, str, date, int, str, str, str]] = [
    ("李秀英", "320106", date(1956, 3, 12), 24, "310", "320100", "13905150001"),
    ("张伟", "320102", date(1958, 11, 2), 31, "310", "320100", "13905150002"),
    ("王芳", "320104", date(1985, 6, 18), 42, "310", "320100", "13905150003"),
    ("刘洋", "320105", date(1990, 1, 25), 57, "390", "320100", "13905150004"),
    ("陈静", "320111", date(2004, 9, 9), 68, "390", "320100", "13905150005"),
    ("杨帆", "320113", date(1972, 4, 30), 73, "310", "320100", "13905150006"),
    ("赵桂兰", "320114", date(1949, 12, 1), 80, "390", "320100", "13905150007"),
    ("黄磊", "320115", date(1981, 7, 7), 95, "310", "320100", "13905150008"),
    ("周敏", "320102", date(1994, 2, 14), 102, "390", "320100", "13905150009"),
    ("吴建华", "320106", date(1963, 8, 20), 117, "310", "320100", "13905150010"),
    ("徐丽", "320211", date(1960, 5, 5), 22, "310", "320200", "13806170001"),
    ("孙强", "320213", date(1975, 10, 10), 33, "310", "320200", "13806170002"),
    ("马晓燕", "320214", date(1988, 3, 3), 44, "390", "320200", "13806170003"),
    ("朱军", "320205", date(1955, 1, 18), 55, "310", "320200", "13806170004"),
    ("胡婷", "320206", date(2001, 11, 11), 66, "390", "320200", "13806170005"),
    ("郭志强", "320211", date(1968, 6, 6), 77, "310", "320200", "13806170006"),
]


def upsert(model, *, defaults: dict, **lookup):
    """Like update_or_create, but writes (and adds a history row) only when something changed,
    so seeding twice leaves the database exactly as it was."""
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        return model._default_manager.create(**lookup, **defaults)
    changed = [field for field, value in defaults.items() if getattr(obj, field) != value]
    if changed:
        for field in changed:
            setattr(obj, field, defaults[field])
        obj.save(update_fields=changed)
    return obj


def seed_agencies(regions: dict[str, Region]) -> None:
    """The province-level agency and one per city of the home province, named by its rule set."""
    province = regions[home_province_code()]
    rules = demo_cast.current().rules
    upsert(
        Agency,
        region=province,
        defaults={
            "name": rules.province_agency,
            "short_name": rules.province_agency_short,
            "phone": rules.province_agency_phone,
            "address": rules.province_agency_address,
        },
    )
    for city in Region.objects.cities_of(province).order_by("sort_order", "code"):
        upsert(
            Agency,
            region=city,
            defaults={
                "name": city_agency_name(city.name, rules),
                "short_name": f"{city.short_name}医保中心",
                "phone": "12393",
                "address": f"{city.name}政务服务中心医保窗口（演示地址）",
            },
        )


def seed(stdout=None) -> None:
    regions = {region.code: region for region in Region.objects.all()}
    cast = demo_cast.current()
    seed_agencies(regions)
    for code, name, region, kind, level, designated, networked, can_refer in INSTITUTIONS:
        upsert(
            Institution,
            code=cast.institution_code(code),
            defaults={
                "name": cast.institution_name(name, region),
                "region": regions[cast.code(region)],
                "kind": kind,
                "level": level,
                "designated": designated,
                "networked": networked,
                "can_refer": can_refer,
            },
        )
    for name, address_code, birth, sequence, insurance_type, region, phone in PERSONS:
        number = build_id_number(cast.code(address_code), birth, sequence)
        upsert(
            InsuredPerson,
            id_number_hash=id_number_hash(number),
            defaults={
                "id_number": number,
                "name": name,
                "sex": "M" if sequence % 2 else "F",
                "birth_date": birth,
                "insurance_type": insurance_type,
                "insured_region": regions[cast.code(region)],
                "phone": phone,
            },
        )
    users = demo_users()
    for username, full_name, role, region in users:
        ensure_demo_user(username=username, full_name=full_name, role=role, agency=regions[region].agency)
    if stdout:
        stdout.write(
            f"  core: {Agency.objects.count()} 个经办机构，{Institution.objects.count()} 个定点医药机构，"
            f"{InsuredPerson.objects.count()} 名参保人员，{len(users)} 个演示账号"
        )


def ensure_demo_user(*, username: str, full_name: str, role: Role | None, agency: Agency, **extra) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"full_name": full_name, "agency": agency})
    changed = False
    for field, value in {"full_name": full_name, "agency": agency, "is_active": True, **extra}.items():
        if getattr(user, field) != value:
            setattr(user, field, value)
            changed = True
    # 三员分立: the administrators reach /admin/ through their group permissions; none is a
    # superuser (a superuser holds every role, business ones included).
    staff = role in (Role.ADMINISTRATOR, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)
    if (user.is_staff, user.is_superuser) != (staff, False):
        user.is_staff, user.is_superuser = staff, False
        changed = True
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        changed = True
    if changed:
        user.save()
    if role is not None:
        user.groups.add(group_for(role))
    enrol_demo_device(user)
    return user
