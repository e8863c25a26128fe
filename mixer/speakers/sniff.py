"""What a file really is, decided from its bytes (never its name or claimed type).

Only the formats speakers need are recognised; everything else is refused.
"""

from __future__ import annotations

import struct
import zipfile
from typing import IO, NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from mixer.formatting import format_number

HEAD = 8192  # bytes read to decide
TEXT_LIMIT = 2 * 1024 * 1024  # Markdown/plain text is checked whole up to this
# A zip bomb is refused from its directory, before anything is read or unpacked:
# a real presentation has hundreds of parts and unpacks to well under a gigabyte.
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_UNPACKED = 1024 * 1024 * 1024
_EOCD = b"PK\x05\x06"  # end of central directory record (22 bytes + comment)
_EOCD_SEARCH = 22 + 0xFFFF
# A PDF ends with ``startxref``, an offset and ``%%EOF`` (readers look in the last
# KB); bytes without them are refused before pypdf would scan the whole file.
_PDF_TAIL = 1024


class ArchiveTooLarge(ValueError):
    """A zip with more entries, or more bytes unpacked, than any document has."""


class NotAPdf(ValueError):
    """Bytes that begin with ``%PDF-`` but that a PDF reader cannot open."""


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
ACCEPTED_TEXT = _l(
    "PDF, PowerPoint (PPTX), Word (DOCX), Excel (XLSX), PNG, JPEG, GIF, WebP "
    "images and Markdown or plain text"
)
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
        return _pdf(stream)
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


def _pdf(stream: IO[bytes]) -> Kind:
    """A PDF only if pypdf reads its cross-reference table, trailer and page
    count (NotAPdf otherwise). Nothing is rendered and no page is parsed, so a
    big real deck costs milliseconds; the upload limit bounds the bytes read."""
    stream.seek(0, 2)
    stream.seek(max(0, stream.tell() - _PDF_TAIL))
    tail = stream.read()
    stream.seek(0)
    if b"%%EOF" not in tail or b"startxref" not in tail:
        raise NotAPdf(_("This file begins like a PDF but is not one (it has no end)."))
    try:
        reader = PdfReader(stream, strict=False)
        pages = reader.root_object["/Pages"].get_object()
        found = pages.get("/Count") if isinstance(pages, DictionaryObject) else 0
        count = int(found) if isinstance(found, int) else 0
    except Exception as exc:  # noqa: BLE001 - any pypdf failure means "not a PDF"
        raise NotAPdf(
            _(
                "This file begins like a PDF but is not one (it cannot be read as "
                "a PDF)."
            )
        ) from exc
    finally:
        stream.seek(0)
    if count < 1:
        raise NotAPdf(
            _("This file begins like a PDF but is not one (it has no pages).")
        )
    return PDF


def _ooxml(stream: IO[bytes]) -> Kind | None:
    """A zip is accepted only as a PPTX, DOCX or XLSX package (ArchiveTooLarge
    when it has more than ZIP_MAX_ENTRIES entries or unpacks to more than
    ZIP_MAX_UNPACKED bytes)."""
    try:
        if _declared_entries(stream) > ZIP_MAX_ENTRIES:
            raise ArchiveTooLarge(
                _(
                    "This archive has more than %(num)s parts; no document needs "
                    "that many.",
                    num=format_number(ZIP_MAX_ENTRIES),
                )
            )
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
    except ArchiveTooLarge:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, struct.error):
        return None
    finally:
        stream.seek(0)
    if sum(info.file_size for info in infos) > ZIP_MAX_UNPACKED:
        raise ArchiveTooLarge(
            _(
                "This archive unpacks to more than %(num)d GB.",
                num=ZIP_MAX_UNPACKED // 2**30,
            )
        )
    names = [info.filename for info in infos]
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


def _declared_entries(stream: IO[bytes]) -> int:
    """The entry count the zip's end record declares (0xFFFF for Zip64, which
    no upload under the size limit needs), read without parsing the directory."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(max(0, size - _EOCD_SEARCH))
    tail = stream.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) < at + 22:
        return 0  # not a zip: ZipFile says so
    (total,) = struct.unpack_from("<H", tail, at + 10)
    return int(total)
