"""Bar charts drawn on the server as SVG: nothing to load in the browser, nothing from a CDN."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 24, 24
TICKS = 4


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: Sequence[Decimal]


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 times 10^k that is at least `value` (1 for nothing), so the axis's
    ticks fall on round numbers."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** math.floor(math.log10(value))
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= step * power:
            return step * power
    raise AssertionError("unreachable: 10 times 10^floor(log10 v) > v")


def stacked_bars(
    *, title: str, days: Sequence[date], series: Sequence[Series], show: Callable[[Decimal], str]
) -> SafeString:
    """One bar a day, the series stacked up from zero (a negative part, as a day refunding more than
    it earned, down from it), with a `<title>` on each part (a tooltip in a browser, and the figures
    for a screen reader) and a legend."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    by_day = list(zip(*(part.values for part in series), strict=True))
    top = nice_ceiling(max(sum((v for v in values if v > 0), Decimal(0)) for values in by_day))
    lowest = min(sum((v for v in values if v < 0), Decimal(0)) for values in by_day)
    bottom = -nice_ceiling(-lowest) if lowest < 0 else Decimal(0)
    span = top - bottom
    slot = plot_width / len(days)

    def y(value: Decimal) -> float:
        return TOP + plot_height * float((top - value) / span)

    ticks = [top * n / TICKS for n in range(TICKS + 1)] + ([bottom / 2, bottom] if bottom else [])
    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ccc" stroke-width="1"/>'
        '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="currentColor">{}</text>',
        ((LEFT, WIDTH - RIGHT, f"{y(t):.1f}", f"{y(t):.1f}", LEFT - 6, f"{y(t) + 4:.1f}", show(t)) for t in ticks),
    )
    bars = []
    for index, day in enumerate(days):
        up = down = Decimal(0)  # how far this day's bar reaches above and below zero so far
        for part in series:
            value = part.values[index]
            if not value:
                continue
            if value > 0:
                up += value
                upper = up
            else:
                upper = down
                down += value
            bars.append(
                (
                    f"{LEFT + slot * index + slot * 0.15:.1f}",
                    f"{y(upper):.1f}",
                    f"{slot * 0.7:.1f}",
                    f"{plot_height * float(abs(value) / span):.1f}",
                    part.colour,
                    f"{day:%d %b}: {part.name} {show(value)}",
                )
            )
    rects = format_html_join("", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>', bars)
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="currentColor">{}</text>',
        (
            (f"{LEFT + slot * (index + 0.5):.1f}", HEIGHT - 6, f"{day:%d %b}")
            for index, day in enumerate(days)
            if (len(days) - 1 - index) % 5 == 0
        ),
    )
    legend = format_html_join(
        "",
        '<rect x="{}" y="2" width="10" height="10" fill="{}"/>'
        '<text x="{}" y="11" font-size="11" fill="currentColor">{}</text>',
        ((LEFT + 120 * n, part.colour, LEFT + 14 + 120 * n, part.name) for n, part in enumerate(series)),
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" role="img" aria-label="{}">'
        "{}{}{}{}</svg>",
        WIDTH,
        HEIGHT,
        title,
        grid,
        rects,
        labels,
        legend,
    )
