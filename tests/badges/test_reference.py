"""Badges look as they did before the speed work: rendered pages against references.

The PNGs in ``tests/badges/reference/`` were rendered by main's engine before issue
15 changed it (see ``tests/badges/reference.py``); here today's engine renders the
same sheets, in one process and split across processes, and every page must match:

* everything but the QR codes within a small tolerance, pixel by pixel
  (anti-aliasing may move a grey level here and there; a moved line of text does
  not pass);
* every QR code where it was and as large (its corners, as zxing-cpp finds them
  at 100 dpi, within 1.5 pixels, 0.4 mm), reading the same URL, and every module
  as ``qrcode`` draws it, sampled at 300 dpi. The codes were vector paths and are
  now images (see ``mixer/badges/qr.py``), so their edges are anti-aliased a
  little differently; a different module, or a code moved or resized, fails.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from mixer.badges import qr, render
from tests.badges.pdfcheck import decode_pages
from tests.badges.reference import (
    DPI,
    SHEETS,
    reference_badges,
    reference_path,
)

# Rendered pages compared: the SQLite pass only.
pytestmark = pytest.mark.once

MAX_CHANGED_SHARE = 0.001  # of a page's pixels may differ by more than LEVELS
LEVELS = 48  # of 255, in any channel
MAX_MEAN = 0.3  # mean absolute difference, levels per channel
MAX_CORNER_SHIFT = 1.5  # pixels at DPI, for each corner of each QR code
QR_MARGIN = 3  # pixels around a QR symbol left out of the pixel comparison
MODULE_DPI = 300


def difference(
    reference: Image.Image, image: Image.Image, mask: np.ndarray | None = None
) -> tuple[float, float]:
    """(share of pixels differing by more than LEVELS, mean difference in levels),
    over the pixels where ``mask`` is true (all when None)."""
    assert reference.size == image.size
    a = np.asarray(reference.convert("RGB"), dtype=np.int16)
    b = np.asarray(image.convert("RGB"), dtype=np.int16)
    diff = np.abs(a - b)
    if mask is None:
        mask = np.ones(diff.shape[:2], dtype=bool)
    return float((diff.max(axis=2)[mask] > LEVELS).mean()), float(diff[mask].mean())


def qr_corners(image: Image.Image) -> dict[str, np.ndarray]:
    """Each QR code zxing-cpp reads: its URL and its four corners (x, y) in pixels,
    top left, top right, bottom right, bottom left."""
    found = {}
    for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        p = result.position
        points = (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
        found[result.text] = np.array([[c.x, c.y] for c in points], dtype=float)
    return found


def wrong_modules(image: Image.Image, url: str, corners: np.ndarray) -> int:
    """How many modules of the code at ``corners`` differ from ``url``'s code as
    ``qrcode`` draws it (each sampled at its centre)."""
    expected = np.array(qr.make_code(url).modules, dtype=bool)
    n = len(expected)
    top_left, top_right, bottom_right, bottom_left = corners
    u = (np.arange(n) + 0.5) / n
    across, down = np.meshgrid(u, u)
    points = (
        top_left * ((1 - across) * (1 - down))[..., None]
        + top_right * (across * (1 - down))[..., None]
        + bottom_left * ((1 - across) * down)[..., None]
        + bottom_right * (across * down)[..., None]
    )
    grey = np.asarray(image.convert("L"))
    xs, ys = np.round(points[..., 0]).astype(int), np.round(points[..., 1]).astype(int)
    return int(((grey[ys, xs] < 128) != expected).sum())


def page_problems(reference: Image.Image, page: pdfium.PdfPage) -> list[str]:
    """What differs between a reference page and a page rendered now."""
    image = page.render(scale=DPI / 72).to_pil().convert("RGB")
    problems = []
    before, now = qr_corners(reference), qr_corners(image)
    if set(before) != set(now):
        problems.append(f"QR codes read {sorted(now)}, were {sorted(before)}")
    mask = np.ones((image.height, image.width), dtype=bool)
    for url, corners in before.items():
        if url in now and np.abs(now[url] - corners).max() > MAX_CORNER_SHIFT:
            problems.append(f"QR code of {url} moved: {now[url]} against {corners}")
        (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
        mask[
            max(0, int(y0) - QR_MARGIN) : int(y1) + QR_MARGIN + 1,
            max(0, int(x0) - QR_MARGIN) : int(x1) + QR_MARGIN + 1,
        ] = False
    changed, mean = difference(reference, image, mask)
    if changed > MAX_CHANGED_SHARE or mean > MAX_MEAN:
        problems.append(f"{changed:.4%} of pixels changed, mean {mean:.3f}")
    fine = page.render(scale=MODULE_DPI / 72, grayscale=True).to_pil()
    for url, corners in qr_corners(fine).items():
        if wrong := wrong_modules(fine, url, corners):
            problems.append(f"QR code of {url}: {wrong} modules differ")
    return problems


def assert_like_reference(layout: str, pdf: bytes) -> int:
    """Every page of ``pdf`` like the reference of ``layout``; the page count."""
    document = pdfium.PdfDocument(pdf)
    try:
        for number, page in enumerate(document):
            path = reference_path(layout, number)
            assert path.is_file(), f"missing reference page {path.name}"
            problems = page_problems(Image.open(path).convert("RGB"), page)
            assert not problems, f"{path.name}: {problems}"
        return len(document)
    finally:
        document.close()


@pytest.mark.parametrize("layout", list(SHEETS))
def test_reference_sheets_look_as_before_in_one_process(layout):
    pdf = render.render_badges_pdf(reference_badges(SHEETS[layout]), layout)
    expected = -(-SHEETS[layout] // render.LAYOUTS[layout].per_page)
    assert assert_like_reference(layout, pdf) == expected


@pytest.mark.parametrize("layout", list(SHEETS))
def test_reference_sheets_look_as_before_when_split_across_processes(
    layout, monkeypatch
):
    """Chunks of one page, rendered by two processes and joined with pypdf."""
    monkeypatch.setattr(render, "CHUNK_BADGES", 1)
    badges = reference_badges(SHEETS[layout])
    pdf = render.render_badges_pdf(badges, layout, processes=2)
    expected = -(-len(badges) // render.LAYOUTS[layout].per_page)
    assert assert_like_reference(layout, pdf) == expected
    urls = [code.text for page in decode_pages(pdf) for code in page]
    assert sorted(urls) == sorted(b.qr_url for b in badges)


def test_the_comparison_notices_a_changed_badge():
    """One renamed badge, the QR code of another URL, or a QR code drawn a module
    off, fails the comparison."""
    badges = reference_badges(8)
    renamed = list(badges)
    renamed[4] = dataclasses.replace(badges[4], name="Sara Levi")
    other_qr = list(badges)
    other_qr[0] = dataclasses.replace(
        badges[0], qr_url="https://mixer.example.org/c/another-badge-entirely"
    )
    reference = Image.open(reference_path("a4-8", 0)).convert("RGB")
    for changed_badges, expected in (
        (renamed, "pixels changed"),
        (other_qr, "QR codes read"),
    ):
        document = pdfium.PdfDocument(render.render_badges_pdf(changed_badges))
        try:
            problems = page_problems(reference, document[0])
        finally:
            document.close()
        assert any(expected in problem for problem in problems), problems
    # Module by module: the code read at each place is checked against what
    # qrcode draws for its URL, and another URL's modules are far off.
    url = badges[2].qr_url
    document = pdfium.PdfDocument(render.render_badges_pdf(badges))
    try:
        fine = document[0].render(scale=MODULE_DPI / 72, grayscale=True).to_pil()
    finally:
        document.close()
    found = qr_corners(fine)
    assert wrong_modules(fine, url, found[url]) == 0
    other = badges[3].qr_url  # same version, other modules
    assert wrong_modules(fine, other, found[url]) > 20
