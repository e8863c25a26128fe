"""Badge PDFs: every QR code decodes to its badge's URL; names fit and use real glyphs.

PDFs are rasterized with pypdfium2 and read with zxing-cpp; glyphs are looked up in
the fonts embedded in the PDF (see ``tests/badges/pdfcheck.py``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops

from mixer import ROOT
from mixer.badges import render
from mixer.badges.fonts import name_font_size
from mixer.badges.render import (
    LAYOUTS,
    MAX_TAGS,
    RIBBON_TEXT,
    ROLES,
    BadgeData,
    BadgeError,
    batch_fingerprint,
    render_badges_html,
    render_badges_pdf,
)
from tests.badges.pdfcheck import (
    decode_pages,
    embedded_fonts,
    missing_glyphs,
    page_image,
    shown_glyphs,
    text_chars,
)

ROLE_KEYS = list(ROLES)
LONG_NAME = "Maximiliana Wolfeschlegelsteinhausen-Bergerdorff Núñez Ortiz"
ARABIC_NAME = "محمد عبد الله الفارسي"
CJK_NAME = "山田 太郎"
HEBREW_NAME = "שרה לוי"
ACCENTED_NAME = "Zoë Ångström-Łukasiewicz"


def url(i: int) -> str:
    """A badge URL with a 128-bit token, as the badge service makes them."""
    digest = hashlib.sha256(f"badge-{i}".encode()).digest()[:16]
    token = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return f"https://mixer.example.org/c/{token}"


def badge(i: int, **kw) -> BadgeData:
    kw.setdefault("name", f"Person Number {i}")
    kw.setdefault("qr_url", url(i))
    kw.setdefault("role", ROLE_KEYS[i % len(ROLE_KEYS)])
    kw.setdefault("pronouns", "she/her" if i % 2 else "they/them")
    kw.setdefault("department", "Platform Engineering")
    kw.setdefault("tags", ["Python", "Career growth", "Public speaking"][: i % 4])
    kw.setdefault("event_title", "Mentor Mixer: spring edition")
    kw.setdefault("event_date", "Thu 12 Mar 2026, 17:30")
    kw.setdefault("organization", "Acme Corporation")
    return BadgeData(**kw)


def assert_qr_codes_match(pdf: bytes, badges: list[BadgeData], layout: str) -> None:
    """Every badge's QR code decodes, on its own badge, to its own URL."""
    page = LAYOUTS[layout]
    pages = decode_pages(pdf)
    assert len(pages) == -(-len(badges) // page.per_page)
    for number, decoded in enumerate(pages):
        on_page = badges[number * page.per_page : (number + 1) * page.per_page]
        assert len(decoded) == len(on_page), f"page {number + 1}"
        for code in decoded:
            slot = next(
                s
                for s in range(len(on_page))
                if _inside(code.x, code.y, page.badge_box(s))
            )
            assert code.text == on_page[slot].qr_url
            assert code.ec_level == "M"
    urls = [code.text for decoded in pages for code in decoded]
    assert len(set(urls)) == len(badges)


def _inside(x: float, y: float, box, tolerance: float = 0.0) -> bool:
    left, top, width, height = box
    return (
        left - tolerance <= x <= left + width + tolerance
        and top - tolerance <= y <= top + height + tolerance
    )


def name_chars(pdf: bytes, b: BadgeData, layout: str, slot: int, page: int = 0):
    """The characters of ``b``'s name: on its badge, at the name's font size."""
    lay = LAYOUTS[layout]
    size = name_font_size(b.name) * lay.scale
    return [
        c
        for c in text_chars(pdf, page)
        if abs(c.size_pt - size) < 0.05
        and _inside((c.left + c.right) / 2, (c.top + c.bottom) / 2, lay.badge_box(slot))
    ]


@pytest.fixture(scope="module")
def batch_200():
    badges = [badge(i) for i in range(200)]
    return badges, render_badges_pdf(badges, "a4-8")


def test_a4_batch_of_200_decodes_to_200_distinct_correct_urls(batch_200):
    badges, pdf = batch_200
    assert_qr_codes_match(pdf, badges, "a4-8")
    width, height = pdfium.PdfDocument(pdf)[0].get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)


def test_letter_sheets_decode():
    badges = [badge(i) for i in range(12)]
    pdf = render_badges_pdf(badges, "letter-8")
    assert_qr_codes_match(pdf, badges, "letter-8")
    width, height = pdfium.PdfDocument(pdf)[0].get_size()
    assert (round(width), round(height)) == (612, 792)


def test_badge_printer_pages_are_4_by_3_inches_and_decode():
    badges = [badge(i) for i in range(5)]
    pdf = render_badges_pdf(badges, "badge-4x3")
    assert_qr_codes_match(pdf, badges, "badge-4x3")
    document = pdfium.PdfDocument(pdf)
    assert [tuple(round(v) for v in p.get_size()) for p in document] == [(288, 216)] * 5


HARD_NAMES = [LONG_NAME, ARABIC_NAME, CJK_NAME, HEBREW_NAME, ACCENTED_NAME, "Ana"]


@pytest.mark.parametrize("layout", ["a4-8", "badge-4x3"])
def test_hard_names_decode_use_real_glyphs_and_stay_in_their_box(layout):
    assert len(LONG_NAME) == 60
    badges = [badge(i, name=name) for i, name in enumerate(HARD_NAMES)]
    pdf = render_badges_pdf(badges, layout)
    assert_qr_codes_match(pdf, badges, layout)

    glyphs = shown_glyphs(pdf)
    assert [g for g in glyphs if g.missing] == []
    fonts = {g.font for g in glyphs}
    assert any("Arabic" in f for f in fonts), fonts
    assert any("CJK" in f for f in fonts), fonts
    assert any("Hebrew" in f for f in fonts), fonts

    lay = LAYOUTS[layout]
    for i, b in enumerate(badges):
        slot, page = i % lay.per_page, i // lay.per_page
        chars = name_chars(pdf, b, layout, slot, page)
        # Every letter of the name is there (in any order: right-to-left names
        # come out of the PDF in visual order) ...
        assert Counter(c.char for c in chars if not c.char.isspace()) == Counter(
            b.name.replace(" ", "")
        ), b.name
        # ... and inside the name's box, not clipped or overflowing.
        for c in chars:
            assert _inside(c.left, c.top, lay.name_box(slot), 0.2), (b.name, c)
            assert _inside(c.right, c.bottom, lay.name_box(slot), 0.2), (b.name, c)
    # The 60-character name shrank, but stays readable.
    assert name_font_size(LONG_NAME) >= 10


def test_right_to_left_names_are_right_aligned():
    badges = [badge(0, name=ARABIC_NAME), badge(1, name="Ana")]
    pdf = render_badges_pdf(badges, "a4-8")
    lay = LAYOUTS["a4-8"]
    arabic = name_chars(pdf, badges[0], "a4-8", 0)
    latin = name_chars(pdf, badges[1], "a4-8", 1)
    left0, _, width0, _ = lay.name_box(0)
    left1, _, _, _ = lay.name_box(1)
    assert abs(max(c.right for c in arabic) - (left0 + width0)) < 1.5
    assert abs(min(c.left for c in latin) - left1) < 1.5


def test_an_absurdly_long_name_changes_nothing_outside_its_area():
    """Only the name and details area differs from a badge with a short name."""
    huge = "Wolfeschlegelsteinhausenbergerdorff " * 8 + "X" * 80
    short = [badge(i) for i in range(8)]
    long = list(short)
    long[3] = badge(3, name=huge)
    dpi = 100
    before = page_image(render_badges_pdf(short, "a4-8"), dpi=dpi)
    pdf = render_badges_pdf(long, "a4-8")
    after = page_image(pdf, dpi=dpi)
    changed = ImageChops.difference(before, after).getbbox()
    assert changed is not None
    lay = LAYOUTS["a4-8"]
    left, top, width, height = lay.badge_box(3)
    area = (  # .main: below the header, above the QR code's bottom, inside padding
        left + lay.padding,
        top + lay.name_top,
        left + width - lay.padding,
        top + height - lay.qr_bottom,
    )
    px = dpi / 25.4
    assert changed[0] >= area[0] * px - 1 and changed[1] >= area[1] * px - 1
    assert changed[2] <= area[2] * px + 1 and changed[3] <= area[3] * px + 1
    assert_qr_codes_match(pdf, long, "a4-8")
    # The name stops at the last whole line the box holds, with an ellipsis.
    assert "…" in "".join(c.char for c in text_chars(pdf))


def test_missing_glyph_check_flags_a_character_no_font_has():
    """The check above can fail: U+E000 (private use) is in no installed font."""
    pdf = render_badges_pdf([badge(0, name="Ana \ue000 Silva")], "a4-8")
    missing = missing_glyphs(pdf)
    assert [g.text for g in missing] == ["\ue000"]


def test_missing_glyph_check_flags_cjk_when_only_dejavu_is_installed(tmp_path):
    """Without the Noto CJK fonts (fontconfig sees only DejaVu) ideographs are tofu."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        "<dir>/usr/share/fonts/truetype/dejavu</dir>"
        f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    script = (
        "import sys\n"
        "from mixer.badges.render import BadgeData, render_badges_pdf\n"
        f"b = BadgeData(name={CJK_NAME + ' ' + ARABIC_NAME!r}, qr_url={url(0)!r})\n"
        "sys.stdout.buffer.write(render_badges_pdf([b], 'badge-4x3'))\n"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    pdf = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    assert embedded_fonts(pdf) <= {"DejaVu-Sans", "DejaVu-Sans-Bold"}
    # DejaVu Sans has Arabic, so only the four ideographs are missing.
    assert sorted(g.text for g in missing_glyphs(pdf)) == sorted("山田太郎")


def _relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_ribbons_are_coloured_by_role_with_accessible_contrast():
    text = _relative_luminance(RIBBON_TEXT)
    for role in ROLES.values():
        background = _relative_luminance(role.colour)
        ratio = (max(text, background) + 0.05) / (min(text, background) + 0.05)
        assert ratio >= 4.5, (role.label, ratio)

    badges = [badge(i, role=key) for i, key in enumerate(ROLE_KEYS)]
    pdf = render_badges_pdf(badges, "a4-8")
    image = page_image(pdf, dpi=100, grayscale=False)
    lay = LAYOUTS["a4-8"]
    px = 100 / 25.4
    # Letter-spaced labels come out of pdfium with spaces between the letters.
    words = "".join(c.char for c in text_chars(pdf) if not c.char.isspace())
    for slot, key in enumerate(ROLE_KEYS):
        left, top, width, height = lay.badge_box(slot)
        # Just inside the ribbon's left end, clear of its centred label.
        sample = image.getpixel((int((left + 2) * px), int((top + height - 2) * px)))
        expected = tuple(int(ROLES[key].colour[i : i + 2], 16) for i in (1, 3, 5))
        assert max(abs(a - b) for a, b in zip(sample, expected, strict=True)) <= 3
        assert ROLES[key].label.upper().replace(" ", "") in words


def test_only_the_first_tags_are_printed_and_long_ones_shortened():
    tags = ["Python", "Negotiation", "Career growth", "Kubernetes", "Public speaking"]
    tags[1] = "Negotiating salaries and promotions in large companies"
    pdf = render_badges_pdf([badge(0, tags=tags)], "a4-8")
    words = "".join(c.char for c in text_chars(pdf))
    assert "Python" in words and "Career growth" in words
    assert "Negotiating salaries and pr…" in words
    assert MAX_TAGS == 3 and "Kubernetes" not in words


def test_text_is_escaped_not_interpreted():
    b = badge(0, name="<b>Bobby</b> & Co", department='<img src="file:///etc/passwd">')
    html = render_badges_html([b], "a4-8")
    assert "&lt;b&gt;Bobby&lt;/b&gt; &amp; Co" in html
    assert "&lt;img src=" in html
    # The one image is the badge's own QR code, from the renderer's fetcher.
    assert html.count("<img") == 1 and '<img class="qr" src="mixer-qr:' in html
    words = "".join(c.char for c in text_chars(render_badges_pdf([b], "a4-8")))
    assert "<b>Bobby</b> & Co" in words
    assert '<img src="file:///etc/passwd">' in words


def _png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 30), colour).save(out, "PNG")
    return out.getvalue()


def test_logo_is_embedded_once_per_batch_and_drawn():
    logo = _png("#ff00ff")
    badges = [badge(i, logo=logo) for i in range(3)]
    html = render_badges_html(badges, "a4-8")
    assert html.count(base64.b64encode(logo).decode()) == 1
    pdf = render_badges_pdf(badges, "a4-8")
    image = page_image(pdf, dpi=100, grayscale=False)
    lay = LAYOUTS["a4-8"]
    left, top, _, _ = lay.badge_box(2)
    px = 100 / 25.4
    x, y = (left + lay.padding + 3) * px, (top + lay.header_top + 2) * px
    assert image.getpixel((int(x), int(y))) == (255, 0, 255)
    # With a logo, the organization's name is its accessible label, not printed.
    assert "Acme" not in "".join(c.char for c in text_chars(pdf))


def test_logo_data_uris_are_re_encoded_and_cannot_reach_out(caplog):
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="10">'
        '<image href="file:///etc/passwd" width="40" height="10"/>'
        '<rect width="40" height="10" fill="#0a0"/></svg>'
    )
    b = badge(0, logo="data:image/svg+xml," + svg.replace("#", "%23"))
    html = render_badges_html([b], "a4-8")
    assert "file:///etc/passwd" not in html
    assert "data:image/svg+xml;base64," in html
    render_badges_pdf([b], "a4-8")
    assert "badges may not load 'file:///etc/passwd'" in caplog.text


@pytest.mark.parametrize(
    "logo",
    ["http://example.org/logo.png", "file:///etc/passwd", b"%PDF-1.7 not an image"],
)
def test_logo_must_be_an_image(logo):
    with pytest.raises(BadgeError, match="logo"):
        render_badges_html([badge(0, logo=logo)], "a4-8")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"name": "   "}, "needs a name"),
        ({"role": "wizard"}, "Unknown badge role"),
        ({"qr_url": "javascript:alert(1)"}, "http"),
    ],
)
def test_bad_badge_data_is_refused(kw, message):
    with pytest.raises(BadgeError, match=message):
        badge(0, **kw)


def test_bad_layout_or_empty_batch_is_refused():
    with pytest.raises(BadgeError, match="Unknown badge layout"):
        render_badges_pdf([badge(0)], "a3-16")
    with pytest.raises(BadgeError, match="no badges"):
        render_badges_pdf([], "a4-8")


def test_fingerprint_changes_with_anything_printed():
    badges = [badge(i, logo=_png("#123456")) for i in range(3)]
    key = batch_fingerprint(badges, "a4-8")
    assert key == batch_fingerprint(
        [badge(i, logo=_png("#123456")) for i in range(3)], "a4-8"
    )
    assert key != batch_fingerprint(badges, "letter-8")
    assert key != batch_fingerprint(badges[::-1], "a4-8")
    assert key != batch_fingerprint(badges[:2], "a4-8")
    for change in (
        {"name": "Someone Else"},
        {"role": "attendee"},
        {"tags": ["Go"]},
        {"event_date": "Fri 13 Mar 2026, 17:30"},
        {"qr_url": url(99)},
        {"logo": _png("#654321")},
        {"logo": None},
    ):
        changed = [*badges[:2], badge(2, **{"logo": _png("#123456"), **change})]
        assert batch_fingerprint(changed, "a4-8") != key, change


def test_progress_rises_to_one_and_chunks_join_into_one_pdf(monkeypatch):
    monkeypatch.setattr(render, "CHUNK_BADGES", 4)
    seen: list[float] = []
    badges = [badge(i) for i in range(10)]
    pdf = render_badges_pdf(badges, "badge-4x3", progress=seen.append, processes=1)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert len(seen) == 3 + 10  # three chunks laid out, then ten pages painted
    assert_qr_codes_match(pdf, badges, "badge-4x3")
    assert missing_glyphs(pdf) == []


def test_chunks_rendered_by_two_processes_join_into_one_pdf(monkeypatch):
    """Progress rises chunk by chunk; the pages keep their order and fonts."""
    monkeypatch.setattr(render, "CHUNK_BADGES", 8)
    seen: list[float] = []
    names = [*HARD_NAMES, *(f"Person Number {i}" for i in range(20))]
    badges = [badge(i, name=name) for i, name in enumerate(names)]  # 4 sheets
    pdf = render_badges_pdf(badges, "a4-8", progress=seen.append, processes=2)
    assert seen == sorted(seen) and seen[-1] == 1.0
    # At least once per chunk (more as pages are painted), then after the join.
    assert len(seen) >= 4 + 1 and len(set(seen)) == len(seen)
    assert seen[-2] == pytest.approx(1 - render.MERGE_SHARE)
    assert_qr_codes_match(pdf, badges, "a4-8")
    assert missing_glyphs(pdf) == []
    fonts = embedded_fonts(pdf)
    assert any("Arabic" in f for f in fonts) and any("CJK" in f for f in fonts)
    # The same document in one process: the same text on every page, in order.
    single = render_badges_pdf(badges, "a4-8", processes=1)
    for number in range(4):
        assert [c.char for c in text_chars(pdf, number)] == [
            c.char for c in text_chars(single, number)
        ]


def test_a_bad_logo_in_a_parallel_batch_is_refused_with_its_message(monkeypatch):
    monkeypatch.setattr(render, "CHUNK_BADGES", 8)
    badges = [badge(i) for i in range(12)]
    badges[10] = badge(10, logo=b"%PDF-1.7 not an image")
    with pytest.raises(BadgeError, match="logo"):
        render_badges_pdf(badges, "a4-8", processes=2)


def test_default_processes_is_one_per_cpu_up_to_two():
    assert 1 <= render.default_processes() <= render.MAX_PROCESSES == 2
    assert render.default_processes() <= len(os.sched_getaffinity(0))


def test_threads_render_side_by_side():
    """Each thread keeps its own font configuration; results stay independent."""
    batches = [[badge(i), badge(i + 10, name=CJK_NAME)] for i in range(3)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        pdfs = list(pool.map(lambda b: render_badges_pdf(b, "badge-4x3"), batches))
    for batch, pdf in zip(batches, pdfs, strict=True):
        assert_qr_codes_match(pdf, batch, "badge-4x3")
        assert missing_glyphs(pdf) == []
