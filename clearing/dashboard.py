"""Home-page panel of the clearing: real counts, a constant number of queries."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from clearing.models import ClearingPeriod, ImportBatch, PaymentDue
from core.dashboard import Panel, Tile, panel
from core.models import Role


@panel
def clearing_panel(user) -> Panel | None:
    if not user.has_role(Role.CLEARING_OFFICER, Role.FINANCE, Role.SUPERVISOR):
        return None
    today = timezone.localdate()
    payments = PaymentDue.objects.for_user(user).aggregate(
        open=Count("pk", filter=~Q(status=PaymentDue.Status.PAID)),
        overdue=Count("pk", filter=~Q(status=PaymentDue.Status.PAID) & Q(due_on__lt=today)),
        payable=Count("pk", filter=~Q(status=PaymentDue.Status.PAID) & Q(kind__in=PaymentDue.CITY_PAYS)),
    )
    periods = ClearingPeriod.objects.aggregate(
        open=Count("pk", filter=Q(status__in=ClearingPeriod.EDITABLE)),
        late=Count("pk", filter=Q(status__in=ClearingPeriod.EDITABLE, clearing_due__lt=today)),
        stale=Count("pk", filter=Q(results_stale=True, status=ClearingPeriod.Status.COMPUTED)),
        issued=Count("pk", filter=Q(status=ClearingPeriod.Status.NOTICES_ISSUED)),
    )
    payments_url = reverse("clearing:payment_list")
    periods_url = reverse("clearing:period_list")
    tiles = [
        Tile("待清算的月份", periods["open"], periods_url, note="数据采集中、已截止或待下达"),
        Tile("超过28日未下达", periods["late"], periods_url, tone="danger" if periods["late"] else "secondary"),
        Tile("通知书已下达待结清", periods["issued"], periods_url, tone="warning" if periods["issued"] else "secondary"),
        Tile("未结清款项", payments["open"], f"{payments_url}?show=open", tone="primary"),
        Tile("逾期未到账", payments["overdue"], f"{payments_url}?show=overdue", tone="danger" if payments["overdue"] else "secondary"),
    ]
    if user.has_role(Role.CLEARING_OFFICER):
        rejected = ImportBatch.objects.for_user(user).filter(status=ImportBatch.Status.REJECTED, created_at__date__gte=today.replace(day=1)).count()
        tiles.append(Tile("本月校验未通过的文件", rejected, reverse("clearing:import_list"), tone="warning" if rejected else "secondary"))
        if periods["stale"]:
            tiles.append(Tile("生成后又有新数据", periods["stale"], periods_url, tone="warning", note="请重新生成清算"))
    elif user.has_role(Role.FINANCE):
        tiles.append(Tile("本市待上解款项", payments["payable"], f"{payments_url}?show=open", tone="primary"))
    return Panel(title="清算与预付金", tiles=tiles, order=30)
