"""Home-page panels of 业务协同: what waits for this agency, with overdue and due-soon counts."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from cooperation.selectors import Window, assist_counts, coordination_counts
from core.dashboard import Panel, Tile, panel
from core.models import Role

WORKERS = (Role.CLERK, Role.SUPERVISOR, Role.CLEARING_OFFICER)


def _url(name: str, **params) -> str:
    return f"{reverse(name)}?{urlencode(params)}" if params else reverse(name)


def _tone(value: int, tone: str) -> str:
    return tone if value else "secondary"


@panel
def assist_panel(user) -> Panel | None:
    if not user.has_role(*WORKERS) or user.agency_id is None:
        return None
    counts = assist_counts(user=user, window=Window.for_today())
    tiles = [
        Tile("待我方核查", counts["to_answer"], _url("cooperation:assist_list", side="to_answer"), tone="primary",
             note="次月26日前返回结果"),
        Tile("核查已逾期", counts["to_answer_overdue"], _url("cooperation:assist_list", side="to_answer", flag="overdue"),
             tone=_tone(counts["to_answer_overdue"], "danger")),
        Tile("核查2个工作日内到期", counts["to_answer_soon"],
             _url("cooperation:assist_list", side="to_answer", flag="due_soon"),
             tone=_tone(counts["to_answer_soon"], "warning")),
        Tile("结果待我方确认", counts["to_confirm"], _url("cooperation:assist_list", side="to_confirm"),
             tone=_tone(counts["to_confirm"], "warning"), note="5个工作日内确认"),
        Tile("确认已逾期", counts["to_confirm_overdue"], _url("cooperation:assist_list", side="to_confirm", flag="overdue"),
             tone=_tone(counts["to_confirm_overdue"], "danger")),
        Tile("跨省申请待导出", counts["cross_not_exported"], _url("cooperation:assist_list", exported="no"),
             tone=_tone(counts["cross_not_exported"], "warning"), note="经国家系统传递"),
    ]
    return Panel(title="费用协查", tiles=tiles, order=40)


@panel
def coordination_panel(user) -> Panel | None:
    if not user.has_role(*WORKERS) or user.agency_id is None:
        return None
    counts = coordination_counts(user=user, window=Window.for_today())
    tiles = [
        Tile("待我方回复", counts["to_reply"], _url("cooperation:coordination_list", side="to_reply"), tone="primary",
             note="第一响应人"),
        Tile("回复已逾期", counts["to_reply_overdue"],
             _url("cooperation:coordination_list", side="to_reply", flag="overdue"),
             tone=_tone(counts["to_reply_overdue"], "danger")),
        Tile("回复2个工作日内到期", counts["to_reply_soon"],
             _url("cooperation:coordination_list", side="to_reply", flag="due_soon"),
             tone=_tone(counts["to_reply_soon"], "warning")),
        Tile("结果待我方确认", counts["to_confirm"], _url("cooperation:coordination_list", side="to_confirm"),
             tone=_tone(counts["to_confirm"], "warning"), note="10个工作日未确认视同确认"),
        Tile("请我方协助", counts["helping"], _url("cooperation:coordination_list", side="helping"),
             tone=_tone(counts["helping"], "primary")),
        Tile("有异议待提请上级", counts["disputed"], _url("cooperation:coordination_list", status="disputed"),
             tone=_tone(counts["disputed"], "danger")),
    ]
    return Panel(title="问题协同", tiles=tiles, order=41)
