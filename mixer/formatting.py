"""Formatting shared by pages, e-mails and PDFs: local times and Markdown."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup


def localtime(
    value: datetime | None, tz: str | None = None, fmt: str = "%a %d %b %Y, %H:%M"
) -> str:
    """Format an aware datetime in ``tz`` (an IANA name), defaulting to UTC."""
    if value is None:
        return ""
    zone = ZoneInfo(tz) if tz else ZoneInfo("UTC")
    local = value.astimezone(zone)
    return f"{local.strftime(fmt)} {local.tzname()}"


def render_markdown(text: str | None, breaks: bool = False) -> Markup:
    """Markdown to sanitized HTML (no scripts, no inline handlers, safe links).

    With ``breaks`` a line typed on its own stays on its own (``<br>``), for
    text people write line by line (a workshop's exercises)."""
    options = {"linkify": False, "breaks": breaks}
    html = MarkdownIt("commonmark", options).enable("table").render(text or "")
    return Markup(nh3.clean(html, link_rel="noopener noreferrer nofollow"))  # noqa: S704
