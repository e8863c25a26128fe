"""What a file really is, decided from its bytes (never its name or claimed type).

Only the formats speakers need are recognised; everything else is refused.
"""

from __future__ import annotations

import zipfile
from typing import IO, NamedTuple

HEAD = 8192  # bytes read to decide
TEXT_LIMIT = 2 * 1024 * 1024  # Markdown/plain text is checked whole up to this


class Kind(NamedTuple):
    """A recognised type: short name, MIME type, extension, served inline or not."""

    name: str
    mimetype: str
    ext: str
    inline: bool


PDF = Kind("PDF", "application/pdf", ".pdf", True)
PNG = Kind("PNG image", "image/png", ".png", True)
JPEG = Kind("JPEG image", "image/jpeg", ".jpg", True)
GIF = Kind("GIF image", "image/gif", ".gif", True)
WEBP = Kind("WebP image", "image/webp", ".webp", True)
PPTX = Kind(
    "PowerPoint (PPTX)",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".pptx",
    False,
)
DOCX = Kind(
    "Word (DOCX)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".docx",
    False,
)
XLSX = Kind(
    "Excel (XLSX)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsx",
    False,
)
TEXT = Kind("Markdown or plain text", "text/plain; charset=utf-8", ".txt", False)

ACCEPTED = (PDF, PPTX, DOCX, XLSX, PNG, JPEG, GIF, WEBP, TEXT)
ACCEPTED_TEXT = "PDF, PowerPoint (PPTX), Word (DOCX), Excel (XLSX), PNG, JPEG, GIF, WebP images and Markdown or plain text"  # noqa: E501
BY_MIMETYPE = {k.mimetype: k for k in ACCEPTED}
OOXML = {"ppt/": PPTX, "word/": DOCX, "xl/": XLSX}
# Text that a browser could run or render as a page: never accepted as "text".
ACTIVE_MARKERS = (
    b"<!doctype",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<svg",
    b"<?xml",
    b"<iframe",
    b"<object",
    b"<embed",
    b"javascript:",
)


def sniff(stream: IO[bytes]) -> Kind | None:
    """The type of a seekable stream from its content, or None if not accepted."""
    stream.seek(0)
    head = stream.read(HEAD)
    stream.seek(0)
    if not head:
        return None
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _ooxml(stream)
    return _text(stream)


def _ooxml(stream: IO[bytes]) -> Kind | None:
    """A zip is accepted only as a PPTX, DOCX or XLSX package."""
    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        stream.seek(0)
    if "[Content_Types].xml" not in names:
        return None
    for prefix, kind in OOXML.items():
        if any(n.startswith(prefix) for n in names):
            return kind
    return None


def _text(stream: IO[bytes]) -> Kind | None:
    """Valid UTF-8 without NUL bytes that does not look like HTML, SVG or script."""
    data = stream.read(TEXT_LIMIT + 1)
    stream.seek(0)
    if len(data) > TEXT_LIMIT or b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lowered = text.lstrip("\ufeff \t\r\n").lower().encode()
    if lowered.startswith(b"#!") or any(m in lowered for m in ACTIVE_MARKERS):
        return None
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
        return None
    return TEXT
