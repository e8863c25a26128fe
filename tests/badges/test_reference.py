"""Badges look as they did before the speed work: rendered pages against references.

The PNGs in ``tests/badges/reference/`` were rendered by main's engine before issue
15 changed it (see ``tests/badges/reference.py``); here today's engine renders the
same sheets, in one process and split across processes, and every page must match
within a small tolerance (anti-aliasing may move a grey level here and there; a
moved line of text or a different QR module does not pass).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from mixer.badges import render
from tests.badges.pdfcheck import decode_pages
from tests.badges.reference import (
    DPI,
    SHEETS,
    reference_badges,
    reference_path,
    render_pages,
)

MAX_CHANGED_SHARE = 0.001  # of a page's pixels may differ by more than LEVELS
LEVELS = 48  # of 255, in any channel
MAX_MEAN = 0.3  # mean absolute difference, levels per channel


def difference(reference: Image.Image, image: Image.Image) -> tuple[float, float]:
    """(share of pixels differing by more than LEVELS, mean difference in levels)."""
    assert reference.size == image.size
    a = np.asarray(reference.convert("RGB"), dtype=np.int16)
    b = np.asarray(image.convert("RGB"), dtype=np.int16)
    diff = np.abs(a - b)
    return float((diff.max(axis=2) > LEVELS).mean()), float(diff.mean())


def assert_like_reference(layout: str, pages: list[Image.Image]) -> None:
    for number, image in enumerate(pages):
        path = reference_path(layout, number)
        assert path.is_file(), f"missing reference page {path.name}"
        changed, mean = difference(Image.open(path), image)
        assert changed <= MAX_CHANGED_SHARE and mean <= MAX_MEAN, (
            f"{path.name}: {changed:.4%} of pixels changed, mean {mean:.3f}"
        )


@pytest.mark.parametrize("layout", list(SHEETS))
def test_reference_sheets_look_as_before_in_one_process(layout):
    pages = render_pages(layout)
    expected = -(-SHEETS[layout] // render.LAYOUTS[layout].per_page)
    assert len(pages) == expected
    assert_like_reference(layout, pages)


@pytest.mark.parametrize("layout", list(SHEETS))
def test_reference_sheets_look_as_before_when_split_across_processes(
    layout, monkeypatch
):
    """Chunks of one page, rendered by two processes and joined with pypdf."""
    monkeypatch.setattr(render, "CHUNK_BADGES", 1)
    badges = reference_badges(SHEETS[layout])
    pdf = render.render_badges_pdf(badges, layout, processes=2)
    document = pdfium.PdfDocument(pdf)
    try:
        pages = [p.render(scale=DPI / 72).to_pil().convert("RGB") for p in document]
    finally:
        document.close()
    assert len(pages) == -(-len(badges) // render.LAYOUTS[layout].per_page)
    assert_like_reference(layout, pages)
    urls = [code.text for page in decode_pages(pdf) for code in page]
    assert sorted(urls) == sorted(b.qr_url for b in badges)


def test_the_comparison_notices_a_changed_badge():
    """One renamed badge, or the QR code of another URL, fails the comparison."""
    badges = reference_badges(8)
    renamed = list(badges)
    renamed[4] = dataclasses.replace(badges[4], name="Sara Levi")
    other_qr = list(badges)
    other_qr[0] = dataclasses.replace(
        badges[0], qr_url="https://mixer.example.org/c/another-badge-entirely"
    )
    reference = Image.open(reference_path("a4-8", 0))
    for changed_badges in (renamed, other_qr):
        pdf = render.render_badges_pdf(changed_badges, "a4-8")
        document = pdfium.PdfDocument(pdf)
        try:
            image = document[0].render(scale=DPI / 72).to_pil().convert("RGB")
        finally:
            document.close()
        changed, mean = difference(reference, image)
        assert changed > MAX_CHANGED_SHARE or mean > MAX_MEAN, (changed, mean)
