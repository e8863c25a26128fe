"""Formatting shared by pages, e-mails, PDFs and exports: local times, Markdown and
spreadsheet-safe CSV cells."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import nh3
from babel import Locale, dates, numbers
from flask_babel import get_locale
from markdown_it import MarkdownIt
from markupsafe import Markup

# The strftime patterns of our pages and e-mails, and how other languages say the
# same: a CLDR skeleton for the date (each language orders, spells and punctuates
# it its own way: "So., 6. Dez. 2026") and a CLDR time length. English keeps the
# strftime text ("Sun 06 Dec 2026, 18:05"), the house style pages and tests know.
# A pattern not listed (``%z`` in the scan page's data attributes) is machine
# text and stays strftime in every language.
LOCAL_PATTERNS: dict[str, tuple[str | None, str | None]] = {
    "%a %d %b %Y, %H:%M": ("yMMMEd", "short"),
    "%a %-d %b %Y": ("yMMMEd", None),
    "%-d %b %Y": ("yMMMd", None),
    "%-d %B %Y": ("yMMMMd", None),
    "%-d %b": ("MMMd", None),
    "%d %b, %H:%M": ("MMMd", "short"),
    "%d %b %Y %H:%M": ("yMMMd", "short"),
    "%d %b, %H:%M:%S": ("MMMd", "medium"),
    "%H:%M": (None, "short"),
}
DEFAULT_FORMAT = "%a %d %b %Y, %H:%M"


def _language(locale: str | None) -> str:
    """``locale``, else the language in force (a request's or ``force_locale``'s)."""
    if locale:
        return locale
    current = get_locale()
    return current.language if current is not None else "en"


def local_text(local: datetime, fmt: str, locale: str | None = None) -> str:
    """``local`` (already in its zone) as ``fmt`` says it, in ``locale`` (default:
    the language in force); no zone name."""
    language = _language(locale)
    pattern = LOCAL_PATTERNS.get(fmt)
    if language == "en" or pattern is None:
        return local.strftime(fmt)
    skeleton, length = pattern
    day = dates.format_skeleton(skeleton, local, locale=language) if skeleton else ""
    hour = dates.format_time(local, length, locale=language) if length else ""
    if day and hour:
        joined = Locale.parse(language).datetime_formats["medium"]
        return str(joined).replace("{1}", day).replace("{0}", hour)
    return day or hour


def localtime(
    value: datetime | None,
    tz: str | None = None,
    fmt: str = DEFAULT_FORMAT,
    locale: str | None = None,
) -> str:
    """Format an aware datetime in ``tz`` (an IANA name), defaulting to UTC, in
    the language in force (``LOCAL_PATTERNS``), followed by the zone's name."""
    if value is None:
        return ""
    zone = ZoneInfo(tz) if tz else ZoneInfo("UTC")
    local = value.astimezone(zone)
    return f"{local_text(local, fmt, locale)} {local.tzname()}"


def time_span(
    start: datetime, end: datetime, tz: str, locale: str | None = None
) -> str:
    """ "Thu 05 Mar 2026, 12:00–13:00 CET" (one day) or two full times, in
    ``tz`` and the language in force."""
    zone = ZoneInfo(tz)
    start, end = start.astimezone(zone), end.astimezone(zone)
    first = local_text(start, DEFAULT_FORMAT, locale)
    if start.date() == end.date():
        return f"{first}–{local_text(end, '%H:%M', locale)} {end.tzname()}"
    last = local_text(end, DEFAULT_FORMAT, locale)
    return f"{first} {start.tzname()} – {last} {end.tzname()}"


def format_number(value: int | float, locale: str | None = None) -> str:
    """A number with the language's digit grouping ("1,234"; German "1.234")."""
    return numbers.format_decimal(value, locale=_language(locale))


def render_markdown(text: str | None, breaks: bool = False) -> Markup:
    """Markdown to sanitized HTML (no scripts, no inline handlers, safe links).

    With ``breaks`` a line typed on its own stays on its own (``<br>``), for
    text people write line by line (a workshop's exercises)."""
    options = {"linkify": False, "breaks": breaks}
    html = MarkdownIt("commonmark", options).enable("table").render(text or "")
    return Markup(nh3.clean(html, link_rel="noopener noreferrer nofollow"))  # noqa: S704


def markdown_to_text(text: str | None) -> str:
    """Markdown as plain text, for places that show no HTML (calendar invites).

    Emphasis and code marks go, links become "words (address)", list items keep
    "- " or "1. ", blocks are separated by a blank line; raw HTML tags are dropped.
    """
    tokens = MarkdownIt("commonmark").parse(text or "")
    out: list[str] = []
    lists: list[list[int]] = []  # per open list: [next number] (0: a bullet list)
    prefix, separator = "", "\n\n"
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            start = int(token.attrGet("start") or 1)
            lists.append([start if token.type == "ordered_list_open" else 0])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open":
            number = lists[-1]
            indent = "   " * (len(lists) - 1)
            prefix = f"{indent}{number[0]}. " if number[0] else f"{indent}- "
            if number[0]:
                number[0] += 1
        elif token.type == "list_item_close":
            separator = "\n"  # the next item follows on the next line
        elif token.type in ("inline", "fence", "code_block"):
            if token.type == "inline":
                words = _inline_text(token.children or [])
            else:
                words = token.content.rstrip("\n")
            out.append((separator if out else "") + prefix + words)
            prefix, separator = "", "\n\n"
        if token.type in ("bullet_list_close", "ordered_list_close"):
            separator = "\n\n"
    return "".join(out).strip()


def _inline_text(children: list[Any]) -> str:
    """The words of an inline token: marks dropped, links spelled out."""
    out: list[str] = []
    href = None
    link_start = 0
    for child in children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.type == "image":
            out.append(child.content)
        elif child.type == "link_open":
            href, link_start = str(child.attrGet("href") or ""), len(out)
        elif child.type == "link_close" and href is not None:
            words = "".join(out[link_start:])
            if href and href != words and f"mailto:{words}" != href:
                out.append(f" ({href})")
            href = None
    return "".join(out)


# A spreadsheet runs a cell that begins with one of these as a formula (tab and CR
# too: some spreadsheets drop them and read what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Plainly a number ("-3", "+1.5e3") or a phone number ("+44 20 7946 0958",
# "+1 (555) 0100"): digits, spaces and . ( ) - only, nothing a formula could call or
# refer to, so they stay as written.
_PLAIN_NUMBER = re.compile(
    r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
    r"|\+?[ (]*\d[\d .()-]*",
    re.ASCII,
)


def spreadsheet_text(value: Any) -> str:
    """``value`` as CSV cell text a spreadsheet shows and never runs: a value
    beginning with = + - @ tab or CR gets a leading ``'``, unless it is plainly a
    number or a phone number."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text
