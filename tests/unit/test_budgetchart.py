"""The budget chart: well-formed SVG, one bar per line, to scale, overspend marked, escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from server.pilots.budgetchart import BAR_AREA, PAD, Bar, Group, Words, bar_width, budget_chart

SVG = "{http://www.w3.org/2000/svg}"
APP_CSS = Path(__file__).resolve().parents[2] / "web" / "static" / "css" / "app.css"
WORDS = Words("Forbrug mod budget", "Lyse søjler er budget", "Budget", "Forbrug", "overskredet")


def _bar(key: str, budget_kr: int, spent_kr: int, label: str = "") -> Bar:
    return Bar(key, label or key, f"{spent_kr} af {budget_kr}", budget_kr * 100, spent_kr * 100)


GROUPS = [
    Group("Video i almen praksis", [_bar("lps", 800_000, 200_000), _bar("ai", 600_000, 0)]),
    Group("Tværsektoriel video", [_bar("legal", 200_000, 250_000), _bar("rest", 950_000, 950_000)]),
]


def _parse(groups: list[Group], words: Words = WORDS) -> ET.Element:
    return ET.fromstring(str(budget_chart(groups, words)))


def _bars(svg: ET.Element) -> dict[str, ET.Element]:
    return {
        g.attrib["data-line"]: g
        for g in svg.iter(f"{SVG}g")
        if g.attrib.get("class", "").split()[:1] == ["bar"]
    }


def _rect(bar: ET.Element, cls: str) -> ET.Element | None:
    return next((r for r in bar.iter(f"{SVG}rect") if r.attrib["class"] == cls), None)


def _width(bar: ET.Element, cls: str) -> int:
    rect = _rect(bar, cls)
    assert rect is not None
    return int(rect.attrib["width"])


def test_the_chart_is_well_formed_accessible_svg() -> None:
    svg = _parse(GROUPS)
    assert svg.tag == f"{SVG}svg"
    assert svg.attrib["role"] == "img"
    title, desc = svg[0], svg[1]
    assert (title.tag, title.text) == (f"{SVG}title", "Forbrug mod budget")
    assert (desc.tag, desc.text) == (f"{SVG}desc", "Lyse søjler er budget")
    assert svg.attrib["aria-labelledby"].split() == [title.attrib["id"], desc.attrib["id"]]
    texts = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
    assert "Video i almen praksis" in texts and "Tværsektoriel video" in texts
    assert "lps" in texts and "200000 af 800000" in texts  # every bar has text labels


def test_one_bar_per_line_in_order() -> None:
    assert list(_bars(_parse(GROUPS))) == ["lps", "ai", "legal", "rest"]
    assert _bars(_parse([])) == {}


def test_widths_are_proportional_the_largest_amount_filling_the_area() -> None:
    bars = _bars(_parse(GROUPS))
    assert _width(bars["rest"], "budget") == BAR_AREA  # 950,000 is the largest amount
    assert _width(bars["lps"], "budget") == 800_000 * BAR_AREA // 950_000
    assert _width(bars["lps"], "spent") == 200_000 * BAR_AREA // 950_000
    assert _width(bars["ai"], "spent") == 0
    assert _width(bars["rest"], "spent") == _width(bars["rest"], "budget")


def test_overspend_is_drawn_distinctly_beyond_the_budget_and_said_in_words() -> None:
    bars = _bars(_parse(GROUPS))
    legal = bars["legal"]
    assert "overspent" in legal.attrib["class"].split()
    budget_w = _width(legal, "budget")
    over = _rect(legal, "over")
    assert over is not None
    assert int(over.attrib["x"]) == PAD + budget_w
    assert int(over.attrib["width"]) == bar_width(25_000_000, 95_000_000) - budget_w
    assert over.attrib["fill"].startswith("url(#")  # hatched, not only another colour
    assert _width(legal, "spent") == budget_w
    assert any("overskredet" in "".join(t.itertext()) for t in legal.iter(f"{SVG}text"))
    for key in ("lps", "ai", "rest"):  # spending exactly the budget is not overspending
        assert _rect(bars[key], "over") is None
        assert "overspent" not in bars[key].attrib["class"].split()


def test_colours_come_from_the_stylesheet_by_class() -> None:
    svg = _parse(GROUPS)
    for element in svg.iter():
        assert not {"stroke", "style", "color"} & element.attrib.keys(), element.attrib
        assert element.attrib.get("fill", "url(#").startswith("url(#")  # only the hatching
    css = APP_CSS.read_text()
    shapes = {cls for rect in svg.iter(f"{SVG}rect") for cls in rect.attrib["class"].split()}
    assert shapes >= {"budget", "spent", "over", "legend-over", "hatch", "hatch-gap"}
    for cls in shapes | {"detail"}:
        assert f".budget-chart .{cls}" in css, cls


def test_labels_are_escaped() -> None:
    nasty = "Løn & <script>alert('x')</script> \"citat\""
    groups = [Group(nasty, [_bar('k"><svg onload=x>', 10, 5, label=nasty)])]
    markup = str(budget_chart(groups, Words(nasty, nasty, nasty, nasty, nasty)))
    assert "<script>" not in markup and "onload=x>" not in markup
    svg = ET.fromstring(markup)
    assert svg[0].text == nasty
    [bar] = _bars(svg).values()
    assert bar.attrib["data-line"] == 'k"><svg onload=x>'
    assert nasty in ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]


def test_every_drawn_figure_is_a_whole_number() -> None:
    svg = _parse(GROUPS)
    for element in svg.iter():
        for name in ("x", "y", "width", "height"):
            if name in element.attrib:
                assert element.attrib[name].isdigit(), (element.tag, name, element.attrib)


@given(
    scale=st.integers(min_value=1, max_value=10**13),
    a=st.integers(min_value=0, max_value=10**13),
    b=st.integers(min_value=0, max_value=10**13),
)
def test_bar_width_is_monotone_and_within_a_pixel_of_exact(scale: int, a: int, b: int) -> None:
    a, b = sorted((min(a, scale), min(b, scale)))
    assert bar_width(a, scale) <= bar_width(b, scale) <= BAR_AREA
    assert 0 <= a * BAR_AREA - bar_width(a, scale) * scale < scale
