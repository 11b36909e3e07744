"""Demo filings for 南京 and 无锡: every person type, channel and status (but 异地急诊抢救人员:
emergency is deemed filed, no filing is made for it).

Everything goes through the services (so materials, rules, audit trail and
upload status are real), with dates relative to today so the counter shows
due, overdue and expiring cases. A filing is identified by (person, type,
destination, channel): running the seed again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from core import audit_chain, demo_cast
from core.demo import ensure_demo_user
from core.idcard import build_id_number, id_number_hash
from core.models import AuditLog, Institution, InsuredPerson, Region, Role, User
from filings import services
from filings.materials import sufficient_materials
from filings.models import Channel, Filing, FilingRegionSettings, UploadBatch, UploadStatus
from filings.services import FilingData

HOSPITAL_USERS = [
    # username, full name, institution code
    ("hospital_gulou", "钱医生", "H32010600001"),
    ("hospital_wuxi_renmin", "蒋医生", "H32020000001"),
]

EXTRA_PERSONS = [
    # name, address code, birth, sequence, insurance type, insured region, phone
    ("沈国平", "320106", date(1952, 7, 19), 131, "310", "320100", "13905150011"),
    ("韩雪梅", "320104", date(1966, 10, 3), 146, "390", "320100", "13905150012"),
    ("邓志明", "320113", date(1979, 12, 28), 157, "310", "320100", "13905150013"),
    ("曹丽娟", "320211", date(1958, 2, 8), 162, "310", "320200", "13806170011"),
    ("许文涛", "320213", date(1985, 4, 21), 173, "390", "320200", "13806170012"),
]


@dataclass
class DemoFiling:
    person: str
    person_type: str
    destination: str
    started_days_ago: int
    channel: str = Channel.COUNTER
    commitment: bool = False
    end_in_days: int | None = None
    outcome: str = "active"  # active, draft, pending, overdue_review, rejected, changed, cancelled, expired
    change_to: str = ""
    reason: str = ""
    retro: dict = field(default_factory=dict)
    proxy: dict = field(default_factory=dict)
    referring: str = ""
    materials: list[str] | None = None
    uploaded: bool = True
    remarks: str = ""


NANJING = [
    DemoFiling("李秀英", "retired_resettled", "460200", 400, remarks="冬季在三亚居住"),
    DemoFiling("李秀英", "long_term_resident", "110000", 120, remarks="多地长期居住：北京女儿家"),
    DemoFiling("张伟", "posted_worker", "330100", 200, commitment=True),
    DemoFiling("王芳", "long_term_resident", "310000", 160, commitment=True, uploaded=False),
    DemoFiling("刘洋", "referral", "110000", 30, channel=Channel.HOSPITAL, referring="H32010600001"),
    DemoFiling("陈静", "other_temporary", "440100", 200, end_in_days=-17, outcome="expired"),
    DemoFiling("杨帆", "other_temporary", "510100", 40, retro={"admission": 40, "discharge": 33, "state": "self_paid",
                                                        "institution": "四川大学华西医院"}),
    # Filed late (补办) for a stay in 长沙 whose six months have already run out: registered
    # as expired and waiting to go up to the provincial platform as a 补录.
    DemoFiling("杨帆", "other_temporary", "430100", 300, retro={"admission": 300, "discharge": 290, "state": "self_paid",
                                                        "institution": "中南大学湘雅医院", "applied": 3}, uploaded=False),
    DemoFiling("赵桂兰", "long_term_resident", "110000", 300, outcome="changed", change_to="120000",
               reason="随子女迁居天津", proxy={"name": "赵建军", "relation": "子女", "phone": "13905159901"}),
    DemoFiling("黄磊", "other_temporary", "440300", 90, outcome="cancelled", reason="工作调整提前返回南京"),
    DemoFiling("黄磊", "other_temporary", "320500", 5, retro={"admission": 5, "state": "not_settled",
                                                            "institution": "苏州大学附属第一医院"}, uploaded=False),
    DemoFiling("周敏", "other_temporary", "350200", 0, channel=Channel.ONLINE, outcome="pending"),
    DemoFiling("沈国平", "retired_resettled", "460000", 6, channel=Channel.ONLINE, outcome="overdue_review"),
    DemoFiling("韩雪梅", "other_temporary", "420100", 8, channel=Channel.ONLINE, outcome="active"),
    DemoFiling("吴建华", "posted_worker", "440300", 6, channel=Channel.ONLINE, outcome="rejected",
               reason="上传的工作证明无单位公章，请重新提交"),
    DemoFiling("韩雪梅", "long_term_resident", "330200", 0, outcome="draft", materials=["id_card"],
               remarks="居住证明下周补交"),
    DemoFiling("邓志明", "referral", "310000", 0, referring="H32010600002", uploaded=False),
]

WUXI = [
    DemoFiling("徐丽", "retired_resettled", "460000", 100, commitment=True),
    DemoFiling("孙强", "posted_worker", "320500", 250),
    DemoFiling("马晓燕", "referral", "310000", 20, referring="H32020000001"),
    DemoFiling("朱军", "long_term_resident", "530100", 380, outcome="cancelled", reason="已回无锡定居"),
    DemoFiling("胡婷", "other_temporary", "320100", 170, end_in_days=12),
    DemoFiling("郭志强", "other_temporary", "330200", 1, channel=Channel.ONLINE, outcome="pending"),
    DemoFiling("曹丽娟", "long_term_resident", "350100", 220, outcome="changed", change_to="350200",
               reason="在厦门购房定居"),
    DemoFiling("许文涛", "other_temporary", "420100", 230, end_in_days=-40, outcome="expired"),
    DemoFiling("许文涛", "referral", "430100", 2, channel=Channel.HOSPITAL, referring="H32020000001", uploaded=False),
    DemoFiling("孙强", "other_temporary", "610100", 4, channel=Channel.ONLINE, outcome="rejected",
               reason="已有常驻异地工作备案，临时外出请说明就医需要"),
    DemoFiling("马晓燕", "long_term_resident", "320600", 0, outcome="draft", materials=[]),
    DemoFiling("朱军", "other_temporary", "330100", 12, channel=Channel.ONLINE, outcome="active"),
]


def seed(stdout=None) -> None:
    today = timezone.localdate()
    cast = demo_cast.current()
    regions = {region.code: region for region in Region.objects.all()}
    for name, address, birth, sequence, insurance_type, region, phone in EXTRA_PERSONS:
        number = build_id_number(cast.code(address), birth, sequence)
        InsuredPerson.objects.get_or_create(
            id_number_hash=id_number_hash(number),
            defaults={"id_number": number, "name": name, "sex": "M" if sequence % 2 else "F", "birth_date": birth,
                      "insurance_type": insurance_type, "insured_region": regions[cast.code(region)], "phone": phone},
        )
    hospital_users = {}
    for username, full_name, code in HOSPITAL_USERS:
        institution = Institution.objects.get(code=cast.institution_code(code))
        hospital_users[code] = ensure_demo_user(username=cast.username(username), full_name=full_name, role=Role.HOSPITAL,
                                                agency=institution.region.agency, institution=institution)
    # 12393 numbers and addresses per agency: the 江苏 demo's, recast for another province.
    first, second = regions[cast.code("320100")], regions[cast.code("320200")]
    FilingRegionSettings.objects.get_or_create(
        region=first,
        defaults={"commitment_notice_extra": f"{first.agency.name}地址："
                  + ("南京市建邺区江东中路。" if cast.identity else f"{first.name}政务服务中心（演示地址）。")},
    )
    FilingRegionSettings.objects.get_or_create(region=second)
    created = 0
    for city, entries in (("320100", NANJING), ("320200", WUXI)):
        suffix = "nanjing" if city == "320100" else "wuxi"
        clerk = User.objects.get(username=cast.username(f"clerk_{suffix}"))
        supervisor = User.objects.get(username=cast.username(f"supervisor_{suffix}"))
        # Earlier work was uploaded yesterday evening; today's work still waits.
        for uploaded in (True, False):
            made = 0
            for entry in sorted(entries, key=lambda e: -_applied_days_ago(e)):  # in the order it happened
                if entry.uploaded == uploaded and _make(entry, today=today, clerk=clerk, supervisor=supervisor,
                                                        hospital_users=hospital_users, regions=regions):
                    made += 1
            if uploaded and made:
                _upload_yesterday(clerk=clerk, today=today)
            created += made
    services.filings_expire(today=today)
    if stdout:
        stdout.write(f"  filings: {Filing.objects.count()} 份备案（本次新增 {created} 份），医院演示账号 "
                     + "、".join(demo_cast.current().username(username) for username, _n, _c in HOSPITAL_USERS))


def _make(entry: DemoFiling, *, today: date, clerk, supervisor, hospital_users, regions) -> bool:
    cast = demo_cast.current()
    person = InsuredPerson.objects.get(name=entry.person, insured_region=clerk.agency.region)
    destination = regions[cast.code(entry.destination)]
    exists = Filing.objects.filter(insured_person=person, person_type=entry.person_type,
                                   channel=entry.channel, destination=destination)
    if entry.outcome == "changed":
        exists = Filing.objects.filter(insured_person=person, person_type=entry.person_type,
                                       destination__in=[destination, regions[cast.code(entry.change_to)]])
    if exists.exists():
        return False
    day = today - timedelta(days=entry.started_days_ago)
    data = FilingData(
        person_type=entry.person_type,
        destination=destination,
        start_date=day,
        end_date=today + timedelta(days=entry.end_in_days) if entry.end_in_days is not None else None,
        materials=entry.materials if entry.materials is not None else sufficient_materials(
            entry.person_type, commitment=entry.commitment, by_proxy=bool(entry.proxy)),
        remarks=cast.text(entry.remarks),
    )
    if entry.end_in_days is not None and data.end_date < services.minimum_end_date(day, 6):
        data.end_date = services.minimum_end_date(day, 6)
    if entry.referring:
        data.referring_institution = Institution.objects.get(code=cast.institution_code(entry.referring))
        data.diagnosis = "经参保地医院会诊，需转外进一步治疗"
    if entry.proxy:
        data.by_proxy = True
        data.proxy_name = entry.proxy["name"]
        data.proxy_relation = entry.proxy["relation"]
        data.proxy_phone = entry.proxy["phone"]
        data.proxy_id_number = build_id_number(cast.code("320106"), date(1976, 5, 12), 219)
    applied = day
    if entry.retro:
        data.retroactive = True
        data.admission_date = today - timedelta(days=entry.retro["admission"])
        data.start_date = data.admission_date
        data.settlement_state = entry.retro["state"]
        data.treatment_institution = cast.text(entry.retro.get("institution", ""))
        if "discharge" in entry.retro:
            data.discharge_date = today - timedelta(days=entry.retro["discharge"])
        applied = today - timedelta(days=_applied_days_ago(entry))
    if entry.channel == Channel.ONLINE:
        filing = services.filing_submit_online(
            person=person, data=data, online_reference=f"WS{clerk.agency.region_id}{day:%Y%m%d}{person.pk:04d}",
            applied_on=applied, by=clerk, today=today,
        )
        if entry.outcome == "active":
            filing = services.filing_approve(filing=filing, by=supervisor, today=today)
        elif entry.outcome == "rejected":
            services.filing_reject(filing=filing, by=supervisor, reason=cast.text(entry.reason))
        _backdate(filing, applied)
        return True
    by = hospital_users.get(entry.referring) if entry.channel == Channel.HOSPITAL else clerk
    filing = services.filing_register(person=person, data=data, by=by, channel=entry.channel,
                                      draft=entry.outcome == "draft", today=applied)
    _backdate(filing, applied)
    if entry.outcome in ("changed", "cancelled"):
        _upload_on(clerk=by, day=applied)  # uploaded that evening, so the change/cancellation goes up later
    if entry.outcome == "changed":
        when = today - timedelta(days=max(entry.started_days_ago // 3, 1))
        new_data = FilingData.from_filing(filing, destination=regions[cast.code(entry.change_to)], start_date=when,
                                          by_proxy=False, proxy_name="", proxy_id_number="", proxy_phone="",
                                          proxy_relation="")
        new_data.materials = [code for code in filing.materials if code != "proxy_id_proof"]
        new = services.filing_change(filing=filing, data=new_data, by=clerk, reason=cast.text(entry.reason), today=when)
        _backdate(new, when)
        _backdate_transition(filing, Filing.Status.CHANGED, when)
    elif entry.outcome == "cancelled":
        when = today - timedelta(days=max(entry.started_days_ago // 4, 1))
        services.filing_cancel(filing=filing, by=clerk, reason=cast.text(entry.reason), today=when)
        _backdate_transition(filing, Filing.Status.CANCELLED, when)
    return True


def _applied_days_ago(entry: DemoFiling) -> int:
    if "applied" in entry.retro:
        return entry.retro["applied"]
    if entry.retro.get("discharge"):
        return max(entry.retro["discharge"] - 7, 0)
    if entry.retro:
        return 0
    return entry.started_days_ago


def _at(day: date, hour: int = 9, minute: int = 30) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _backdate(filing: Filing, day: date) -> None:
    """Demo history: the filing and its audit entries carry the day it was done."""
    if day >= timezone.localdate():
        return
    moment = _at(day)
    fields = {"created_at": moment}
    filing.refresh_from_db()
    if filing.activated_at:
        fields["activated_at"] = moment
    if filing.upload_pending_since:
        fields["upload_pending_since"] = moment
    if filing.reviewed_at:
        fields["reviewed_at"] = _at(day, 15, 0)
    Filing.objects.filter(pk=filing.pk).update(**fields)
    audit_chain.backdate(AuditLog.objects.filter(object_id=str(filing.pk), content_type__model="filing"), at=moment)
    filing.history.update(history_date=moment)


def _backdate_transition(filing: Filing, status: str, day: date) -> None:
    audit_chain.backdate(
        AuditLog.objects.filter(object_id=str(filing.pk), content_type__model="filing", to_state=status), at=_at(day, 10, 15)
    )


def _upload_yesterday(*, clerk, today: date) -> None:
    # Yesterday evening's file: the province's result file has not come back yet (已导出).
    _upload_on(clerk=clerk, day=today - timedelta(days=1), confirmed=False)


def _upload_on(*, clerk, day: date, confirmed: bool = True) -> None:
    """The real export (file archived, filings marked), dated that evening; an older one the
    province has since confirmed (已上传)."""
    if not Filing.objects.for_user(clerk).filter(upload_status=UploadStatus.PENDING).exists():
        return
    batches = services.upload_export(by=clerk, file_format="xlsx")
    moment = _at(day, 17, 30)
    UploadBatch.objects.filter(pk__in=[batch.pk for batch in batches]).update(created_at=moment)
    if confirmed:
        Filing.objects.filter(upload_batch__in=batches, upload_status=UploadStatus.EXPORTED).update(
            upload_status=UploadStatus.UPLOADED, uploaded_at=moment
        )
