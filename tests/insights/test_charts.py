"""The SVG pictures of the dashboard, parsed: the right bars, cells and labels,
colours that read, and hidden counts that never show (nor change the drawing)."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET

import pytest

from mixer.insights import charts
from mixer.insights.figures import Count
from tests.insights.hand_built import CELLS, DEPARTMENTS, STAGES, hand_built

# Pictures drawn from values: the SQLite pass only.
pytestmark = pytest.mark.once

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(markup) -> ET.Element:
    """The ``<svg>`` element, checked to be a named, described image."""
    svg = ET.fromstring(str(markup))
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find(f"s:title[@id='{title_id}']", NS).text
    assert svg.find(f"s:desc[@id='{desc_id}']", NS).text
    assert "style" not in str(markup)  # the CSP refuses style attributes
    return svg


def texts(element: ET.Element) -> list[str]:
    """The visible ``<text>`` strings under ``element`` (their tooltips aside)."""
    out = []
    for t in element.iter("{http://www.w3.org/2000/svg}text"):
        out.append((t.text or "").strip())
    return out


def title(element: ET.Element) -> str:
    """The tooltip of ``element``."""
    return element.find("s:title", NS).text


def test_funnel_draws_a_bar_a_stage_to_scale():
    svg = parse(charts.funnel_chart(hand_built().funnel))
    stages = svg.findall("s:g[@class='funnel-stage']", NS)
    assert [g.get("data-stage") for g in stages] == [key for key, _, _ in STAGES]
    by_key = {g.get("data-stage"): g for g in stages}
    # Registered (120, the most) is the whole width, checked in (96) 80 % of it.
    assert by_key["registered"].find("s:rect[@class='bar']", NS).get("width") == "360"
    checked = by_key["checked_in"].find("s:rect[@class='bar']", NS)
    assert checked.get("width") == "288"
    assert title(checked) == "Checked in: 96"
    assert texts(by_key["answered"]) == ["Answered", "61"]
    # Active at 90 days is 3: hatched, the length of 5, "fewer than 5".
    hidden = by_key["active_90"].find("s:rect[@class='bar hidden']", NS)
    assert hidden.get("fill") == "url(#funnel-chart-hatch)"
    assert hidden.get("width") == "15"
    assert texts(by_key["active_90"]) == ["Active at 90 days", "fewer than 5"]
    assert title(hidden) == "Active at 90 days: fewer than 5"
    assert "Active at 90 days: fewer than 5" in svg.find("s:desc", NS).text


def test_heat_map_cells_labels_and_contrast():
    svg = parse(charts.heat_map(hand_built().silos))
    cells = svg.findall("s:g[@class='cell']", NS)
    assert len(cells) == 16
    by_rc = {(int(c.get("data-row")), int(c.get("data-col"))): c for c in cells}
    for (i, j), cell in by_rc.items():
        n = CELLS[i][j]
        label = texts(cell)
        if 0 < n < 5:
            assert cell.get("data-step") == "hidden"
            assert label == ["<5"]
            assert title(cell).endswith(": fewer than 5 meetings")
            assert cell.find("s:rect", NS).get("fill") == "url(#silo-map-hatch)"
            assert not re.search(r"\d", title(cell).replace("fewer than 5", ""))
        else:
            assert label == [str(n)]
            assert title(cell).endswith(f": {n} meetings")
            step = int(cell.get("data-step"))
            assert step == charts.heat_step(Count(n), 40)
            fill = cell.find("s:rect", NS).get("fill")
            assert fill == charts.STEPS[step]
            ink = cell.find("s:text", NS).get("fill")
            assert charts.contrast(ink, fill) >= 4.5, (n, ink, fill)
    # Zero is the palest step, the largest count (40) the darkest.
    assert by_rc[(0, 3)].get("data-step") == "0"
    assert by_rc[(0, 0)].get("data-step") == str(len(charts.STEPS) - 1)
    assert title(by_rc[(1, 3)]) == "Sales × No department: 5 meetings"
    assert title(by_rc[(1, 1)]) == "Within Sales: 8 meetings"
    # Text on the hatching reads on both of its colours.
    for colour in (charts.HATCH_BG, charts.HATCH_LINE):
        assert charts.contrast(charts.INK, colour) >= 4.5
    # Long names are cut in the picture and whole in their tooltip.
    rows = svg.findall("s:text[@class='row-label']", NS)
    assert [r.text for r in rows] == [
        "Engineering",
        "Sales",
        "People and Cu…",
        "No department",
    ]
    assert [title(r) for r in rows] == DEPARTMENTS
    cols = svg.findall("s:text[@class='col-label']", NS)
    assert [title(c) for c in cols] == DEPARTMENTS
    # The key names each step's counts, and the hatching.
    key = [texts(k)[0] for k in svg.findall("s:g[@class='key']", NS)]
    # Shown counts start at 5: the steps share out 5 … 40.
    assert key == ["0", "5–11", "12–18", "19–25", "26–32", "33–40", "fewer than 5"]
    assert "77 in all, 27 across departments (35%)" in svg.find("s:desc", NS).text


@pytest.mark.parametrize("fill", charts.STEPS)
def test_every_heat_step_has_text_that_reads(fill):
    assert charts.contrast(charts.text_on(fill), fill) >= 4.5


def test_trends_draw_a_column_a_month_per_series():
    board = hand_built()
    svg = parse(charts.funnel_trend(board.funnel))
    series = svg.findall("s:g[@class='trend-series']", NS)
    assert [s.get("data-series") for s in series] == list(charts.FUNNEL_TREND)
    registered = series[0]
    columns = registered.findall("s:rect", NS)
    assert [title(c) for c in columns] == [
        "November 2025: 30",
        "December 2025: 23",
        "January 2026: 16",
        "February 2026: 9",
    ]
    heights = [float(c.get("height")) for c in columns]
    assert heights[0] == 44 and heights[3] == pytest.approx(44 * 9 / 30, abs=0.1)
    checked = series[1].findall("s:rect", NS)
    assert checked[3].get("class") == "col hidden"  # 24 - 21 = 3
    assert title(checked[3]) == "February 2026: fewer than 5"
    assert texts(series[1])[1] == "Feb 2026: fewer than 5"
    months = [t.text for t in svg.findall("s:text[@class='month']", NS)]
    years = [t.text for t in svg.findall("s:text[@class='year']", NS)]
    assert months == ["Nov", "Dec", "Jan", "Feb"]
    assert years == ["2025", "2026"]

    events = parse(charts.events_trend(board.events))
    rating = events.find("s:g[@data-series='rating']", NS)
    # Months without five ratings draw nothing.
    assert [title(c) for c in rating.findall("s:rect", NS)] == [
        "November 2025: 4.5",
        "February 2026: 4.2",
    ]


def test_topic_chart_seek_over_offer():
    gaps = hand_built().topics.suggested
    svg = parse(charts.topic_chart(gaps, "topics", "Suggested topics"))
    topics = svg.findall("s:g[@class='topic']", NS)
    assert [t.get("data-topic") for t in topics] == [
        "Negotiation",
        "Public speaking",
        "Kubernetes",
    ]
    seek = topics[0].find("s:rect[@class='bar bar-seek']", NS)
    assert title(seek) == "Negotiation: 14 seek"
    assert texts(topics[0]) == ["Negotiation", "14", "fewer than 5"]
    assert topics[0].find("s:rect[@class='bar bar-offer hidden']", NS) is not None
    assert texts(topics[2]) == ["Kubernetes", "fewer than 5", "fewer than 5"]


def _with_hidden(n: int):
    """The hand-built dashboard with every hidden count set to ``n`` (1..4)."""
    board = hand_built()

    def swap(c: Count) -> Count:
        return Count(n) if c.hidden else c

    funnel = dataclasses.replace(
        board.funnel,
        stages=[
            dataclasses.replace(s, count=swap(s.count)) for s in board.funnel.stages
        ],
        months=[
            dataclasses.replace(m, counts={k: swap(c) for k, c in m.counts.items()})
            for m in board.funnel.months
        ],
    )
    silos = dataclasses.replace(
        board.silos, cells=[[swap(c) for c in row] for row in board.silos.cells]
    )
    suggested = [
        dataclasses.replace(g, seekers=swap(g.seekers), offerers=swap(g.offerers))
        for g in board.topics.suggested
    ]
    events = dataclasses.replace(
        board.events,
        months=[
            dataclasses.replace(
                m, registered=swap(m.registered), attended=swap(m.attended)
            )
            for m in board.events.months
        ],
    )
    return [
        charts.funnel_chart(funnel),
        charts.funnel_trend(funnel),
        charts.heat_map(silos),
        charts.topic_chart(suggested, "topics", "Suggested topics"),
        charts.events_trend(events),
    ]


def test_a_hidden_count_draws_the_same_whatever_it_is():
    """1 and 4 people give byte-identical pictures: nothing tells them apart."""
    one, four = _with_hidden(1), _with_hidden(4)
    for a, b in zip(one, four, strict=True):
        assert str(a) == str(b)
    assert "fewer than 5" in str(one[0])


def test_names_are_escaped_and_empty_figures_draw():
    board = hand_built()
    silos = dataclasses.replace(
        board.silos, departments=["<R&D>", *board.silos.departments[1:]]
    )
    svg = parse(charts.heat_map(silos))
    assert title(svg.find("s:text[@class='row-label']", NS)) == "<R&D>"
    empty = dataclasses.replace(board.funnel, stages=[], months=[])
    assert parse(charts.funnel_chart(empty)).find("s:desc", NS).text == "No data."
    assert parse(charts.funnel_trend(empty)).find("s:g", NS) is not None
    assert parse(charts.topic_chart([], "t", "None")).find("s:desc", NS).text == (
        "No topics."
    )
