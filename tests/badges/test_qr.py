"""QR codes: vector paths that encode the URL exactly, with a four-module quiet zone."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import numpy as np
import qrcode
import qrcode.util
from weasyprint import HTML

from mixer.badges.fetcher import StaticOnlyFetcher
from mixer.badges.qr import QUIET_ZONE, _lost_points, make_code, qr_path, qr_svg
from tests.badges.pdfcheck import decode_pages

URL = "https://mixer.example.org/c/Qm9hcmRpbmcgcGFzcyAx"


def modules_from_path(d: str, side: int) -> list[list[bool]]:
    """Paint a one-module-wide stroke path back onto a grid."""
    grid = [[False] * side for _ in range(side)]
    x = y = 0.0
    for command, args in re.findall(r"([Mmh])([^Mmh]*)", d):
        numbers = [float(n) for n in args.split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            for column in range(int(x), int(x + numbers[0])):
                grid[int(y)][column] = True
            x += numbers[0]
    return grid


def test_path_draws_exactly_the_qr_matrix_with_a_quiet_zone():
    side, d = qr_path(URL)
    code = qrcode.QRCode(border=QUIET_ZONE, error_correction=qrcode.ERROR_CORRECT_M)
    code.add_data(URL)
    code.make(fit=True)
    expected = [[bool(m) for m in row] for row in code.get_matrix()]
    assert side == len(expected) == code.modules_count + 2 * QUIET_ZONE
    drawn = modules_from_path(d, side)
    assert drawn == expected
    # The quiet zone: nothing drawn in the outer four rows and columns.
    for i in range(side):
        for j in range(side):
            if min(i, j) < QUIET_ZONE or max(i, j) >= side - QUIET_ZONE:
                assert not drawn[i][j]


def test_qr_svg_is_a_single_vector_path_that_decodes():
    svg = qr_svg(URL)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    side, d = qr_path(URL)
    assert root.get("viewBox") == f"0 0 {side} {side}"
    (path,) = root.iter(f"{ns}path")
    assert path.get("d") == d
    assert not list(root.iter(f"{ns}rect")) and not list(root.iter(f"{ns}image"))

    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    html = f'<img src="{uri}" style="width: 30mm; height: 30mm">'
    pdf = HTML(string=html, url_fetcher=StaticOnlyFetcher()).write_pdf()
    ((decoded,),) = decode_pages(pdf)
    assert decoded.text == URL
    assert decoded.ec_level == "M"


def test_qr_path_is_cached_per_url():
    qr_path.cache_clear()
    qr_path(URL)
    qr_path(URL)
    info = qr_path.cache_info()
    assert (info.hits, info.misses) == (1, 1)


def _qrcode_reference(data: str) -> qrcode.QRCode:
    code = qrcode.QRCode(border=QUIET_ZONE, error_correction=qrcode.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    return code


URLS = [
    URL,
    *(
        f"https://mixer.example.org/c/{'AbCdEfGhIjKlMnOpQrStUv'[: n % 22]}{n}"
        for n in range(40)
    ),
    *("https://mixer.example.org/c/" + "x" * n for n in range(30, 380, 23)),  # v4–v15
    "https://mixer.example.org/c/" + "é漢" * 20,  # bytes beyond ASCII
    "HTTPS://MIXER.EXAMPLE.ORG/C/12345",  # alphanumeric segments
]


def test_make_code_draws_exactly_what_qrcode_draws():
    """Same version, same mask, same modules as qrcode's own (slower) search."""
    versions = set()
    for data in URLS:
        fast, slow = make_code(data), _qrcode_reference(data)
        assert (fast.version, fast.modules_count) == (slow.version, slow.modules_count)
        assert fast.modules == slow.modules, data
        versions.add(slow.version)
    assert min(versions) <= 3 and max(versions) >= 10  # version information too


def test_the_penalty_of_every_mask_is_qrcodes():
    for data in URLS[::5]:
        code = qrcode.QRCode(error_correction=qrcode.ERROR_CORRECT_M)
        code.add_data(data)
        code.best_fit()
        variants, expected = [], []
        for mask in range(8):
            code.makeImpl(True, mask)
            expected.append(qrcode.util.lost_point(code.modules))
            variants.append(np.array(code.modules, dtype=bool))
        assert _lost_points(np.stack(variants)) == expected, data


def test_the_badge_png_reads_back_module_for_module():
    """What badge PDFs show: the same modules, PNG_SCALE pixels each, quiet zone
    included, black on white."""
    import io

    import numpy as np
    import zxingcpp
    from PIL import Image

    from mixer.badges.qr import PNG_SCALE, qr_png

    image = Image.open(io.BytesIO(qr_png(URL)))
    code = make_code(URL)
    side = (code.modules_count + 2 * QUIET_ZONE) * PNG_SCALE
    assert image.size == (side, side) and image.mode == "L"
    pixels = np.asarray(image)
    assert set(np.unique(pixels)) == {0, 255}
    centres = pixels[
        QUIET_ZONE * PNG_SCALE + PNG_SCALE // 2 :: PNG_SCALE,
        QUIET_ZONE * PNG_SCALE + PNG_SCALE // 2 :: PNG_SCALE,
    ][: code.modules_count, : code.modules_count]
    assert ((centres == 0) == np.array(code.modules)).all()
    assert (pixels[: QUIET_ZONE * PNG_SCALE] == 255).all()  # a white quiet zone
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [URL]


def test_the_fetcher_answers_qr_urls_and_still_refuses_files():
    from urllib.parse import quote

    import pytest

    from mixer.badges.fetcher import QR_SCHEME, FetchRefused, StaticOnlyFetcher
    from mixer.badges.qr import qr_png

    fetcher = StaticOnlyFetcher()
    answer = fetcher.fetch(QR_SCHEME + quote(URL, safe=""))
    assert answer.content_type == "image/png" and answer.read() == qr_png(URL)
    with pytest.raises(FetchRefused):
        fetcher.fetch("file:///etc/passwd")
