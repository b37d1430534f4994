"""The dashboard's DORA slot: `{% dora_panel dora as panel %}` (admin/compliance/dashboard_dora.html)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def dora_panel(dora: dict[str, Any]) -> dict[str, Any]:
    """The five DORA figures of the dashboard's environment and period, with their trends."""
    from evidence.compliance.dora.panel import dora_panel as panel

    return panel(dora["environment"], dora["since"], dora["until"])
