"""The budget dashboard's chart: horizontal bars of budget and spent, drawn as inline SVG.

Drawn on the server so the page needs no script and nothing from elsewhere. The SVG says
what each shape is by its class (`budget`, `spent`, `over`, `detail`, ...) and the page's
stylesheet (`app.css`) colours it with the palette every other page uses; no `style`
attribute, so the pages' CSP (`style-src 'self'`) holds. Every text is escaped here: names
come from data, and the markup goes into the page as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 720
PAD = 8
BAR_AREA = WIDTH - 2 * PAD  # the widest bar, for the largest amount in the chart
BAR_HEIGHT = 16
LEGEND_HEIGHT = 34
HEADING_HEIGHT = 30
ROW_HEIGHT = 58

OVER_PATTERN = "budget-chart-over"


@dataclass(frozen=True)
class Bar:
    key: str  # the budget line's id
    label: str
    detail: str  # the figures in words, e.g. "120.000,00 kr af 800.000,00 kr (15,0 %)"
    budget_ore: int
    spent_ore: int


@dataclass(frozen=True)
class Group:
    heading: str
    bars: Sequence[Bar]


@dataclass(frozen=True)
class Words:
    """The chart's texts in the reader's language."""

    title: str
    desc: str
    budget: str
    spent: str
    over: str  # said of a line that spent more than its budget


def _text(value: str) -> str:
    return escape(value, quote=True)


def bar_width(ore: int, scale_ore: int) -> int:
    """Pixels for an amount: integer arithmetic (rounded down), the largest amount filling
    `BAR_AREA`. No float ever touches an amount, not even for drawing."""
    return max(ore, 0) * BAR_AREA // max(scale_ore, 1)


def _legend(words: Words) -> list[str]:
    """The swatches are drawn like the bars; the overspend one is hatched by the pattern."""
    swatches = [
        (words.budget, "legend-budget", ""),
        (words.spent, "legend-spent", ""),
        (words.over, "legend-over", f' fill="url(#{OVER_PATTERN})"'),
    ]
    parts = ['<g class="legend">']
    x = PAD
    for label, cls, fill in swatches:
        parts.append(
            f'<rect class="{cls}" x="{x}" y="8" width="16" height="16"{fill}/>'
            f'<text x="{x + 22}" y="21">{_text(label)}</text>'
        )
        x += 40 + 8 * len(label)
    parts.append("</g>")
    return parts


def _bar(bar: Bar, y: int, scale_ore: int, words: Words) -> list[str]:
    budget_w = bar_width(bar.budget_ore, scale_ore)
    spent_w = bar_width(bar.spent_ore, scale_ore)
    over = bar.spent_ore > bar.budget_ore
    detail = f"{bar.detail} · {words.over}" if over else bar.detail
    top = y + 22
    parts = [
        f'<g class="bar{" overspent" if over else ""}" data-line="{_text(bar.key)}">',
        f"<title>{_text(bar.label)}: {_text(detail)}</title>",
        f'<text x="{PAD}" y="{y + 15}" font-weight="600">{_text(bar.label)}</text>',
        f'<rect class="budget" x="{PAD}" y="{top}" width="{budget_w}" height="{BAR_HEIGHT}"/>',
        f'<rect class="spent" x="{PAD}" y="{top}" width="{min(spent_w, budget_w)}" '
        f'height="{BAR_HEIGHT}"/>',
    ]
    if over:
        parts.append(
            f'<rect class="over" x="{PAD + budget_w}" y="{top}" width="{spent_w - budget_w}" '
            f'height="{BAR_HEIGHT}" fill="url(#{OVER_PATTERN})"/>'
        )
    parts.append(
        f'<text class="detail" x="{PAD}" y="{top + BAR_HEIGHT + 15}" font-size="12">'
        f"{_text(detail)}</text>"
    )
    parts.append("</g>")
    return parts


def budget_chart(groups: Sequence[Group], words: Words) -> Markup:
    """One bar per line, grouped under their headings, all to one scale: the largest budget
    or spent amount in the chart. Spending beyond a budget is a hatched red extension."""
    scale = max((max(b.budget_ore, b.spent_ore) for g in groups for b in g.bars), default=1)
    body: list[str] = []
    y = LEGEND_HEIGHT
    for group in groups:
        body.append(
            f'<text class="heading" x="{PAD}" y="{y + 20}" font-size="15" font-weight="700">'
            f"{_text(group.heading)}</text>"
        )
        y += HEADING_HEIGHT
        for bar in group.bars:
            body.extend(_bar(bar, y, scale, words))
            y += ROW_HEIGHT
    height = y + PAD
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="budget-chart" role="img" '
        f'aria-labelledby="budget-chart-title budget-chart-desc" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-size="13">',
        f'<title id="budget-chart-title">{_text(words.title)}</title>',
        f'<desc id="budget-chart-desc">{_text(words.desc)}</desc>',
        f'<defs><pattern id="{OVER_PATTERN}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect class="hatch" width="6" height="6"/>'
        f'<rect class="hatch-gap" width="2" height="6"/></pattern></defs>',
    ]
    return Markup("".join([*head, *_legend(words), *body, "</svg>"]))
