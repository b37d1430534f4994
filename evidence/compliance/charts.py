"""SVG charts made on the server with pygal: the same chart in the admin's dashboard and in the
audit pack's PDF. No JavaScript (pygal's default script comes from a CDN): plain SVG, and every
chart is shown beside a table of the same figures."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from functools import wraps

import pygal
from pygal.style import Style

from evidence.compliance.labels import VERDICT_COLOURS, verdict_label

VERDICT_ORDER = ("compliant", "exception", "incomplete", "attempt")
BAR_COLOUR = "#ba2121"
# pygal writes its configuration into an inline <script> even with js=[] (for its tooltips, which
# need the script we do not load): dropped, so a chart is plain SVG in the admin and in the PDF.
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


CACHE_SECONDS = 3600


def _svg(chart: pygal.graph.graph.Graph) -> str:
    return SCRIPT.sub("", chart.render(is_unicode=True))


def cached(draw: Callable[..., str]) -> Callable[..., str]:
    """A chart is a pure function of its figures, and pygal takes tens of milliseconds per chart:
    keep each SVG in Django's cache under the hash of what it draws (a past quarter's dashboard
    is drawn once, a changed figure draws anew)."""

    @wraps(draw)
    def drawn(*args: object, **kwargs: object) -> str:
        from django.core.cache import cache

        key = (
            "chart:"
            + hashlib.sha256(
                json.dumps([draw.__name__, args, kwargs], sort_keys=True, default=str).encode()
            ).hexdigest()
        )
        svg = cache.get(key)
        if svg is None:
            svg = draw(*args, **kwargs)
            cache.set(key, svg, CACHE_SECONDS)
        return svg

    return drawn


def _style(colours: Sequence[str]) -> Style:
    return Style(
        background="transparent",
        plot_background="transparent",
        foreground="#333",
        foreground_strong="#111",
        foreground_subtle="#ccc",
        colors=tuple(colours),
        font_family="DejaVu Sans, sans-serif",
        label_font_size=11,
        major_label_font_size=11,
        legend_font_size=11,
        value_font_size=10,
        title_font_size=13,
    )


def _options(width: int, height: int) -> dict[str, object]:
    # js=[]: no script from a CDN; disable_xml_declaration: the SVG goes inline into HTML.
    return {"width": width, "height": height, "js": [], "disable_xml_declaration": True, "explicit_size": True}


@cached
def deployments_timeline(buckets: Sequence[str], counts: dict[str, list[int]], width: int = 760) -> str:
    """Deployments per bucket (week), stacked by verdict, coloured as the verdict badges."""
    shown = [v for v in VERDICT_ORDER if any(counts.get(v, []))]
    chart = pygal.StackedBar(
        style=_style([VERDICT_COLOURS[v] for v in shown]),
        x_label_rotation=0,
        show_minor_x_labels=False,
        legend_at_bottom=True,
        legend_at_bottom_columns=4,
        print_values=False,
        **_options(width, 300),
    )
    chart.title = "Deployments by week and verdict"
    chart.x_labels = list(buckets)
    # Label every few weeks only, so the axis text never runs together (also in the PDF).
    step = max(1, len(buckets) // 7)
    chart.x_labels_major = list(buckets)[::step]
    for verdict in shown:
        chart.add(verdict_label(verdict), counts[verdict])
    return _svg(chart)


@cached
def horizontal_counts(title: str, rows: Sequence[tuple[str, int]], width: int = 560) -> str:
    """One bar per label (e.g. exceptions by control or by finding code), largest first."""
    chart = pygal.HorizontalBar(
        style=_style([BAR_COLOUR]),
        show_legend=False,
        print_values=True,
        **_options(width, max(140, 60 + 26 * len(rows))),
    )
    chart.title = title
    chart.x_labels = [label for label, _ in rows]
    chart.add(title, [n for _, n in rows])
    return _svg(chart)


@cached
def trend_line(title: str, buckets: Sequence[str], values: Sequence[float | None], unit: str, width: int = 560) -> str:
    """One metric per bucket as a line; a bucket with no data is a gap, never a zero."""
    chart = pygal.Line(
        style=_style([BAR_COLOUR]),
        show_legend=False,
        allow_interruptions=True,
        show_minor_x_labels=False,
        y_title=unit,
        **_options(width, 240),
    )
    chart.title = title
    chart.x_labels = list(buckets)
    step = max(1, len(buckets) // 7)
    chart.x_labels_major = list(buckets)[::step]
    chart.add(title, list(values))
    return _svg(chart)
