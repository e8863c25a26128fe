"""Server-rendered SVG pictures of the insights figures (no script, no style).

Each function returns the ``<svg role="img">`` of one figure as ``Markup``,
named by its ``<title>`` and summed up by its ``<desc>``; the page puts the same
numbers in a table beside it. The pictures carry their colours as presentation
attributes (``fill=``), which the strict CSP allows where ``style=`` is refused,
so the same markup draws in the page and in a WeasyPrint PDF. Sizes are in the
``viewBox``: the page's CSS lets them shrink to a 360 px screen.

Privacy: a hidden ``Count`` (1 to 4) is drawn as a hatched mark of one fixed
size and labelled "<5" / "fewer than 5", never with its number; the colour
scale of the heat map is set by the counts that are shown.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from babel import dates, numbers
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from markupsafe import Markup, escape

from mixer.formatting import format_number
from mixer.insights.figures import (
    SMALL,
    Count,
    EventFigures,
    Funnel,
    SiloMap,
    TopicGap,
    fewer,
)

FONT = 12  # user units; 1 unit is 1 px at the natural size
CHAR = 0.6  # a character's width in font sizes (a safe over-estimate)
WIDTH = 360  # the natural width of the bar pictures
INK = "#1f2d2a"  # text on light colours (14:1 on white)
MUTED = "#4d5b57"  # secondary text (6.9:1 on white)
PAPER = "#ffffff"
TRACK = "#e7ecea"
BAR = "#1d6f5f"  # the site's green
OFFER = "#d97706"  # seek vs offer: green and amber, told apart by the legend too
HATCH_BG = "#e7ecea"  # "fewer than 5": a pale hatched mark, the same whatever n
HATCH_LINE = "#a9b7b2"
# The heat map's steps, palest first: step 0 is no meeting at all.
STEPS = ("#f4f7f6", "#d5ebe5", "#a3d3c7", "#62ae9c", "#1d6f5f", "#0d3d34")
SHORT_HIDDEN = "<5"
HEAT_CELL = 36
HEAT_LABEL_CHARS = 14


def _hex_rgb(colour: str) -> tuple[float, float, float]:
    """(r, g, b) in 0..1 of "#rrggbb"."""
    value = colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def luminance(colour: str) -> float:
    """WCAG relative luminance of "#rrggbb"."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _hex_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours (1..21)."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@functools.cache
def text_on(fill: str) -> str:
    """The text colour (ink or white) that reads best on ``fill``."""
    return INK if contrast(INK, fill) >= contrast(PAPER, fill) else PAPER


def truncate(text: str, chars: int) -> str:
    """``text`` cut to ``chars`` characters with an ellipsis when longer."""
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def short(count: Count | int) -> str:
    """A compact label for a small space: "<5", "842", "1.2k", "35k"."""
    if isinstance(count, Count):
        if count.hidden:
            return SHORT_HIDDEN
        count = count.n
    if count < 1000:
        return str(count)  # compact marks in a picture: digits, read left to right
    if count < 10_000:
        return f"{count / 1000:.1f}k"
    return f"{round(count / 1000)}k"


def _month(month: str, skeleton: str) -> str:
    """ "2026-03" in the language in force, as a CLDR skeleton says."""
    year, number = month.split("-")
    day = date(int(year), int(number), 1)
    return dates.format_skeleton(skeleton, day, locale=_language())


def _language() -> str:
    """The language in force ("en" outside a request)."""
    locale = get_locale()
    return locale.language if locale is not None else "en"


def month_label(month: str, with_year: bool = False) -> str:
    """ "Mar" (or "Mar 2026") for "2026-03" (German "März", Arabic "مارس")."""
    return _month(month, "yMMM" if with_year else "MMM")


def month_name(month: str) -> str:
    """ "March 2026" for "2026-03"."""
    return _month(month, "yMMMM")


def _num(x: float) -> str:
    """A coordinate, short."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = FONT,
    fill: str = INK,
    anchor: str = "start",
    cls: str = "",
    extra: str = "",
) -> str:
    """One ``<text>``, escaped."""
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{size}" fill="{fill}"'
        f' text-anchor="{anchor}"{klass}{extra}>{escape(str(text))}</text>'
    )


def _rect(
    x: float,
    y: float,
    w: float,
    h: float,
    fill: str,
    cls: str,
    title: str | None = None,
    rx: float = 0,
) -> str:
    """One ``<rect>``, with a ``<title>`` tooltip when given."""
    corner = f' rx="{_num(rx)}"' if rx else ""
    head = (
        f'<rect class="{cls}" x="{_num(x)}" y="{_num(y)}" width="{_num(max(w, 0))}"'
        f' height="{_num(h)}" fill="{fill}"{corner}'
    )
    if title is None:
        return head + "/>"
    return f"{head}><title>{escape(title)}</title></rect>"


def _hatch(chart_id: str) -> str:
    """The ``<pattern>`` that marks counts of fewer than 5."""
    return (
        f'<defs><pattern id="{chart_id}-hatch" patternUnits="userSpaceOnUse"'
        f' width="6" height="6" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{HATCH_BG}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{HATCH_LINE}"'
        f' stroke-width="3"/></pattern></defs>'
    )


def _svg(
    chart_id: str, width: float, height: float, title: str, desc: str, body: str
) -> Markup:
    """Wrap ``body`` in the named, described ``<svg role="img">``."""
    return Markup(  # noqa: S704  (every text in it went through escape())
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}"'
        f' role="img" aria-labelledby="{chart_id}-title {chart_id}-desc"'
        f' viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}"'
        f' height="{_num(height)}" font-family="system-ui, sans-serif">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
        f"{body}</svg>"
    )


def _bar(
    chart_id: str,
    x: float,
    y: float,
    span: float,
    top: int,
    count: Count | int,
    h: float,
    fill: str,
    cls: str,
    title: str,
) -> str:
    """A horizontal bar for ``count`` out of ``top`` over ``span`` units; a hidden
    count is a hatched bar the length of 5, the same for 1 to 4."""
    if isinstance(count, Count) and count.hidden:
        width = max(span * SMALL / top, 4) if top else 4
        return _rect(x, y, width, h, f"url(#{chart_id}-hatch)", f"{cls} hidden", title)
    n = count.n if isinstance(count, Count) else count
    return _rect(x, y, span * n / top if top else 0, h, fill, cls, title)


def _top(counts: Sequence[Count | int]) -> int:
    """The longest bar: the largest count shown (at least 5, so that a hidden
    count's mark never fills the picture)."""
    shown = [c.n if isinstance(c, Count) else c for c in counts]
    return max([SMALL, *shown])


# ---------------------------------------------------------------------------
# The funnel


def funnel_chart(funnel: Funnel, chart_id: str = "funnel-chart") -> Markup:
    """Registered → … → active at 90 days: one labelled horizontal bar a stage."""
    row, bar_h, pad = 34, 14, 4
    stages = funnel.stages
    top = _top([s.count for s in stages])
    parts = [_hatch(chart_id)]
    for i, stage in enumerate(stages):
        y = pad + i * row
        parts.append(
            f'<g class="funnel-stage" data-stage="{escape(stage.key)}">'
            + _text(0, y + FONT, stage.label, cls="label")
            + _text(WIDTH, y + FONT, str(stage.count), anchor="end", cls="value")
            + _rect(0, y + 17, WIDTH, bar_h, TRACK, "track", rx=2)
            + _bar(
                chart_id,
                0,
                y + 17,
                WIDTH,
                top,
                stage.count,
                bar_h,
                BAR,
                "bar",
                f"{stage.label}: {stage.count}",
            )
            + "</g>"
        )
    desc = "; ".join(f"{s.label}: {s.count}" for s in stages) or _("No data")
    height = pad * 2 + max(len(stages), 1) * row
    return _svg(
        chart_id,
        WIDTH,
        height,
        _("The funnel, from registration to pairs still meeting"),
        desc + ".",
        "".join(parts),
    )


# ---------------------------------------------------------------------------
# Trends by month (small multiples)


@dataclass(frozen=True)
class Series:
    """One line of a trend: a label and a value a month (None: nothing to show)."""

    key: str
    label: str
    values: Sequence[Count | int | float | None]
    top: float | None = None  # the scale's top (a rating's 5); else the largest


def _value_text(value: Count | int | float | None) -> str:
    """A month's value as its tooltip says it."""
    if value is None:
        return _("no data")
    if isinstance(value, Count):
        return str(value)
    if isinstance(value, float):
        return format_number(round(value, 1))
    return format_number(value)


def _height_of(value: Count | int | float | None) -> float | None:
    """The number a column stands for; a hidden count stands as 5 (hatched)."""
    if value is None:
        return None
    if isinstance(value, Count):
        return SMALL if value.hidden else value.n
    return value


def trend_chart(
    months: Sequence[str],
    series: Sequence[Series],
    chart_id: str,
    title: str,
) -> Markup:
    """One small bar chart a series, the months along a shared axis."""
    label_h, panel_h, gap = 18, 44, 10
    axis_h = 24
    n = max(len(months), 1)
    step = WIDTH / n
    col = max(step * 0.7, 1)
    every = math.ceil(n / 12)  # at most twelve month labels
    parts = [_hatch(chart_id)]
    y = 0.0
    for s in series:
        heights = [_height_of(v) for v in s.values]
        top = s.top or max([h for h in heights if h is not None] + [SMALL])
        group = [
            f'<g class="trend-series" data-series="{escape(s.key)}">',
            _text(0, y + FONT, s.label, cls="label"),
        ]
        if months:  # the latest month's value, read at a glance
            group.append(
                _text(
                    WIDTH,
                    y + FONT,
                    f"{month_label(months[-1], True)}: {_value_text(s.values[-1])}",
                    anchor="end",
                    fill=MUTED,
                    size=11,
                    cls="latest",
                )
            )
        base = y + label_h + panel_h
        group.append(
            f'<line x1="0" y1="{_num(base)}" x2="{WIDTH}" y2="{_num(base)}"'
            f' stroke="{HATCH_LINE}" stroke-width="1"/>'
        )
        for i, (month, value, h) in enumerate(
            zip(months, s.values, heights, strict=True)
        ):
            if h is None:
                continue
            x = i * step + (step - col) / 2
            bar_h = panel_h * h / top if top else 0
            hidden = isinstance(value, Count) and value.hidden
            group.append(
                _rect(
                    x,
                    base - bar_h,
                    col,
                    bar_h,
                    f"url(#{chart_id}-hatch)" if hidden else BAR,
                    "col hidden" if hidden else "col",
                    f"{month_name(month)}: {_value_text(value)}",
                )
            )
        group.append("</g>")
        parts.extend(group)
        y = base + gap
    for i, month in enumerate(months):
        x = i * step + step / 2
        if i % every == 0:
            parts.append(
                _text(
                    x,
                    y + 6,
                    month_label(month),
                    size=10,
                    fill=MUTED,
                    anchor="middle",
                    cls="month",
                )
            )
        if i == 0 or month.endswith("-01"):  # the year under its first month
            parts.append(
                _text(
                    x,
                    y + 18,
                    month[:4],
                    size=10,
                    fill=MUTED,
                    anchor="middle",
                    cls="year",
                )
            )
    height = y + axis_h
    labels = "; ".join(str(s.label) for s in series)
    if months:
        desc = _(
            "By month, %(first)s to %(last)s: %(series)s.",
            first=month_label(months[0], True),
            last=month_label(months[-1], True),
            series=labels,
        )
    else:
        desc = _("By month, no months: %(series)s.", series=labels)
    return _svg(chart_id, WIDTH, height, title, desc, "".join(parts))


# ---------------------------------------------------------------------------
# The silo map (a heat map)


def heat_step(count: Count, top: int) -> int:
    """The colour step (0..5) of a shown count, ``top`` being the largest.

    Shown counts start at ``SMALL`` (1 to 4 are hatched), so the steps share
    out ``SMALL`` … ``top`` rather than 1 … ``top``.
    """
    if count.n == 0 or top < SMALL:
        return 0
    last, base = len(STEPS) - 1, SMALL - 1
    return max(1, min(last, math.ceil(last * (count.n - base) / (top - base))))


def step_ranges(top: int) -> list[tuple[int, int]]:
    """The counts each colour step 1..5 stands for, from the largest count."""
    out, low, last, base = [], SMALL, len(STEPS) - 1, SMALL - 1
    for step in range(1, last + 1):
        high = base + math.floor((top - base) * step / last) if top >= SMALL else 0
        if high >= low:
            out.append((low, high))
            low = high + 1
        else:
            out.append((0, 0))  # no count falls in this step
    return out


def heat_map(silos: SiloMap, chart_id: str = "silo-map") -> Markup:
    """Department × department: meetings as colour steps with the count in each
    cell; fewer than 5 hatched and labelled "<5"."""
    names = [str(name) for name in silos.departments]  # "No department" is lazy
    n = len(names)
    cell, font = HEAT_CELL, 11
    left = HEAT_LABEL_CHARS * font * CHAR + 8
    head = HEAT_LABEL_CHARS * font * CHAR * 0.72 + 10  # names at 45°
    right = head  # the last column's name leans out to the right
    shown = [c.n for row in silos.cells for c in row if not c.hidden]
    top = max(shown, default=0)
    parts = [_hatch(chart_id)]
    for j, name in enumerate(names):
        x = left + j * cell + cell / 2
        parts.append(
            f'<text class="col-label" x="{_num(x)}" y="{_num(head - 4)}"'
            f' font-size="{font}" fill="{INK}"'
            f' transform="rotate(-45 {_num(x)} {_num(head - 4)})">'
            f"{escape(truncate(name, HEAT_LABEL_CHARS))}"
            f"<title>{escape(name)}</title></text>"
        )
    # Each cell's tooltip says its count in words: translated once per distinct
    # count (a 21 × 21 map has 441 cells and far fewer counts), not per cell.
    hidden_title = _("%(pair)s: fewer than %(num)d meetings", pair="\x00", num=SMALL)
    titles: dict[int, str] = {}
    words = get_translations()  # asked once, not per cell
    within = _("Within %(department)s", department="\x00")
    for i, (name, row) in enumerate(zip(names, silos.cells, strict=True)):
        y = head + i * cell
        parts.append(
            f'<text class="row-label" x="{_num(left - 6)}" y="{_num(y + cell / 2 + 4)}"'
            f' font-size="{font}" fill="{INK}" text-anchor="end">'
            f"{escape(truncate(name, HEAT_LABEL_CHARS))}"
            f"<title>{escape(name)}</title></text>"
        )
        for j, count in enumerate(row):
            x = left + j * cell
            pair = f"{name} × {names[j]}" if i != j else within.replace("\x00", name)
            if count.hidden:
                fill, ink, step = f"url(#{chart_id}-hatch)", INK, "hidden"
                title = hidden_title
            else:
                k = heat_step(count, top)
                fill, ink, step = STEPS[k], text_on(STEPS[k]), str(k)
                title = titles.get(count.n) or titles.setdefault(
                    count.n,
                    words.ngettext(
                        "%(pair)s: %(num)d meeting",
                        "%(pair)s: %(num)d meetings",
                        count.n,
                    )
                    % {"pair": "\x00", "num": count.n},
                )
            parts.append(
                f'<g class="cell" data-row="{i}" data-col="{j}" data-step="{step}">'
                f"<title>{escape(title.replace(chr(0), pair))}</title>"
                + _rect(x + 1, y + 1, cell - 2, cell - 2, fill, "cell-fill")
                + _text(
                    x + cell / 2,
                    y + cell / 2 + 4,
                    short(count),
                    size=font,
                    fill=ink,
                    anchor="middle",
                )
                + "</g>"
            )
    # The key: what each colour stands for, under the matrix.
    width = max(left + n * cell + right, WIDTH)
    y = head + n * cell + 14
    key_items = [(STEPS[0], "0")]
    for k, (low, high) in enumerate(step_ranges(top), start=1):
        if high:
            key_items.append(
                (
                    STEPS[k],
                    format_number(low)
                    if low == high
                    else f"{format_number(low)}–{format_number(high)}",
                )
            )
    key_items.append((f"url(#{chart_id}-hatch)", fewer()))
    x = 0.0
    for fill, label in key_items:
        item = 14 + 4 + len(label) * font * CHAR + 12
        if x + item > width and x > 0:
            x, y = 0.0, y + 20
        parts.append(
            '<g class="key">'
            + _rect(x, y, 14, 14, fill, "key-swatch")
            + _text(x + 18, y + 11, label, size=font, fill=MUTED)
            + "</g>"
        )
        x += item
    height = y + 20
    words = {
        "departments": format_number(n),
        "total": str(silos.total),
        "across": str(silos.across),
    }
    if silos.across_share is None:
        desc = _(
            "Meetings between people of %(departments)s departments, %(total)s in "
            "all, %(across)s across departments.",
            **words,
        )
    else:
        desc = _(
            "Meetings between people of %(departments)s departments, %(total)s in "
            "all, %(across)s across departments (%(share)s).",
            share=numbers.format_percent(silos.across_share, locale=_language()),
            **words,
        )
    desc += " " + _(
        "Darker is more; hatched is fewer than %(num)d. The table below has every "
        "count.",
        num=SMALL,
    )
    return _svg(
        chart_id,
        width,
        height,
        _("Who met whom: meetings by department"),
        desc,
        "".join(parts),
    )


# ---------------------------------------------------------------------------
# Topics: seek vs offer


def topic_chart(gaps: Sequence[TopicGap], chart_id: str, title: str) -> Markup:
    """For each topic, a bar of people who seek it over a bar of those who offer."""
    row, bar_h = 44, 9
    top = _top([c for g in gaps for c in (g.seekers, g.offerers)])
    parts = [_hatch(chart_id)]
    seek_word, offer_word = _("seek"), _("offer")
    offer_x = 16 + len(seek_word) * 11 * CHAR + 12
    # The key first, so it is read before the bars.
    parts.append(
        '<g class="key">'
        + _rect(0, 2, 12, 12, BAR, "key-swatch")
        + _text(16, 12, seek_word, size=11, fill=MUTED)
        + _rect(offer_x, 2, 12, 12, OFFER, "key-swatch")
        + _text(offer_x + 16, 12, offer_word, size=11, fill=MUTED)
        + "</g>"
    )
    value_w = len(fewer()) * 11 * CHAR + 6  # room for "fewer than 5" after a bar
    span = WIDTH - value_w
    for i, gap in enumerate(gaps):
        y = 22 + i * row
        group = [
            f'<g class="topic" data-topic="{escape(gap.topic)}">',
            _text(0, y + FONT, truncate(gap.topic, 50), cls="label"),
        ]
        for k, (what, word, count, fill) in enumerate(
            (
                ("seek", seek_word, gap.seekers, BAR),
                ("offer", offer_word, gap.offerers, OFFER),
            )
        ):
            by = y + 16 + k * (bar_h + 2)
            end = _bar(
                chart_id,
                0,
                by,
                span,
                top,
                count,
                bar_h,
                fill,
                f"bar bar-{what}",
                f"{gap.topic}: {count} {word}",
            )
            group.append(end)
            bar_end = (
                max(span * SMALL / top, 4)
                if count.hidden
                else span * count.n / top
                if top
                else 0
            )
            group.append(
                _text(
                    bar_end + 4,
                    by + bar_h - 1,
                    str(count),
                    size=10,
                    fill=MUTED,
                    cls=f"value value-{what}",
                )
            )
        group.append("</g>")
        parts.extend(group)
    height = 22 + max(len(gaps), 1) * row
    desc = "; ".join(
        _(
            "%(topic)s: %(seekers)s seek, %(offerers)s offer",
            topic=g.topic,
            seekers=str(g.seekers),
            offerers=str(g.offerers),
        )
        for g in gaps
    ) or _("No topics")
    return _svg(chart_id, WIDTH, height, title, desc + ".", "".join(parts))


# ---------------------------------------------------------------------------
# The dashboard's two trends

FUNNEL_TREND = ("registered", "checked_in", "chose", "paired")


def funnel_trend(funnel: Funnel, chart_id: str = "funnel-trend") -> Markup:
    """Registered, checked in, chose someone and paired, by month of event start."""
    labels = {s.key: str(s.label) for s in funnel.stages}
    months = [m.month for m in funnel.months]
    series = [
        Series(key, labels.get(key, key), [m.counts.get(key) for m in funnel.months])
        for key in FUNNEL_TREND
    ]
    return trend_chart(months, series, chart_id, _("The funnel by month"))


def events_trend(events: EventFigures, chart_id: str = "events-trend") -> Markup:
    """Events held, people registered and checked in, and the rating, by month."""
    months = [m.month for m in events.months]
    series = [
        Series("held", _("Events held"), [m.held for m in events.months]),
        Series("registered", _("Registered"), [m.registered for m in events.months]),
        Series("attended", _("Checked in"), [m.attended for m in events.months]),
        Series(
            "rating", _("Average rating (of 5)"), [m.rating for m in events.months], 5
        ),
    ]
    return trend_chart(months, series, chart_id, _("Events by month"))
