"""Every e-mail says, in both parts, why the person got it (RFC 8058 or not)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

MAIL = Path(__file__).resolve().parents[2] / "templates" / "mail"
PARTIALS = {"_footer.txt", "event_details.txt"}  # included by the messages


@pytest.mark.parametrize(
    "name", sorted(p.name for p in MAIL.glob("*.txt") if p.name not in PARTIALS)
)
def test_the_plain_text_part_says_why_it_came(name):
    text = (MAIL / name).read_text(encoding="utf-8")
    assert re.search(r"You get th|reason or ", text), name
    # The HTML part's layout has a reason by default; messages refine it.
    html = (MAIL / name).with_suffix(".html").read_text(encoding="utf-8")
    assert '{% extends "mail/_layout.html" %}' in html, name
