"""What refusing a decompression-bomb photo and a zip bomb costs.

    .venv/bin/python benchmarks/bombs.py

Builds a 30,000 × 30,000 1-bit PNG and a PPTX-shaped zip of 200,000 entries (as
tests/speakers/test_bombs.py does), then times, median of 5 runs: Pillow opening
the PNG (where the refusal happens), Mixer's sniff of the zip (the refusal from
the end record), and ``zipfile`` listing the zip's directory (what sniffing did
before the entry cap).
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


if __name__ == "__main__":
    main()
