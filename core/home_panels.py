"""Core's own home-page panels: administration figures and the user's jobs."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from core import workdays
from core.dashboard import Panel, Tile, panel
from core.figures import kept_figures
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
    next_year = timezone.localdate().year + 1
    next_confirmed = CalendarYear.objects.filter(year=next_year, confirmed=True).exists()
    return Panel(
        title="系统管理",
        order=900,
        tiles=[
            Tile("在用账号", User.objects.filter(is_active=True).count(), reverse("admin:core_user_changelist")),
            Tile("经办机构", Agency.objects.count(), reverse("admin:core_agency_changelist")),
            Tile("定点医药机构", Institution.objects.count(), reverse("admin:core_institution_changelist")),
            Tile("参保人员", kept_figures("persons", user=user, variant="all", count=InsuredPerson.objects.count),
                 reverse("admin:core_insuredperson_changelist")),
            Tile(
                f"{next_year}年日历",
                "已确认" if next_confirmed else "未确认",
                reverse("calendar"),
                tone="success" if next_confirmed else "warning",
                note="" if next_confirmed else "请导入国务院节假日安排",
            ),
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
    """三员分立: the security administrator's home shows the audit chain's last daily check first
    (a break in red), sign-in events and lockouts; the audit administrator's, the audit log."""
    if not user.has_role(Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):
        return None
    from core.models import AuditChainCheck

    check = AuditChainCheck.objects.first()
    url = reverse("security_overview") if user.has_role(Role.SECURITY_ADMIN) else reverse("admin:core_auditchaincheck_changelist")
    if check is None:
        tile = Tile("操作日志完整性", "未检查", url, tone="warning", note="每日自动检查；也可运行 manage.py verify_audit")
    elif check.ok:
        tile = Tile("操作日志完整性", "完整", url, tone="success", note=f"{timezone.localtime(check.checked_at):%Y-%m-%d %H:%M} 检查 {check.records} 条")
    else:
        tile = Tile("操作日志完整性", "异常", url, tone="danger", note=check.message)
    tiles = [tile]
    if user.has_role(Role.SECURITY_ADMIN):
        from axes.models import AccessAttempt
        from django.conf import settings

        from core.models import AuditLog

        since = timezone.now() - timedelta(days=1)
        failed = AuditLog.objects.filter(action=AuditLog.Action.LOGIN_FAILED, at__gte=since).count()
        locked = AccessAttempt.objects.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
        ).count()
        tiles += [
            Tile("24小时登录失败", failed, f"{reverse('security_overview')}?action=login_failed", tone="warning" if failed else "secondary"),
            Tile("锁定账号", locked, reverse("admin:axes_accessattempt_changelist"), tone="danger" if locked else "secondary"),
        ]
    if user.has_role(Role.AUDIT_ADMIN):
        from core.models import AuditLog

        today = AuditLog.objects.filter(at__date=timezone.localdate()).count()
        tiles.append(Tile("今日操作日志", today, reverse("admin:core_auditlog_changelist")))
    return Panel(title="安全审计", order=880, tiles=tiles)
