"""Home-page figures for the filing desk: real counts, one query."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from core.dashboard import Panel, Tile, panel
from core.figures import kept_figures
from core.models import Role
from filings.selectors import dashboard_counts


@panel
def filing_desk(user) -> Panel | None:
    if not user.has_role(Role.CLERK, Role.SUPERVISOR, Role.HOSPITAL):
        return None
    today = timezone.localdate()
    counts = kept_figures("filings", user=user, variant=f"{today:%Y%m%d}",
                          count=lambda: dashboard_counts(user=user, today=today))
    url = reverse("filings:list")
    tiles = []
    if user.has_role(Role.SUPERVISOR):
        tiles += [
            Tile("待审核线上申请", counts["pending_review"], reverse("filings:review_queue"),
                 tone="warning" if counts["pending_review"] else "secondary", note="1个工作日内审核"),
            Tile("审核超期", counts["review_overdue"], f"{url}?review_overdue=on",
                 tone="danger" if counts["review_overdue"] else "secondary"),
        ]
    if user.has_role(Role.CLERK, Role.SUPERVISOR):
        tiles += [
            Tile("今日办理生效", counts["today_new"], f"{url}?applied_from={today:%Y-%m-%d}&applied_to={today:%Y-%m-%d}", tone="success"),
            Tile("待上传省平台", counts["not_uploaded"], reverse("filings:upload"),
                 tone="danger" if counts["upload_overdue"] else ("warning" if counts["not_uploaded"] else "secondary"),
                 note=f"其中{counts['upload_overdue']}条非当天" if counts["upload_overdue"] else "当天上传"),
            Tile("承诺材料30天内到期", counts["materials_due"], reverse("filings:commitments"),
                 tone="warning" if counts["materials_due"] else "secondary"),
            Tile("承诺材料逾期", counts["materials_overdue"], f"{reverse('filings:commitments')}?show=overdue",
                 tone="danger" if counts["materials_overdue"] else "secondary"),
        ]
    if user.has_role(Role.CLERK):
        tiles += [
            Tile("草稿（材料未齐）", counts["drafts"], f"{url}?status=draft",
                 tone="warning" if counts["drafts"] else "secondary"),
            Tile("待审核线上申请", counts["pending_review"], reverse("filings:review_queue"), tone="secondary")
            if not user.has_role(Role.SUPERVISOR) else None,
        ]
    tiles += [
        Tile("有效备案", counts["active"], f"{url}?status=active", tone="primary"),
        Tile("30天内到期", counts["expiring"], f"{url}?expiring=on", tone="secondary",
             note="临时外出就医"),
    ]
    return Panel(title="异地就医备案", tiles=[tile for tile in tiles if tile is not None], order=10)
