"""QR codes: as a PNG for badge PDFs, as compact vector SVG for pages.

A badge QR code is printed about 26 mm wide and read by phone cameras at a door,
so it uses error correction M (15 % of the code may be smudged or folded) and the
standard quiet zone of four modules, which lives inside the image (or the SVG's
view box): whatever surrounds it can never eat into it.

Badge PDFs show the code as a black and white PNG (``qr_png``), laid out with
``image-rendering: pixelated`` (the PDF says ``/Interpolate false``): WeasyPrint
spends its time on an SVG path in Python (about 7 ms a badge, a third of a badge's
cost), and an image costs about one. Pages (the door's link, a rotation's "my
table") keep the vector SVG.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

import numpy as np
import qrcode
from PIL import Image
from qrcode.compat.etree import ET  # type: ignore[import-not-found]  # no stub
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathImage

QUIET_ZONE = 4  # modules; ISO/IEC 18004 asks for at least four
ERROR_CORRECTION = ERROR_CORRECT_M
# Pixels a module in the badge PDF's QR image: a viewer that smooths images (pdfium,
# so Chrome's viewer and print) blurs an eighth of a module at each edge.
PNG_SCALE = 8
PATH_STYLE = {"fill": "none", "stroke": "#000", "stroke-width": "1"}


class CompactSvgPathImage(SvgPathImage):
    """One ``<path>`` stroking each row's runs of dark modules, in module units.

    ``SvgPathImage`` writes one square per dark module with decimal millimetre
    arithmetic; drawing runs gives a path several times shorter, built and parsed
    several times faster, which matters for a 1,000-badge batch.
    """

    needs_drawrect = False  # process() reads the whole matrix at once
    _img: Any  # the SVG root element, made by qrcode (not in its type stubs)

    def _svg(self, viewBox=None, **kwargs):
        size = self.width + 2 * self.border
        return super()._svg(viewBox=f"0 0 {size} {size}", **kwargs)

    def process(self) -> None:
        self.path = ET.Element(
            ET.QName("path"),
            d=_runs_path(self.modules, self.border),
            **PATH_STYLE,
        )
        self._img.append(self.path)


def _runs_path(modules: list[list[bool | None]], offset: int) -> str:
    """Path data for a stroke one module wide along each row's runs of dark modules.

    A run is "move to its start, draw a horizontal line its length"; stroked at
    width 1 with butt caps, it covers exactly the run's modules. That is two path
    commands per run instead of five for a filled rectangle, and WeasyPrint's SVG
    parser spends its time per command.
    """
    parts = []
    for y, row in enumerate(modules, start=offset):
        pen = None  # where the previous run on this row ended
        x, width = 0, len(row)
        while x < width:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < width and row[x]:
                x += 1
            if pen is None:
                parts.append(f"M{start + offset} {y}.5h{x - start}")
            else:
                parts.append(f"m{start - pen} 0h{x - start}")
            pen = x
    return "".join(parts)


@lru_cache(maxsize=4096)
def qr_path(url: str) -> tuple[int, str]:
    """The QR code of ``url`` as (side in modules, quiet zone included; path data).

    Cached, so regenerating a batch for the same registrations skips even the
    (numpy) mask search.
    """
    code = make_code(url)
    return code.modules_count + 2 * QUIET_ZONE, _runs_path(code.modules, QUIET_ZONE)


@lru_cache(maxsize=4096)
def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a black and white PNG, ``PNG_SCALE`` pixels a
    module, quiet zone included: what a badge PDF shows (as an image: WeasyPrint
    parses an SVG path in Python, about 7 ms a badge; an image costs about 1)."""
    code = make_code(url)
    side = code.modules_count + 2 * QUIET_ZONE
    light = np.ones((side, side), dtype=bool)
    light[QUIET_ZONE:-QUIET_ZONE, QUIET_ZONE:-QUIET_ZONE] = ~np.array(
        code.modules, dtype=bool
    )
    light = light.repeat(PNG_SCALE, axis=0).repeat(PNG_SCALE, axis=1)
    out = io.BytesIO()
    # Eight-bit grey, as WeasyPrint embeds it: a one-bit image would be converted
    # to RGB and encoded twice more for every badge.
    Image.fromarray(light.astype(np.uint8) * 255, mode="L").save(out, format="PNG")
    return out.getvalue()


def make_code(url: str) -> qrcode.QRCode:
    """``url`` encoded exactly as ``qrcode`` encodes it, with a faster mask search.

    ``QRCode.make()`` lays the data out eight times (once per mask pattern) and
    scores each in pure Python: about 4 ms a badge, a fifth of a badge's cost. Here
    the data bits are placed once with numpy and the eight masked variants are
    scored at once, by ``qrcode``'s own penalty rules (``qrcode.util.lost_point``),
    so the chosen mask, and every module, is the one ``qrcode`` would choose
    (``tests/badges/test_qr.py`` compares them).
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    code.add_data(url)
    code.best_fit(start=code.version)
    code.data_cache = qrcode.util.create_data(
        code.version, code.error_correction, code.data_list
    )
    blank, rows, cols, masks = _template(code.version)
    bits = np.unpackbits(np.frombuffer(bytes(code.data_cache), dtype=np.uint8))
    data = np.zeros(blank.shape, dtype=bool)
    placed = min(len(bits), len(rows))
    data[rows[:placed], cols[:placed]] = bits[:placed]  # cells past the data: light
    in_data = np.zeros(blank.shape, dtype=bool)
    in_data[rows, cols] = True
    variants = np.where(in_data, data ^ masks, blank)  # (8, size, size)
    best = int(np.argmin(_lost_points(variants)))
    # What makeImpl(False, best) draws: the chosen variant with real format info.
    code.modules_count = blank.shape[0]
    code.modules = variants[best].tolist()
    code.setup_type_info(False, best)
    if code.version >= 7:
        code.setup_type_number(False)
    return code


@lru_cache(maxsize=40)
def _template(
    version: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A version's blank symbol as ``makeImpl(test=True)`` leaves it before the data
    (function patterns, format and version areas light), the data cells in the
    order ``QRCode.map_data`` fills them (rows, columns), and the eight masks."""
    code = qrcode.QRCode(version=version, error_correction=ERROR_CORRECTION)
    code.makeImpl(True, 0)  # builds qrcode's cached blank for this version
    code.modules = qrcode.main.copy_2d_array(qrcode.main.precomputed_qr_blanks[version])
    code.setup_type_info(True, 0)
    if version >= 7:
        code.setup_type_number(True)
    size = code.modules_count
    rows, cols = [], []
    # The zigzag of map_data: column pairs from the right, up then down.
    row, step = size - 1, -1
    for col in range(size - 1, 0, -2):
        if col <= 6:
            col -= 1
        while True:
            for c in (col, col - 1):
                if code.modules[row][c] is None:
                    rows.append(row)
                    cols.append(c)
            row += step
            if row < 0 or row >= size:
                row -= step
                step = -step
                break
    blank = np.array([[bool(m) for m in line] for line in code.modules])
    i, j = np.indices((size, size))
    return blank, np.array(rows), np.array(cols), _mask_patterns(i, j)


def _mask_patterns(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The eight mask patterns of ISO/IEC 18004 (as ``qrcode.util.mask_func``)."""
    return np.stack(
        [
            (i + j) % 2 == 0,
            i % 2 == 0,
            j % 3 == 0,
            (i + j) % 3 == 0,
            (i // 2 + j // 3) % 2 == 0,
            (i * j) % 2 + (i * j) % 3 == 0,
            ((i * j) % 2 + (i * j) % 3) % 2 == 0,
            ((i * j) % 3 + (i + j) % 2) % 2 == 0,
        ]
    )


_FINDER_LIKE = (0b10111010000, 0b00001011101)  # dark 1, light 0, left to right


def _lost_points(variants: np.ndarray) -> list[int]:
    """``qrcode.util.lost_point`` of each (size × size) matrix in ``variants``."""
    count, size, _ = variants.shape
    # Rows of every variant, then its columns: lines[k] belongs to variant k // (2n).
    lines = np.concatenate([variants, variants.transpose(0, 2, 1)], axis=1)
    lines = lines.reshape(count * 2 * size, size)
    # Rule 1: each run of five or more same-coloured modules costs (length - 2).
    starts = np.ones(lines.shape, dtype=bool)
    starts[:, 1:] = lines[:, 1:] != lines[:, :-1]
    flat = starts.ravel()
    lengths = np.diff(np.append(np.flatnonzero(flat), flat.size))
    owner = np.flatnonzero(flat) // size // (2 * size)
    long = lengths >= 5
    rule1 = np.bincount(owner[long], weights=lengths[long] - 2, minlength=count)
    # Rule 2: each 2 × 2 block of one colour costs 3 (blocks may overlap).
    top, bottom = variants[:, :-1, :], variants[:, 1:, :]
    block = (
        (top[:, :, :-1] == top[:, :, 1:])
        & (top[:, :, :-1] == bottom[:, :, :-1])
        & (top[:, :, :-1] == bottom[:, :, 1:])
    )
    rule2 = 3 * block.sum(axis=(1, 2))
    # Rule 3: each 1:1:3:1:1 finder-like pattern with four light modules beside it.
    # Each window of 11 modules as an 11-bit number, compared with the patterns'.
    window = np.zeros((lines.shape[0], size - 10), dtype=np.int32)
    for k in range(11):
        window = (window << 1) | lines[:, k : k + size - 10]
    found = (window == _FINDER_LIKE[0]) | (window == _FINDER_LIKE[1])
    rule3 = 40 * found.reshape(count, -1).sum(axis=1)
    # Rule 4: 10 for every 5 % the dark share strays from 50 %.
    dark = variants.sum(axis=(1, 2))
    rule4 = [int(abs(float(d) / size**2 * 100 - 50) / 5) * 10 for d in dark]
    return [
        int(a) + int(b) + int(c) + d
        for a, b, c, d in zip(rule1, rule2, rule3, rule4, strict=True)
    ]


def qr_svg(url: str) -> str:
    """A standalone SVG document (a single vector path) encoding ``url``."""
    image = qrcode.make(
        url,
        image_factory=CompactSvgPathImage,
        error_correction=ERROR_CORRECTION,
        border=QUIET_ZONE,
    )
    return image.to_string(encoding="unicode")
