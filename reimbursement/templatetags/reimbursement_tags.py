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
    return format_html('<span class="badge {}">{}</span>{}', text_tone, claim.get_status_display(), returned)


@register.simple_tag
def flag_badge(flag):
    if not flag or flag not in FLAGS:
        return ""
    tone, label = FLAGS[flag]
    return format_html('<span class="badge text-bg-{}">{}</span>', tone, label)


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
