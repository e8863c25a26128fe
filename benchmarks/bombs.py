"""What refusing a decompression-bomb photo and a zip bomb costs.

    .venv/bin/python benchmarks/bombs.py

Builds a 30,000 × 30,000 1-bit PNG and a PPTX-shaped zip of 200,000 entries (as
tests/speakers/test_bombs.py does), then times, median of 5 runs: Pillow opening
the PNG (where the refusal happens), Mixer's sniff of the zip (the refusal from
the end record), and ``zipfile`` listing the zip's directory (what sniffing did
before the entry cap). Then PDFs: a real 2,000-page PDF (accepted), and 50 MB
of PDF objects that start and end like a PDF but whose cross-reference offset
is wrong, so pypdf scans the whole file to rebuild it before refusing (the worst
case found).
"""

from __future__ import annotations

import io
import statistics
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402
from pypdf import PdfWriter  # noqa: E402

from mixer.speakers import sniff  # noqa: E402
from tests.speakers.test_bombs import office_zip, png_bomb  # noqa: E402


def _median(run, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _open_png(data: bytes) -> None:
    try:
        Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        return
    raise AssertionError("Pillow opened the bomb")


def _sniff(data: bytes) -> None:
    try:
        sniff.sniff(io.BytesIO(data))
    except sniff.ArchiveTooLarge:
        return
    raise AssertionError("the zip was not refused")


def main() -> None:
    png, archive = png_bomb(), office_zip(200_000)
    print(
        f"PNG 30000x30000: {len(png):,} bytes; refused in "
        f"{_median(lambda: _open_png(png)) * 1000:.2f} ms"
    )
    print(
        f"zip of 200,000 entries: {len(archive):,} bytes; refused in "
        f"{_median(lambda: _sniff(archive)) * 1000:.3f} ms"
    )
    listing = _median(lambda: zipfile.ZipFile(io.BytesIO(archive)).namelist(), 3)
    print(f"  (listing its directory, as before the cap: {listing:.2f} s)")
    _pdfs()


def _pdfs() -> None:
    writer = PdfWriter()
    for _ in range(2000):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    real = out.getvalue()
    took = _median(lambda: sniff.sniff(io.BytesIO(real)))
    print(
        f"real PDF of 2,000 pages: {len(real):,} bytes; "
        f"accepted in {took * 1000:.1f} ms"
    )
    crafted = (
        b"%PDF-1.4\n"
        + b"1 0 obj<<>>endobj\n" * (50 * 1024 * 1024 // 18)
        + b"startxref\n0\n%%EOF\n"
    )

    def refuse() -> None:
        try:
            sniff.sniff(io.BytesIO(crafted))
        except sniff.NotAPdf:
            return
        raise AssertionError("the crafted PDF was accepted")

    print(
        f"crafted PDF, wrong xref: {len(crafted):,} bytes; refused in "
        f"{_median(refuse, 3):.2f} s"
    )


if __name__ == "__main__":
    main()
