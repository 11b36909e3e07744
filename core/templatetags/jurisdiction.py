"""What a template says about the home province: its name and the citations of its rules
(core.jurisdictions), so no template names 江苏 itself."""

from __future__ import annotations

from django import template

from core.jurisdictions import rules_for

register = template.Library()


@register.simple_tag
def home_province_name() -> str:
    """江苏省 / 江西省 / 新疆维吾尔自治区 — as the form titles print it (附件2/4/10/11)."""
    return rules_for(None).province_name


@register.simple_tag
def cite(topic: str, on=None) -> str:
    """The citation of a rule of the home province, e.g. {% cite "limits" %} ->
    《江苏省异地就医经办服务规程》第二十八条."""
    return rules_for(None, on=on).cite(topic)


@register.simple_tag
def procedure(on=None) -> str:
    return rules_for(None, on=on).procedure


@register.simple_tag
def article(topic: str, on=None) -> str:
    """The home province's short article for a topic (e.g. "江苏 第九条(二)"), "" where its rules
    name none: a template prints the bracket only when there is something to cite."""
    return rules_for(None, on=on).articles.get(topic, "")


@register.simple_tag
def cited(topic: str, on=None) -> str:
    """{% cited "unfiled" %} -> "（第十八条）" for 江苏, "" where the home province's rules have no
    such article: the page then states the rule without quoting another province."""
    return rules_for(None, on=on).cited(topic)
