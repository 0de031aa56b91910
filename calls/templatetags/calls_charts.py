"""Charts drawn on the server as SVG: no JavaScript library, readable without colour (missed calls
are hatched, every bar carries its number, the chart has a text alternative)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from calls.history.stats import HourRow

register = template.Library()

WIDTH, HEIGHT, BAR_AREA = 960, 260, 200
LEFT, TOP = 30, 24
HEAT_LEVELS = 4


@register.simple_tag
def hourly_chart(rows: list[HourRow]) -> SafeString:
    """Stacked bars per hour of day: answered (solid) below, missed and other (hatched) above."""
    peak = max((row.calls for row in rows), default=0) or 1
    slot = (WIDTH - LEFT) / len(rows)
    bars = []
    for index, row in enumerate(rows):
        x = LEFT + index * slot + slot * 0.15
        width = slot * 0.7
        answered_h = BAR_AREA * row.answered / peak
        other_h = BAR_AREA * (row.calls - row.answered) / peak
        base = TOP + BAR_AREA
        # format_html escapes its arguments into strings first: numbers are formatted here.
        n = {
            "x": f"{x:.1f}",
            "w": f"{width:.1f}",
            "mid": f"{x + width / 2:.1f}",
            "answered_y": f"{base - answered_h:.1f}",
            "answered_h": f"{answered_h:.1f}",
            "other_y": f"{base - answered_h - other_h:.1f}",
            "other_h": f"{other_h:.1f}",
            "value_y": f"{base - answered_h - other_h - 4:.1f}",
            "label_y": f"{base + 16:.1f}",
        }
        bars.append(
            format_html(
                "<g><title>{}</title>"
                '<rect x="{}" y="{}" width="{}" height="{}" class="bar-answered"/>'
                '<rect x="{}" y="{}" width="{}" height="{}" class="bar-missed"/>'
                '<text x="{}" y="{}" class="bar-value">{}</text>'
                '<text x="{}" y="{}" class="bar-label">{}</text></g>',
                _("%(hour)02d:00 — %(calls)d calls, %(answered)d answered")
                % {"hour": row.hour, "calls": row.calls, "answered": row.answered},
                n["x"],
                n["answered_y"],
                n["w"],
                n["answered_h"],
                n["x"],
                n["other_y"],
                n["w"],
                n["other_h"],
                n["mid"],
                n["value_y"],
                row.calls or "",
                n["mid"],
                n["label_y"],
                f"{row.hour:02d}",
            )
        )
    summary = ", ".join(f"{row.hour:02d}: {row.calls}" for row in rows if row.calls)
    return format_html(
        '<svg class="chart" id="hourly-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" class="hatch-bg"/>'
        '<line x1="0" y1="0" x2="0" y2="6" class="hatch-line"/></pattern></defs>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="axis"/>{}'
        '<g class="legend" transform="translate({}, 12)">'
        '<rect width="12" height="12" class="bar-answered"/><text x="16" y="11">{}</text>'
        '<rect x="110" width="12" height="12" class="bar-missed"/><text x="126" y="11">{}</text>'
        "</g></svg>",
        WIDTH,
        HEIGHT,
        _("Calls per hour: %(summary)s") % {"summary": summary or _("none")},
        LEFT,
        TOP + BAR_AREA,
        WIDTH,
        TOP + BAR_AREA,
        format_html_join("", "{}", ((bar,) for bar in bars)),
        WIDTH - 260,
        _("answered"),
        _("not answered"),
    )


@register.filter
def heat_level(count: int, peak: int) -> int:
    """0 for none, then 1..4 by share of the busiest cell (the number is printed too)."""
    if not count or not peak:
        return 0
    return max(1, round(HEAT_LEVELS * count / peak))
