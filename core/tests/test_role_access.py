"""The archive and the job list check the role as well as the region (issue 14, finding 1):
a hospital account sees only what concerns its own referrals and its own jobs."""

import pytest
from django.urls import reverse

from core.documents import store_document
from core.models import Job, Role
from core.tests.factories import InstitutionFactory, region
from filings.models import Channel, PersonType
from filings.printing import document_key
from filings.tests.factories import FilingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hospital(make_staff):
    institution = InstitutionFactory(name="南京测试医院", can_refer=True)
    return make_staff("hospital_nj", Role.HOSPITAL, "320100", institution=institution)


@pytest.fixture
def archive(clerk, hospital):
    """A city's archive: the provincial-upload export with full ID numbers, a clerk's job,
    and the 附件8 of a referral filed by the hospital and of one filed by another hospital."""
    nanjing = region("320100")
    clerk_job = Job.objects.create(kind="core.pdf_selftest", title="备案上传", created_by=clerk, region=nanjing)
    upload = store_document(kind="filing_upload", key="filing:upload:1", title="备案信息上传省平台文件",
                            filename="upload.xlsx", content=b"id numbers", by=clerk, region=nanjing, job=clerk_job)
    own = FilingFactory(person_type=PersonType.REFERRAL, channel=Channel.HOSPITAL,
                        referring_institution=hospital.institution)
    other = FilingFactory(person_type=PersonType.REFERRAL, channel=Channel.COUNTER,
                          referring_institution=InstitutionFactory(name="另一家医院", can_refer=True))
    own_form = store_document(kind="filing_annex8", key=document_key(own, "annex8"), title="附件8（本院转诊）",
                              filename="own.pdf", content=b"own", by=clerk, region=nanjing)
    other_form = store_document(kind="filing_annex8", key=document_key(other, "annex8"), title="附件8（他院转诊）",
                                filename="other.pdf", content=b"other", by=clerk, region=nanjing)
    hospital_job = Job.objects.create(kind="core.pdf_selftest", title="本院打印", created_by=hospital, region=nanjing)
    return {"upload": upload, "own_form": own_form, "other_form": other_form,
            "clerk_job": clerk_job, "hospital_job": hospital_job}


def test_hospital_cannot_download_the_citys_archive(client, hospital, archive):
    client.force_login(hospital)
    assert client.get(reverse("document_download", args=[archive["upload"].pk])).status_code == 404
    assert client.get(reverse("document_download", args=[archive["other_form"].pk])).status_code == 404


def test_hospital_downloads_the_forms_of_its_own_referrals(client, hospital, archive):
    client.force_login(hospital)
    assert client.get(reverse("document_download", args=[archive["own_form"].pk])).status_code == 200


def test_hospital_document_list_shows_only_its_referrals(client, hospital, archive):
    client.force_login(hospital)
    page = client.get(reverse("document_list")).content.decode()
    assert "附件8（本院转诊）" in page
    assert "备案信息上传省平台文件" not in page and "附件8（他院转诊）" not in page


def test_hospital_sees_only_its_own_jobs(client, hospital, archive):
    client.force_login(hospital)
    assert client.get(reverse("job_detail", args=[archive["clerk_job"].pk])).status_code == 404
    assert client.get(reverse("job_progress", args=[archive["clerk_job"].pk])).status_code == 404
    assert client.get(reverse("job_detail", args=[archive["hospital_job"].pk])).status_code == 200
    page = client.get(reverse("job_list")).content.decode()
    assert "本院打印" in page and "备案上传" not in page


def test_agency_staff_still_see_their_regions_archive(client, clerk, archive):
    client.force_login(clerk)
    for document in ("upload", "own_form", "other_form"):
        assert client.get(reverse("document_download", args=[archive[document].pk])).status_code == 200
    assert client.get(reverse("job_detail", args=[archive["hospital_job"].pk])).status_code == 200


def test_an_account_without_a_role_sees_no_archive(client, make_staff, archive):
    nobody = make_staff("no_role_nj", None, "320100")
    client.force_login(nobody)
    assert client.get(reverse("document_download", args=[archive["upload"].pk])).status_code == 404
    assert client.get(reverse("job_detail", args=[archive["clerk_job"].pk])).status_code == 404
