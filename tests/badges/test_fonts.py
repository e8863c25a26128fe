"""Typography helpers: visual length, name sizes, writing direction."""

from __future__ import annotations

import unicodedata

from mixer.badges.fonts import (
    NAME_SIZES,
    SMALLEST_NAME_SIZE,
    name_font_size,
    text_direction,
    visual_length,
)


def test_visual_length_counts_wide_characters_nearly_double():
    assert visual_length("Ana") == 3
    assert visual_length("山田") == 3.6
    # A decomposed é is two code points but one letter wide.
    assert visual_length(unicodedata.normalize("NFD", "José")) == 4


def test_name_size_shrinks_as_names_grow():
    sizes = [name_font_size("x" * n) for n in range(1, 200)]
    assert sizes == sorted(sizes, reverse=True)
    assert name_font_size("Ana") == NAME_SIZES[0][1]
    assert 10 <= name_font_size("A" * 60) <= 14
    assert name_font_size("A" * 300) == SMALLEST_NAME_SIZE
    # Sixteen ideographs are as wide as about 29 Latin letters.
    assert name_font_size("山" * 16) == name_font_size("a" * 29)


def test_direction_follows_the_first_strong_character():
    assert text_direction("محمد عبد الله") == "rtl"
    assert text_direction("שרה לוי") == "rtl"
    assert text_direction("1984 محمد") == "rtl"
    assert text_direction("Zoë Ångström") == "ltr"
    assert text_direction("Ana محمد") == "ltr"
    assert text_direction("1984") == "ltr"
