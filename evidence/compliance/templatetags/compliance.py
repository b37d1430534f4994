"""Template filters and the dashboard tag of the auditor's admin."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from evidence.compliance import labels

register = template.Library()


@register.filter
def code_label(code: str) -> str:
    """The human label, the raw code beside it in small type."""
    return format_html('{} <small class="raw-code"><code>{}</code></small>', labels.code_label(code), code)


@register.filter
def control_label(control: str) -> str:
    return labels.control_label(control)


@register.filter
def status_badge(status: str) -> str:
    """A link's status in words and colour (classes status-<status> in admin/compliance/ux.css)."""
    return format_html('<span class="status status-{}">{}</span>', status, labels.status_label(status))


@register.filter
def verdict_badge(verdict: str) -> str:
    return format_html('<span class="verdict verdict-{}">{}</span>', verdict, labels.verdict_label(verdict))


@register.inclusion_tag("admin/compliance/dashboard.html", takes_context=True)
def compliance_dashboard(context: Any) -> dict[str, Any]:
    """The auditor's dashboard on the admin index: figures of one environment over one period."""
    from evidence.compliance.dashboard import dashboard_context

    return dashboard_context(context["request"])
