import io
from datetime import date

import pytest
from django.urls import reverse

from core.models import CalendarDay, CalendarYear, Job, Role

pytestmark = pytest.mark.django_db

ROLES = [Role.CLERK, Role.SUPERVISOR, Role.FINANCE, Role.CLEARING_OFFICER, Role.ADMINISTRATOR]


@pytest.fixture
def staff(make_staff):
    users = {role: make_staff(f"u_{role.value}", role, "320000" if role in (Role.CLEARING_OFFICER, Role.ADMINISTRATOR) else "320100") for role in ROLES}
    users["other_clerk"] = make_staff("u_other", Role.CLERK, "320200")
    return users


# (url name, kwargs, expected status per role; anonymous always goes to the login page)
MATRIX = [
    ("home", {}, {role: 200 for role in ROLES}),
    ("job_list", {}, {role: 200 for role in ROLES}),
    ("document_list", {}, {role: 200 for role in ROLES}),
    ("calendar", {}, {role: 200 for role in ROLES}),
    ("selftest", {}, {Role.CLERK: 403, Role.SUPERVISOR: 403, Role.FINANCE: 403, Role.CLEARING_OFFICER: 403, Role.ADMINISTRATOR: 200}),
    ("calendar_template", {}, {Role.CLERK: 403, Role.SUPERVISOR: 403, Role.FINANCE: 403, Role.CLEARING_OFFICER: 403, Role.ADMINISTRATOR: 200}),
]


@pytest.mark.parametrize(("name", "kwargs", "expected"), MATRIX)
def test_permission_matrix(client, staff, name, kwargs, expected):
    url = reverse(name, kwargs=kwargs or None)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for role, status in expected.items():
        client.force_login(staff[role])
        assert client.get(url).status_code == status, (name, role)


def test_another_regions_job_is_404_but_province_sees_it(client, staff):
    job = Job.objects.create(kind="core.pdf_selftest", title="南京任务", created_by=staff[Role.CLERK])
    url = reverse("job_detail", args=[job.pk])
    client.force_login(staff["other_clerk"])
    assert client.get(url).status_code == 404
    client.force_login(staff[Role.CLERK])
    assert client.get(url).status_code == 200
    client.force_login(staff[Role.CLEARING_OFFICER])
    assert client.get(url).status_code == 200


def test_home_shows_the_user_and_agency(client, staff):
    client.force_login(staff[Role.CLERK])
    page = client.get(reverse("home")).content.decode()
    assert staff[Role.CLERK].full_name in page
    assert "南京市医疗保障基金管理中心" in page
    assert "窗口经办人员" in page


def test_administrator_home_has_real_counts(client, staff):
    client.force_login(staff[Role.ADMINISTRATOR])
    page = client.get(reverse("home")).content.decode()
    assert "系统管理" in page and "在用账号" in page and "定点医药机构" in page


def test_pages_load_no_outside_assets(client, staff):
    client.force_login(staff[Role.CLERK])
    page = client.get(reverse("home")).content.decode()
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in page
    assert "/static/vendor/htmx/htmx.min.js" in page
    for marker in ("http://", "https://", "//cdn"):
        assert marker not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_static_vendor_files_are_served(client, staff):
    client.force_login(staff[Role.CLERK])
    for path in ("/static/vendor/bootstrap/css/bootstrap.min.css", "/static/vendor/htmx/htmx.min.js", "/static/vendor/chart.js/chart.umd.min.js"):
        response = client.get(path)
        assert response.status_code == 200, path


def test_administrator_imports_a_new_year_calendar(client, staff):
    client.force_login(staff[Role.ADMINISTRATOR])
    upload = io.BytesIO("日期,类型,名称\n2027-01-01,休息,元旦\n2027-02-20,上班,春节调休上班\n".encode("gb18030"))
    upload.name = "2027.csv"
    response = client.post(reverse("calendar"), {"year": 2027, "notice": "国办发明电〔2026〕X号", "file": upload})
    assert response.status_code == 302
    assert CalendarYear.objects.get(year=2027).confirmed
    assert set(CalendarDay.objects.filter(date__year=2027).values_list("name", flat=True)) == {"元旦", "春节调休上班"}


def test_bad_calendar_file_shows_every_error_and_writes_nothing(client, staff):
    client.force_login(staff[Role.ADMINISTRATOR])
    upload = io.BytesIO("日期,类型,名称\n2027-02-30,休息,x\n2027-03-01,放假吗,y\n".encode())
    upload.name = "bad.csv"
    page = client.post(reverse("calendar"), {"year": 2027, "file": upload}).content.decode()
    assert "第2行：日期“2027-02-30”无效" in page
    assert "第3行：类型“放假吗”无法识别" in page
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_only_administrators_may_import_the_calendar(client, staff):
    client.force_login(staff[Role.CLERK])
    upload = io.BytesIO("日期,类型,名称\n2027-01-01,休息,元旦\n".encode())
    upload.name = "x.csv"
    client.post(reverse("calendar"), {"year": 2027, "file": upload})
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_admin_is_in_chinese(client, staff):
    admin_user = staff[Role.ADMINISTRATOR]
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    page = client.get(reverse("admin:index")).content.decode()
    assert "系统管理" in page and "定点医药机构" in page and "工作日历年度" in page
    page = client.get(reverse("admin:core_region_changelist")).content.decode()
    assert "南京市" in page


def test_administrator_runs_the_print_selftest(client, staff, django_capture_on_commit_callbacks):
    client.force_login(staff[Role.ADMINISTRATOR])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("selftest"))
    job = Job.objects.get()
    assert response["Location"] == reverse("job_detail", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "已完成" in page and "打印自检样表" in page and "下载" in page


def test_calendar_page_ignores_a_bad_year_parameter(client, staff):
    client.force_login(staff[Role.CLERK])
    for value in ("abc", "99999", "-1"):
        assert client.get(reverse("calendar"), {"year": value}).status_code == 200


def test_calendar_file_with_extra_cells_is_refused_with_the_row(client, staff):
    client.force_login(staff[Role.ADMINISTRATOR])
    upload = io.BytesIO("日期,类型,名称\n2027-01-01,休息,元旦,多余\n".encode())
    upload.name = "extra.csv"
    page = client.post(reverse("calendar"), {"year": 2027, "file": upload}).content.decode()
    assert "第2行：列数多于表头" in page
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_admin_adds_an_insured_person_and_the_id_number_decides_sex_and_birth(client, staff):
    from core.idcard import build_id_number
    from core.models import InsuredPerson

    admin_user = staff[Role.ADMINISTRATOR]
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    data = {"name": "钱多多", "insurance_type": "310", "insured_region": "320100", "phone": "", "phone_alt": "", "address": ""}
    bad = client.post(reverse("admin:core_insuredperson_add"), {**data, "id_number": "32010619900101123"})
    assert "应为18位" in bad.content.decode()
    assert not InsuredPerson.objects.exists()
    number = build_id_number("320106", date(1990, 3, 8), 21).lower()
    response = client.post(reverse("admin:core_insuredperson_add"), {**data, "id_number": number})
    assert response.status_code == 302, response.content.decode()[:2000]
    person = InsuredPerson.objects.get()
    assert (person.sex, person.birth_date, person.id_number) == ("M", date(1990, 3, 8), number.upper())


def test_an_administrator_cannot_make_anyone_a_superuser(client, staff):
    admin_user = staff[Role.ADMINISTRATOR]
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    target = staff[Role.CLERK]
    page = client.get(reverse("admin:core_user_change", args=[target.pk])).content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="groups"' in page


def test_whitenoise_serves_vendor_files_from_source_without_autorefresh(settings):
    """`make run` (debug off, static from source): whitenoise lists the finders at start-up."""
    from whitenoise.middleware import WhiteNoiseMiddleware

    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = False
    middleware = WhiteNoiseMiddleware(lambda request: None)
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in middleware.files
    assert "/static/vendor/bootstrap-icons/fonts/bootstrap-icons.woff2" in middleware.files
    assert not any(url.startswith("/static/django_htmx/") for url in middleware.files)


def test_document_filter_names_the_forms_not_their_codes(client, staff):
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from core.models import Document

    for kind in ("clearing.annex10", "reimbursement_receipt", "filing_annex1"):
        Document.objects.create(kind=kind, key=f"k:{kind}", title="t", filename="f.pdf", file=ContentFile(b"%PDF", name="f.pdf"),
                                sha256="0" * 64, region_id="320000", created_at=timezone.now())
    client.force_login(staff[Role.ADMINISTRATOR])
    page = client.get(reverse("document_list")).content.decode()
    for label in ("附件10 异地就医医疗费用清算平衡总表", "受理回执", "附件1 长期异地居住人员个人承诺书"):
        assert f">{label}</option>" in page, label
    assert ">clearing.annex10<" not in page
