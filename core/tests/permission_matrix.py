"""The data behind test_permission_matrix.py: the staff of every role, one object of
each kind in the staff's own region (南京 320100) and one in another region (无锡 320200).

Kept apart from the rules so that an app added later (cooperation/, monitoring/) adds
its objects here and its URL rules in test_permission_matrix.RULES.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.documents import store_document
from core.models import Job, Role
from core.tests.factories import InstitutionFactory, InsuredPersonFactory, make_user, region

OWN, OTHER = "320100", "320200"

#: The roles the matrix is walked with. City staff belong to 南京; the clearing officer
#: and the three administrators (三员: system, security, audit) to the province (they see
#: every city); the hospital account belongs to a 南京 hospital that refers patients.
ROLES = ("anonymous", "clerk", "supervisor", "finance", "clearing", "admin", "hospital", "security", "audit")
CITY_ROLES = frozenset({"clerk", "supervisor", "finance", "hospital"})
STAFF_ROLES = ROLES[1:]


def make_staff() -> dict:
    hospital = InstitutionFactory(name="南京矩阵医院", can_refer=True, region=region(OWN))
    users = {
        "clerk": make_user("m_clerk", Role.CLERK, OWN),
        "supervisor": make_user("m_supervisor", Role.SUPERVISOR, OWN),
        "finance": make_user("m_finance", Role.FINANCE, OWN),
        "clearing": make_user("m_clearing", Role.CLEARING_OFFICER, "320000"),
        "admin": make_user("m_admin", Role.ADMINISTRATOR, "320000", is_staff=True),
        "hospital": make_user("m_hospital", Role.HOSPITAL, OWN, institution=hospital),
        "security": make_user("m_security", Role.SECURITY_ADMIN, "320000", is_staff=True),
        "audit": make_user("m_audit", Role.AUDIT_ADMIN, "320000", is_staff=True),
        # Makers in the other region (the objects there need their own staff).
        "other_clerk": make_user("m_clerk_wx", Role.CLERK, OTHER),
        "other_supervisor": make_user("m_supervisor_wx", Role.SUPERVISOR, OTHER),
    }
    return users


@dataclass
class Pair:
    """URL kwargs for an object of the staff's own region and one of another region."""

    own: dict
    other: dict = field(default_factory=dict)


def make_objects(users: dict, tmp_path) -> dict[str, Pair]:
    """Everything the URL patterns point to, built through the apps' factories and services."""
    objects: dict[str, Pair] = {}
    objects.update(_core_objects(users))
    objects.update(_filing_objects(users))
    objects.update(_reimbursement_objects(users))
    objects.update(_clearing_objects(users, tmp_path))
    objects.update(_cooperation_objects(users))
    objects.update(_monitoring_objects(users))
    objects.update(_assist_finding_objects(users))
    return objects


def _core_objects(users) -> dict[str, Pair]:
    jobs = [Job.objects.create(kind="core.pdf_selftest", title=f"矩阵任务{code}", created_by=users[maker], region=region(code))
            for code, maker in ((OWN, "clerk"), (OTHER, "other_clerk"))]
    documents = [store_document(kind="filing_upload", key=f"matrix:{code}", title="备案信息上传省平台文件",
                                filename=f"upload-{code}.xlsx", content=code.encode(), region=region(code))
                 for code in (OWN, OTHER)]
    return {"job": Pair({"pk": jobs[0].pk}, {"pk": jobs[1].pk}),
            "document": Pair({"pk": documents[0].pk}, {"pk": documents[1].pk})}


def _filing_objects(users) -> dict[str, Pair]:
    from filings.models import Channel, PersonType
    from filings.tests.factories import FilingFactory

    hospital = users["hospital"].institution
    own = FilingFactory(insured_person=InsuredPersonFactory(insured_region=region(OWN)),
                        person_type=PersonType.REFERRAL, channel=Channel.HOSPITAL, referring_institution=hospital)
    other = FilingFactory(insured_person=InsuredPersonFactory(insured_region=region(OTHER)))
    return {"filing": Pair({"pk": own.pk}, {"pk": other.pk}),
            "person": Pair({"pk": own.insured_person_id}, {"pk": other.insured_person_id})}


def _reimbursement_objects(users) -> dict[str, Pair]:
    from filings.tests.factories import FilingFactory
    from reimbursement import services
    from reimbursement.jobs import bank_file_key
    from reimbursement.models import PaymentBatch
    from reimbursement.tests.factories import ALL_INPATIENT_TICKS, beijing_hospital, inpatient_details, make_policy

    hospital = beijing_hospital()
    claims, batches, policies = [], [], []
    for code, clerk in ((OWN, users["clerk"]), (OTHER, users["other_clerk"])):
        policies.append(make_policy(code, date(2024, 1, 1)))
        person = InsuredPersonFactory(insured_region=region(code))
        FilingFactory(insured_person=person, destination=region("110000"), start_date=date(2025, 6, 1),
                      applied_on=date(2025, 6, 1))
        claim = services.claim_create(by=clerk, person=person, ticked=set(ALL_INPATIENT_TICKS),
                                      details=inpatient_details(hospital, invoice_numbers=f"MX{code}"),
                                      today=date(2026, 3, 16))
        services.claim_calculate(claim=claim, by=clerk)
        claims.append(services.claim_submit(claim=claim, by=clerk))
        batch = PaymentBatch.objects.create(number=f"MX{code}", region=region(code), created_by=clerk,
                                            total_amount=Decimal("0.00"))
        store_document(kind="reimbursement_bank_file", key=bank_file_key(batch, "csv"), title=f"银行代发文件 {batch.number}",
                       filename=f"{batch.number}-银行代发.csv", content=b"seq,account,amount\n", region=batch.region)
        batches.append(batch)
    return {
        "claim": Pair({"pk": claims[0].pk}, {"pk": claims[1].pk}),
        "batch": Pair({"pk": batches[0].pk}, {"pk": batches[1].pk}),
        "policy": Pair({"pk": policies[0].pk}, {"pk": policies[1].pk}),
    }


def _clearing_objects(users, tmp_path) -> dict[str, Pair]:
    from clearing import services
    from clearing.models import AdvancePolicy, ClearingPeriod, ImportBatch, PaymentDue, ReconciliationResult
    from clearing.tests.factories import Row, import_rows
    from core.jobs import run_job_now

    AdvancePolicy.objects.get_or_create(province_id="320000", effective_year=2017,
                                        defaults={"method": "net_outflow_share", "factor": "0.2000"})
    import_rows(tmp_path, [
        Row("M1", OWN, OTHER, fund_amount="1000.00"),
        Row("M2", OWN, "110000", fund_amount="70.00"),
        Row("M3", OTHER, "110000", fund_amount="90.00"),
        Row("M4", "330100", OTHER, fund_amount="20.00"),
    ])
    period = services.clearing_compute(period=ClearingPeriod.objects.get(), by=users["clearing"])
    job = services.clearing_issue_notices(period=period, by=users["clearing"], stamp_date=date(2026, 3, 26))
    run_job_now(job.pk)
    payments = {code: PaymentDue.objects.filter(region_id=code).order_by("pk").first() for code in (OWN, OTHER)}
    imports = [ImportBatch.objects.create(filename=f"settlements-{code}.csv", region=region(code),
                                          created_by=users["clearing"]) for code in (OWN, OTHER)]
    reconciliations = [ReconciliationResult.objects.create(
        scope="intra", region=region(code), recon_date=date(2026, 2, 10), period="2026-02", treatment_count=3,
        treatment_amount=Decimal("30.00"), province_count=2, province_amount=Decimal("20.00"), insured_count=3,
        insured_amount=Decimal("30.00"), matched=False, imported_by=users["clearing"]) for code in (OWN, OTHER)]
    return {
        "reconciliation": Pair({"pk": reconciliations[0].pk}, {"pk": reconciliations[1].pk}),
        "period": Pair({"period": period.period}, {"period": period.period}),
        "import": Pair({"pk": imports[0].pk}, {"pk": imports[1].pk}),
        "payment": Pair({"pk": payments[OWN].pk}, {"pk": payments[OTHER].pk}),
        "year": Pair({"year": 2026}, {"year": 2026}),
        "city": Pair({"year": 2026, "code": OWN}, {"year": 2026, "code": OTHER}),
        "province": Pair({"year": 2026, "code": "110000"}, {"year": 2026, "code": "110000"}),
    }


def _cooperation_objects(users) -> dict[str, Pair]:
    """A 费用协查 and a 问题协同 raised by each region towards 苏州 (so neither side sees the
    other's), each with an attachment."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cooperation import services
    from core.idcard import build_id_number
    from core.tests.factories import AgencyFactory

    suzhou = AgencyFactory(region=region("320500"))
    assists, coordinations = [], []
    for number, (code, maker) in enumerate(((OWN, "clerk"), (OTHER, "other_clerk"))):
        pdf = [SimpleUploadedFile("核查材料.pdf", b"%PDF-1.4\n%matrix\n")]
        assists.append(services.assist_create(
            by=users[maker], treatment_region=region("320500"), id_number=build_id_number(code[:4] + "06", date(1956, 3, 12), number),
            name="矩阵参保人", sex="M", institution_name="苏州市立医院", hospital_number=f"ZY{code}",
            invoice_number=f"FP{code}", admission_date=date(2026, 2, 20), discharge_date=date(2026, 3, 10),
            total_amount=Decimal("36820.50"), attachments=pdf, today=date(2026, 3, 16)))
        coordinations.append(services.coordination_create(
            by=users[maker], receiver=suzhou, kind="filing", subject="备案后无法直接结算", today=date(2026, 3, 2)))
    attachments = [assist.attachments.get() for assist in assists]
    return {
        "assist": Pair({"pk": assists[0].pk}, {"pk": assists[1].pk}),
        "coordination": Pair({"pk": coordinations[0].pk}, {"pk": coordinations[1].pk}),
        "attachment": Pair({"pk": attachments[0].pk}, {"pk": attachments[1].pk}),
    }


def _monitoring_objects(users) -> dict[str, Pair]:
    from monitoring.models import Threshold

    thresholds = [Threshold.objects.create(region=region(code), indicator="fund_ratio", direction="both",
                                           value=Decimal("60.00"), updated_by=users["admin"]) for code in (OWN, OTHER)]
    return {"threshold": Pair({"pk": thresholds[0].pk}, {"pk": thresholds[1].pk})}


def _assist_finding_objects(users) -> dict[str, Pair]:
    """Confirmed 核查有误 费用协查 results (the 违规费用扣款 hook): 南京's, answered by 无锡, and
    无锡's own, answered from another province through the national system."""
    from cooperation import services
    from core.idcard import build_id_number

    findings = []
    for code, raiser, answerer, treatment in ((OWN, "clerk", "other_clerk", OTHER), (OTHER, "other_clerk", "other_clerk", "330100")):
        assist = services.assist_create(
            by=users[raiser], treatment_region=region(treatment), id_number=build_id_number(code, date(1956, 3, 12), 24),
            name="矩阵协查", sex="F", institution_name="矩阵医院", hospital_number=f"ZY{code}", invoice_number=f"FP{code}",
            admission_date=date(2026, 2, 20), discharge_date=date(2026, 3, 10), total_amount=Decimal("36820.50"),
            today=date(2026, 3, 16),
        )
        services.assist_answer(request=assist, by=users[answerer], result="has_issue", finding="超标准收取床位费",
                               imported=treatment == "330100", answered_on=date(2026, 3, 30), today=date(2026, 4, 1))
        services.assist_confirm(request=assist, by=users[raiser], today=date(2026, 4, 2))
        findings.append(assist)
    return {"assist_finding": Pair({"pk": findings[0].pk}, {"pk": findings[1].pk})}
