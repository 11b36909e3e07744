"""Demo data for 业务协同: 费用协查 and 问题协同 in every state between the two demo cities'
agencies (the agencies of clerk_nanjing and clerk_wuxi), one cross-province 协查 each way
of the national-system exchange, some overdue.

Built through the same services the pages use, back-dated relative to today. Everything
carries the marker below; once any demo case exists, running the seed again adds nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from cooperation import services
from cooperation.models import AssistRequest, Coordination
from core.models import Agency, InsuredPerson, Region, User
from core.reference import home_province_code

MARK = "（演示数据）"


def _first_of_month(day: date, months_back: int) -> date:
    year, month = day.year, day.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def _other_province(home: str) -> Region | None:
    provinces = Region.objects.provinces().exclude(code=home)
    return provinces.filter(code="330000").first() or provinces.first()


def seed(stdout=None) -> None:
    users = {user.username: user for user in User.objects.filter(
        username__in=["clerk_nanjing", "supervisor_nanjing", "clerk_wuxi", "supervisor_wuxi"]).select_related("agency")}
    if len(users) < 4 or any(user.agency_id is None for user in users.values()):
        return
    if (AssistRequest.objects.filter(concern__endswith=MARK).exists()
            or Coordination.objects.filter(description__endswith=MARK).exists()):
        if stdout:
            stdout.write("  cooperation: 演示协查与协同已存在")
        return
    today = timezone.localdate()
    nj, wx = users["clerk_nanjing"], users["clerk_wuxi"]
    nj_sup, wx_sup = users["supervisor_nanjing"], users["supervisor_wuxi"]
    assists = _seed_assists(today=today, nj=nj, wx=wx, nj_sup=nj_sup, wx_sup=wx_sup)
    coordinations = _seed_coordinations(today=today, nj=nj, wx=wx, nj_sup=nj_sup, wx_sup=wx_sup)
    if stdout:
        stdout.write(f"  cooperation: {assists} 件费用协查，{coordinations} 件问题协同")


def _persons(region_code: str) -> list[InsuredPerson]:
    return list(InsuredPerson.objects.filter(insured_region_id=region_code).order_by("pk")[:8])


def _assist(*, by, treatment_region, person, amount, received_on, hospital, n, institution):
    return services.assist_create(
        by=by, treatment_region=treatment_region, id_number=person.id_number, name=person.name, sex=person.sex,
        institution_name=institution, hospital_number=f"ZY{received_on:%Y%m}{n:04d}",
        invoice_number=f"FP{received_on:%Y%m%d}{n:04d}", admission_date=received_on - timedelta(days=25),
        discharge_date=received_on - timedelta(days=10), total_amount=Decimal(amount),
        concern=f"{hospital}{MARK}", today=received_on,
    )


def _seed_assists(*, today, nj, wx, nj_sup, wx_sup) -> int:
    nj_region, wx_region = nj.agency.region, wx.agency.region
    nj_people, wx_people = _persons(nj_region.code), _persons(wx_region.code)
    if len(nj_people) < 7 or len(wx_people) < 2:
        return 0
    wx_hospital = "无锡市人民医院" if wx_region.code == "320200" else f"{wx_region.short_name}市人民医院"
    nj_hospital = "南京鼓楼医院" if nj_region.code == "320100" else f"{nj_region.short_name}市人民医院"
    count = 0

    def make(by, region, person, amount, received_on, n, institution, concern):
        nonlocal count
        count += 1
        return _assist(by=by, treatment_region=region, person=person, amount=amount, received_on=received_on,
                       hospital=concern, n=n, institution=institution)

    # 待核查, fresh: 无锡 to answer.
    make(nj, wx_region, nj_people[0], "36820.50", today, 1, wx_hospital, "住院天数与护理费计费天数不一致")
    # 待核查, past its due date (the daily job has not rolled it yet): overdue in 无锡's queue.
    make(nj, wx_region, nj_people[1], "52300.00", _first_of_month(today, 2), 2, wx_hospital, "高值耗材使用数量异常")
    # 待核查 after a recorded delay: rolled to the next period, counted late.
    delayed = make(nj, wx_region, nj_people[2], "41200.00", _first_of_month(today, 1), 3, wx_hospital,
                   "重复收取检查费")
    services.assist_record_delay(request=delayed, by=wx_sup, reason="病历在医院病案室归档调阅中", today=max(
        delayed.received_on, today - timedelta(days=1)))
    # 有异议待重新核查.
    disputed = make(nj, wx_region, nj_people[3], "68000.00", today - timedelta(days=20), 4, wx_hospital, "分解住院")
    answered_on = disputed.received_on + timedelta(days=5)
    services.assist_answer(request=disputed, by=wx, result=AssistRequest.Result.NO_ISSUE, note="经核查未见分解住院",
                           today=answered_on)
    services.assist_dispute(request=disputed, by=nj_sup, note="两次住院间隔仅1天，请调取出入院记录再核",
                            today=answered_on + timedelta(days=1))
    # 待确认, confirmation overdue (answered 12 days ago).
    late_confirm = make(nj, wx_region, nj_people[4], "33500.00", today - timedelta(days=20), 5, wx_hospital,
                        "药品超说明书使用")
    services.assist_answer(request=late_confirm, by=wx_sup, result=AssistRequest.Result.NO_ISSUE,
                           note="有会诊记录支持", today=today - timedelta(days=12))
    # 待确认, fresh: 南京 answered a 无锡 request; 无锡 confirms.
    wx_asks = make(wx, nj_region, wx_people[0], "45210.00", today - timedelta(days=6), 6, nj_hospital,
                   "检验项目与诊断不符")
    services.assist_answer(request=wx_asks, by=nj_sup, result=AssistRequest.Result.HAS_ISSUE,
                           finding="血液透析项目重复计费3次，已要求医院退回", irregular_amount=Decimal("2460.00"),
                           today=today - timedelta(days=1))
    # 待核查 in 南京's queue.
    make(wx, nj_region, wx_people[1], "30000.00", today - timedelta(days=3), 7, nj_hospital, "床位费标准偏高")
    # 已确认: 核查无误, and 核查有误 (ready for the deduction hook).
    for n, result, person in ((8, AssistRequest.Result.NO_ISSUE, nj_people[5]),
                              (9, AssistRequest.Result.HAS_ISSUE, nj_people[6])):
        done = make(nj, wx_region, person, "58800.00" if n == 8 else "73150.40", today - timedelta(days=40), n,
                    wx_hospital, "费用明显高于同病种均值")
        services.assist_answer(
            request=done, by=wx_sup, result=result, today=today - timedelta(days=15),
            finding="" if result == AssistRequest.Result.NO_ISSUE else "超标准收取ICU床位费及重复收取护理费",
            irregular_amount=None if result == AssistRequest.Result.NO_ISSUE else Decimal("5120.00"),
        )
        services.assist_confirm(request=done, by=nj_sup, today=today - timedelta(days=13))
    # Cross-province: one awaiting export, one answered through an imported national-system file.
    other = _other_province(home_province_code())
    if other is not None:
        make(nj, other, nj_people[0], "91800.00", today - timedelta(days=2), 10, f"{other.short_name}某三级医院",
             "外省住院费用异常偏高")
        imported = make(nj, other, nj_people[1], "39900.00", today - timedelta(days=30), 11,
                        f"{other.short_name}某三级医院", "异地住院与门诊同日结算")
        services.assist_mark_exported(requests=[imported], by=nj)
        services.assist_answer(request=imported, by=nj, result=AssistRequest.Result.NO_ISSUE, imported=True,
                               answered_on=today - timedelta(days=2), note="国家系统返回：费用合规", today=today)
    return count


def _seed_coordinations(*, today, nj, wx, nj_sup, wx_sup) -> int:
    province_agency = Agency.objects.filter(region_id=home_province_code()).first()
    nj_agency, wx_agency = nj.agency, wx.agency
    helper_agency = Agency.objects.exclude(pk__in=[nj_agency.pk, wx_agency.pk]).exclude(
        region_id=home_province_code()).first()
    person = _persons(nj.agency.region_id)[0]
    wx_person = _persons(wx.agency.region_id)[0]
    count = 0

    def make(by, receiver, kind, subject, received_on, **extra):
        nonlocal count
        count += 1
        return services.coordination_create(by=by, receiver=receiver, kind=kind, subject=subject,
                                            description=f"{extra.pop('description', '')}{MARK}", today=received_on,
                                            **extra)

    # 待处理, fresh (备案类, 2 working days).
    make(nj, wx_agency, "filing", "参保人在无锡备案后仍无法直接结算", today,
         description="备案已生效，医院提示未查询到备案信息。", person_id_number=person.id_number, person_name=person.name)
    # 待处理, overdue (系统故障类, 1 working day), 南京 is the first responder.
    make(wx, nj_agency, "system", "跨市结算返回“交易超时”", today - timedelta(days=7),
         description="南京鼓楼医院上午多笔结算失败。")
    # 待处理 with a helping agency, a handling note and an extension.
    helped = make(nj, wx_agency, "other", "异地转诊患者费用分割问题", today - timedelta(days=3),
                  description="转诊前后两次住院费用如何分割结算。")
    services.coordination_add_note(coordination=helped, by=wx_sup, text="已调取两家医院结算记录，正在核对。")
    if helper_agency is not None:
        services.coordination_add_helper(coordination=helped, by=wx_sup, agency=helper_agency,
                                         task="提供转出医院的结算明细")
    services.coordination_extend(coordination=helped, by=wx_sup, new_due=helped.reply_due + timedelta(days=7),
                                 reason="需协助机构提供资料，已电话告知南京医保中心", today=today)
    # 待确认: 无锡 replied to 南京.
    replied = make(nj, wx_agency, "filing", "备案类型需由临时变更为长期", today - timedelta(days=2),
                   person_id_number=person.id_number, person_name=person.name)
    services.coordination_reply(coordination=replied, by=wx, reply="已在省平台更正备案类型，请参保人重新结算。",
                                today=today - timedelta(days=1))
    # 已确认.
    confirmed = make(wx, nj_agency, "other", "医院收费票据丢失如何补办", today - timedelta(days=20),
                     person_id_number=wx_person.id_number, person_name=wx_person.name)
    services.coordination_reply(coordination=confirmed, by=nj_sup, reply="已协调医院出具票据复印件并加盖公章。",
                                today=today - timedelta(days=18))
    services.coordination_confirm(coordination=confirmed, by=wx_sup, today=today - timedelta(days=17))
    # 超期视同确认: replied long ago, never confirmed; the daily job closes it.
    deemed = make(nj, wx_agency, "other", "结算明细对账差异", today - timedelta(days=40))
    services.coordination_reply(coordination=deemed, by=wx_sup, reply="差异为隔笔退费，已冲正。",
                                today=today - timedelta(days=35))
    services.coordination_deem_confirmed(today=today)
    # 有异议, and one raised again to the province (已提请上级协调 + the new issue).
    disputed = make(wx, nj_agency, "filing", "异地备案被重复登记", today - timedelta(days=6))
    services.coordination_reply(coordination=disputed, by=nj, reply="系统显示仅一条备案。", today=today - timedelta(days=5))
    services.coordination_dispute(coordination=disputed, by=wx_sup, note="参保人持有两份备案回执，请再核查")
    if province_agency is not None:
        escalate = make(nj, wx_agency, "other", "异地就医费用拒付争议", today - timedelta(days=15))
        services.coordination_reply(coordination=escalate, by=wx, reply="医院认为属于自费项目。",
                                    today=today - timedelta(days=12))
        services.coordination_dispute(coordination=escalate, by=nj_sup, note="该项目属于医保目录乙类，不应拒付")
        services.coordination_escalate(coordination=escalate, by=nj_sup, note="请省中心协调", today=today)
        count += 1
    return count
