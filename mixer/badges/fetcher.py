"""The only way WeasyPrint may load anything while it renders a badge.

Badge HTML contains text typed by attendees and organizers (names, tags, an uploaded
logo), so the renderer must never read an arbitrary file or reach the network:
``data:`` URIs and files under our ``static/`` folder are served, everything else is
refused and recorded in ``refused``.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from mixer import ROOT
from mixer.badges.qr import qr_png

STATIC_FOLDER = ROOT / "static"
QR_SCHEME = "mixer-qr:"  # + the badge's URL, quoted: its QR code as a PNG


class FetchRefused(ValueError):
    """A URL the badge renderer is not allowed to load."""


class StaticOnlyFetcher(URLFetcher):
    """Serves ``data:`` URIs and files under ``static_folder``; refuses the rest."""

    def __init__(self, static_folder: Path = STATIC_FOLDER, **kwargs) -> None:
        super().__init__(**kwargs)
        self.static_folder = Path(static_folder).resolve()
        self.refused: list[str] = []

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        """Return the resource behind ``url``, or raise ``FetchRefused``."""
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if url.startswith(QR_SCHEME):
            png = qr_png(unquote(url[len(QR_SCHEME) :]))
            return URLFetcherResponse(url, png, {"Content-Type": "image/png"})
        if scheme == "file":
            path = self._static_path(url)
            if path is not None:
                mime, _ = mimetypes.guess_type(path.name)
                return URLFetcherResponse(
                    path.as_uri(),
                    path.read_bytes(),
                    {"Content-Type": mime or "application/octet-stream"},
                )
        self.refused.append(url)
        raise FetchRefused(f"badges may not load {url[:200]!r}")

    def _static_path(self, url: str) -> Path | None:
        """The file a ``file:`` URL names when it lies inside the static folder."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return None
        # resolve() follows "..", and symbolic links, before the containment check.
        path = Path(unquote(parts.path)).resolve()
        if path.is_relative_to(self.static_folder) and path.is_file():
            return path
        return None
