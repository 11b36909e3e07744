"""Home-page panels of manual reimbursement: real counts, one query per user."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from core.dashboard import Panel, Tile, panel
from core.figures import kept_figures
from core.models import Role
from core.money import format_yuan
from reimbursement.selectors import DeadlineWindow, dashboard_counts

_DEADLINES = ("due_today", "due_soon", "overdue", "needs_notice")
#: What each role's panel shows: a user's figures are read once, for the panels they see.
FIGURES_OF = {
    Role.CLERK: ("incomplete", "accepted", "returned", "open_returns", *_DEADLINES),
    Role.SUPERVISOR: ("submitted", "unverified_returns", "decided_this_month", *_DEADLINES),
    Role.FINANCE: ("approved", "approved_amount", "payment_notified", "paid_this_month", "paid_amount_this_month"),
}


def _counts(user) -> dict:
    cached = getattr(user, "_reimbursement_counts", None)
    if cached is None:
        only = sorted({name for role, names in FIGURES_OF.items() if user.has_role(role) for name in names})
        window = DeadlineWindow.for_today()
        cached = kept_figures(
            "reimbursement", user=user, variant=f"{window.today:%Y%m%d}:{','.join(only)}",
            count=lambda: dashboard_counts(user=user, window=window, only=only),
        )
        user._reimbursement_counts = cached
    return cached


def _list(**params) -> str:
    from urllib.parse import urlencode

    return f"{reverse('reimbursement:claim_list')}?{urlencode(params, doseq=True)}"


def _deadline_tiles(counts: dict) -> list[Tile]:
    return [
        Tile("今日到期", counts["due_today"], _list(deadline="due_today"), tone="warning" if counts["due_today"] else "secondary"),
        Tile("2个工作日内到期", counts["due_soon"], _list(deadline="due_soon"), tone="warning" if counts["due_soon"] else "secondary"),
        Tile("已逾期", counts["overdue"], _list(deadline="overdue"), tone="danger" if counts["overdue"] else "secondary"),
        Tile(
            "临期未告知",
            counts["needs_notice"],
            _list(deadline="needs_notice"),
            tone="danger" if counts["needs_notice"] else "secondary",
            note="不能按期办结的须提前告知",
        ),
    ]


@panel
def counter(user) -> Panel | None:
    if not user.has_role(Role.CLERK):
        return None
    counts = _counts(user)
    return Panel(
        title="零星报销 · 窗口受理",
        order=20,
        tiles=[
            Tile("材料不全待补齐", counts["incomplete"], _list(status="incomplete"), tone="warning" if counts["incomplete"] else "secondary"),
            Tile("审核中", counts["accepted"], _list(status="accepted")),
            Tile("被退回待修改", counts["returned"], _list(deadline="returned"), tone="danger" if counts["returned"] else "secondary"),
            Tile(
                "退票待更正账户",
                counts["open_returns"],
                _list(deadline="payment_returned"),
                tone="danger" if counts["open_returns"] else "secondary",
            ),
            *_deadline_tiles(counts),
        ],
    )


@panel
def review(user) -> Panel | None:
    if not user.has_role(Role.SUPERVISOR):
        return None
    counts = _counts(user)
    return Panel(
        title="零星报销 · 审核审批",
        order=21,
        tiles=[
            Tile("待复核", counts["submitted"], _list(status="submitted"), tone="primary"),
            Tile(
                "更正账户待复核",
                counts["unverified_returns"],
                _list(deadline="payee_unverified"),
                tone="danger" if counts["unverified_returns"] else "secondary",
                note="退票后更正的收款账户",
            ),
            *_deadline_tiles(counts),
            Tile("本月已审批", counts["decided_this_month"], _list(status=["approved", "payment_notified", "paid", "rejected"]), tone="success"),
        ],
    )


@panel
def finance(user) -> Panel | None:
    if not user.has_role(Role.FINANCE):
        return None
    counts = _counts(user)
    approved_amount = counts["approved_amount"] or Decimal("0")
    paid_amount = counts["paid_amount_this_month"] or Decimal("0")
    return Panel(
        title="零星报销 · 财务付款",
        order=22,
        tiles=[
            Tile("待出付款通知", counts["approved"], reverse("reimbursement:payments"), tone="primary", note=f"{format_yuan(approved_amount)} 元"),
            Tile("待登记支付", counts["payment_notified"], _list(status="payment_notified"), tone="warning" if counts["payment_notified"] else "secondary"),
            Tile("本月已支付", counts["paid_this_month"], _list(status="paid"), tone="success", note=f"{format_yuan(paid_amount)} 元"),
        ],
    )
