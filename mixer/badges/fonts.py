"""Typography for badges: the font stack, name sizes and writing direction.

Badges rely on fonts installed with the system (Debian ``fonts-noto-core``,
``fonts-noto-cjk`` and ``fonts-dejavu-core``, which ``make test`` and ``make run``
install). WeasyPrint finds them through fontconfig and falls back along the stack,
glyph by glyph, so a name mixing scripts still gets real glyphs.
"""

from __future__ import annotations

import unicodedata

FONT_STACK = (
    '"Noto Sans", "Noto Sans Arabic", "Noto Naskh Arabic", "Noto Sans Hebrew", '
    '"Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK KR", "DejaVu Sans", '
    "sans-serif"
)

# Point sizes for the name on a 3.5 × 2.5 in badge, by visual length (see
# visual_length): short names fill a line at 28 pt; long ones shrink so that they
# wrap onto two or three lines of the name box instead of overflowing it.
NAME_SIZES: tuple[tuple[float, float], ...] = (
    (12, 28),
    (16, 24),
    (20, 20),
    (30, 17),
    (44, 14),
    (64, 12),
    (100, 10),
)
SMALLEST_NAME_SIZE = 8.5


def visual_length(text: str) -> float:
    """How many Latin letters ``text`` is about as wide as.

    CJK ideographs and other wide characters take about one em, nearly twice a
    Latin letter; combining marks take no room of their own.
    """
    length = 0.0
    for char in text:
        if unicodedata.combining(char):
            continue
        length += 1.8 if unicodedata.east_asian_width(char) in ("W", "F") else 1.0
    return length


def name_font_size(name: str) -> float:
    """The name's size in points on a sheet badge, chosen from its visual length."""
    length = visual_length(name.strip())
    for limit, size in NAME_SIZES:
        if length <= limit:
            return size
    return SMALLEST_NAME_SIZE


def text_direction(text: str) -> str:
    """``"rtl"`` or ``"ltr"`` from the first strong character, as ``dir="auto"`` does.

    WeasyPrint does not resolve ``dir="auto"`` itself, so the template states the
    direction this finds.
    """
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"
