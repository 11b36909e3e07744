from django import template
from django.utils.html import format_html

from reimbursement.formatting import mask_bank_account

register = template.Library()

STATUS_TONES = {
    "incomplete": "warning",
    "accepted": "primary",
    "submitted": "info",
    "approved": "success",
    "rejected": "danger",
    "payment_notified": "success",
    "paid": "secondary",
    "cancelled": "secondary",
}

STATUS_HELP = {
    "incomplete": "材料不全，已一次性告知，等待补齐材料",
    "accepted": "材料齐全已受理，办理期限从收齐材料之日起算",
    "submitted": "已提交复核，等待审核人员审批",
    "approved": "已审批通过，等待财务出付款通知",
    "rejected": "已驳回，原因已告知申请人",
    "payment_notified": "已列入付款通知，等待财务支付",
    "paid": "已支付，申请办结",
    "cancelled": "申请已撤销",
}

FLAGS = {
    "overdue": ("danger", "已逾期"),
    "due_today": ("warning", "今日到期"),
    "due_soon": ("warning", "2个工作日内到期"),
    "on_track": ("light", "正常"),
}


@register.simple_tag
def status_badge(claim):
    tone = STATUS_TONES.get(claim.status, "secondary")
    text_tone = "text-bg-" + tone
    returned = ""
    if claim.status == "accepted" and claim.return_reason:
        returned = format_html(' <span class="badge text-bg-danger" title="{}">被退回</span>', claim.return_reason)
    return format_html('<span class="badge {}" title="{}">{}</span>{}', text_tone, STATUS_HELP.get(claim.status, "申请状态"),
                       claim.get_status_display(), returned)


@register.simple_tag
def flag_badge(flag):
    if not flag or flag not in FLAGS:
        return ""
    tone, label = FLAGS[flag]
    return format_html('<span class="badge text-bg-{}" title="办理期限提醒：{}">{}</span>', tone, label, label)


@register.filter
def mask_account(value):
    return mask_bank_account(value or "")


@register.filter
def status_label(value):
    from reimbursement.models import Claim

    try:
        return Claim.Status(value).label
    except ValueError:
        return value


@register.filter
def care_label(value):
    from reimbursement.models import CareType

    try:
        return CareType(value).label
    except ValueError:
        return value


@register.filter
def filing_status_label(value):
    from filings.models import FilingStatus

    try:
        return FilingStatus(value).label
    except ValueError:
        return value or "—"
