"""Core's own home-page panels: administration figures and the user's jobs."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from core import workdays
from core.dashboard import Panel, Tile, panel
from core.models import Agency, CalendarYear, Institution, InsuredPerson, Job, Role, User


@panel
def calendar_today(user) -> Panel | None:
    """What a counter clerk tells applicants: is today a working day, and where 5/10/20 working days end."""
    if not user.roles and not user.is_superuser:
        return None
    today = timezone.localdate()
    tiles = [
        Tile("今天", "工作日" if workdays.is_working_day(today) else "休息日", reverse("calendar"), tone="secondary"),
    ]
    for days in (5, 10, 20):
        end = workdays.add_working_days(today, days)
        tiles.append(
            Tile(
                f"{days}个工作日后",
                f"{end:%m-%d}",
                reverse("calendar"),
                tone="secondary" if end.confirmed else "warning",
                note=f"{end:%Y-%m-%d}" + ("" if end.confirmed else " · 日历未确认"),
            )
        )
    return Panel(title="工作日历", order=990, tiles=tiles)


@panel
def administration(user) -> Panel | None:
    if not user.has_role(Role.ADMINISTRATOR):
        return None
    from axes.models import AccessAttempt
    from django.conf import settings

    next_year = timezone.localdate().year + 1
    next_confirmed = CalendarYear.objects.filter(year=next_year, confirmed=True).exists()
    locked = AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
    ).count()
    return Panel(
        title="系统管理",
        order=900,
        tiles=[
            Tile("在用账号", User.objects.filter(is_active=True).count(), reverse("admin:core_user_changelist")),
            Tile("经办机构", Agency.objects.count(), reverse("admin:core_agency_changelist")),
            Tile("定点医药机构", Institution.objects.count(), reverse("admin:core_institution_changelist")),
            Tile("参保人员", InsuredPerson.objects.count(), reverse("admin:core_insuredperson_changelist")),
            Tile(
                f"{next_year}年日历",
                "已确认" if next_confirmed else "未确认",
                reverse("calendar"),
                tone="success" if next_confirmed else "warning",
                note="" if next_confirmed else "请导入国务院节假日安排",
            ),
            Tile("锁定账号", locked, reverse("admin:axes_accessattempt_changelist"), tone="danger" if locked else "secondary"),
        ],
    )


@panel
def my_jobs(user) -> Panel | None:
    since = timezone.now() - timedelta(days=7)
    jobs = Job.objects.filter(created_by=user, created_at__gte=since)
    running = jobs.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).count()
    failed = jobs.filter(status=Job.Status.FAILED).count()
    if not running and not failed and not jobs.exists():
        return None
    return Panel(
        title="我的后台任务（近7天）",
        order=950,
        tiles=[
            Tile("进行中", running, reverse("job_list"), tone="primary"),
            Tile("失败", failed, reverse("job_list"), tone="danger" if failed else "secondary"),
        ],
    )


@panel
def audit_chain_status(user) -> Panel | None:
    """The last daily check of the audit hash chain: a break is the first thing the security officer sees."""
    if not user.has_role(Role.ADMINISTRATOR):
        return None
    from core.models import AuditChainCheck

    check = AuditChainCheck.objects.first()
    if check is None:
        tile = Tile("操作日志完整性", "尚未检查", tone="warning", note="每日自动检查；也可运行 manage.py verify_audit")
    elif check.ok:
        tile = Tile("操作日志完整性", "完整", tone="success", note=f"{timezone.localtime(check.checked_at):%Y-%m-%d %H:%M} 检查 {check.records} 条")
    else:
        tile = Tile("操作日志完整性", "异常", tone="danger", note=check.message)
    return Panel(title="安全审计", order=880, tiles=[tile])
