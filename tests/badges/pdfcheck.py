"""Look inside badge PDFs the way a printer and a phone would.

* ``shown_glyphs`` reads every text-showing operator in the PDF with pypdf and looks
  each glyph up in the font program embedded for it (fontTools): a glyph is missing
  when it is ``.notdef`` (id 0), beyond the end of the font (what WeasyPrint writes
  when no installed font has the character) or has no outline although its text is
  not a space.
* ``decode_pages`` rasterizes pages with pypdfium2 and decodes QR codes with
  zxing-cpp, the decoder phones use.
* ``text_chars`` gives every character pdfium sees, with its box in millimetres
  from the top-left corner of the page and its font size in points.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from io import BytesIO

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import zxingcpp
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

MM_PER_PT = 25.4 / 72
PX_PER_PT = 4 / 3  # WeasyPrint lays text out in CSS pixels


@dataclass(frozen=True)
class Glyph:
    font: str  # the embedded font's name, subset prefix removed
    gid: int
    text: str  # from the font's ToUnicode map
    missing: bool


class _EmbeddedFont:
    """An embedded Type0/Identity-H font: its glyph program and ToUnicode map."""

    def __init__(self, font) -> None:
        subtype, encoding = font.get("/Subtype"), font.get("/Encoding")
        if subtype != "/Type0":
            raise AssertionError(f"unexpected font type {subtype}: extend me")
        # Identity-H: code = CID. WeasyPrint embeds its own CMap when some glyphs
        # are missing, sending their codes to CID 0 (.notdef).
        self.code_to_cid: dict[int, int] | None = None
        if encoding != "/Identity-H":
            self.code_to_cid = _parse_cid_cmap(encoding.get_object().get_data())
        self.name = str(font["/BaseFont"]).lstrip("/").split("+", 1)[-1]
        descendant = font["/DescendantFonts"][0].get_object()
        gid_map = descendant.get("/CIDToGIDMap", "/Identity")
        if gid_map != "/Identity":
            raise AssertionError(f"{self.name}: CIDToGIDMap {gid_map}: extend me")
        descriptor = descendant["/FontDescriptor"].get_object()
        program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
        self.ttfont = TTFont(BytesIO(program.get_object().get_data()))
        self.glyph_order = self.ttfont.getGlyphOrder()
        self.glyph_set = self.ttfont.getGlyphSet()
        self.to_unicode = _parse_to_unicode(font["/ToUnicode"].get_object().get_data())
        self._glyphs: dict[int, Glyph] = {}

    def glyph(self, code: int) -> Glyph:
        if code not in self._glyphs:
            self._glyphs[code] = self._look_up(code)
        return self._glyphs[code]

    def _look_up(self, code: int) -> Glyph:
        text = self.to_unicode.get(code, "")
        gid = code if self.code_to_cid is None else self.code_to_cid.get(code, 0)
        if gid == 0 or gid >= len(self.glyph_order):
            return Glyph(self.name, gid, text, True)
        needs_ink = any(unicodedata.category(c)[0] not in "ZC" for c in text)
        pen = BoundsPen(self.glyph_set)
        self.glyph_set[self.glyph_order[gid]].draw(pen)
        return Glyph(self.name, gid, text, needs_ink and pen.bounds is None)


def _parse_to_unicode(cmap: bytes) -> dict[int, str]:
    """The bfchar and bfrange entries of a ToUnicode CMap (all WeasyPrint writes)."""
    mapping: dict[int, str] = {}
    lines = iter(cmap.decode("latin-1").splitlines())
    for line in lines:
        if line.endswith("beginbfchar"):
            for entry in lines:
                if entry.startswith("endbfchar"):
                    break
                code, text = (part.strip("<>") for part in entry.split())
                mapping[int(code, 16)] = bytes.fromhex(text).decode("utf-16-be")
        elif line.endswith("beginbfrange"):
            for entry in lines:
                if entry.startswith("endbfrange"):
                    break
                first, last, start = (part.strip("<>") for part in entry.split()[:3])
                base = int.from_bytes(bytes.fromhex(start), "big")
                for offset, code in enumerate(range(int(first, 16), int(last, 16) + 1)):
                    mapping[code] = chr(base + offset)
    return mapping


def _parse_cid_cmap(cmap: bytes) -> dict[int, int]:
    """The cidchar and cidrange entries of an embedded CMap."""
    mapping: dict[int, int] = {}
    lines = iter(cmap.decode("latin-1").splitlines())
    for line in lines:
        if line.endswith("begincidchar"):
            for entry in lines:
                if entry.startswith("endcidchar"):
                    break
                code, cid = entry.split()
                mapping[int(code.strip("<>"), 16)] = int(cid)
        elif line.endswith("begincidrange"):
            for entry in lines:
                if entry.startswith("endcidrange"):
                    break
                first, last, cid = entry.split()
                for offset, code in enumerate(
                    range(int(first.strip("<>"), 16), int(last.strip("<>"), 16) + 1)
                ):
                    mapping[code] = int(cid) + offset
    return mapping


def shown_glyphs(pdf: bytes) -> list[Glyph]:
    """Every glyph drawn by every text operator on every page, in stream order."""
    reader = PdfReader(BytesIO(pdf))
    fonts: dict[int, _EmbeddedFont] = {}
    glyphs: list[Glyph] = []

    def font_for(resources, name) -> _EmbeddedFont:
        ref = resources["/Font"].raw_get(name)
        key = getattr(ref, "idnum", id(ref))
        if key not in fonts:
            fonts[key] = _EmbeddedFont(ref.get_object())
        return fonts[key]

    def walk(content, resources, seen_forms: set) -> None:
        resources = resources.get_object() if resources is not None else {}
        font = None
        for operands, operator in ContentStream(content, reader).operations:
            if operator == b"Tf":
                font = font_for(resources, operands[0])
            elif operator in (b"Tj", b"'", b'"', b"TJ"):
                strings = operands[-1] if operator == b"TJ" else operands[-1:]
                for item in strings:
                    if isinstance(item, int | float):
                        continue
                    raw = getattr(item, "original_bytes", item)
                    for i in range(0, len(raw) - 1, 2):
                        glyphs.append(font.glyph(int.from_bytes(raw[i : i + 2], "big")))
            elif operator == b"Do":
                form = resources["/XObject"][operands[0]].get_object()
                if form.get("/Subtype") == "/Form" and id(form) not in seen_forms:
                    seen_forms.add(id(form))
                    walk(form, form.get("/Resources", resources), seen_forms)

    for page in reader.pages:
        walk(page.get_contents(), page.get("/Resources"), set())
    return glyphs


def missing_glyphs(pdf: bytes) -> list[Glyph]:
    """The glyphs a reader would see as empty boxes (tofu)."""
    return [glyph for glyph in shown_glyphs(pdf) if glyph.missing]


def embedded_fonts(pdf: bytes) -> set[str]:
    """The names of the fonts used to show text."""
    return {glyph.font for glyph in shown_glyphs(pdf)}


@dataclass(frozen=True)
class Decoded:
    text: str
    x: float  # centre, mm from the page's left edge
    y: float  # centre, mm from the page's top edge
    ec_level: str


def decode_pages(pdf: bytes, dpi: int = 200) -> list[list[Decoded]]:
    """The QR codes zxing-cpp reads on each page, rasterized at ``dpi``."""
    document = pdfium.PdfDocument(pdf)
    pages = []
    try:
        for page in document:
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            found = []
            for result in zxingcpp.read_barcodes(
                image, formats=zxingcpp.BarcodeFormat.QRCode
            ):
                corners = result.position
                points = (
                    corners.top_left,
                    corners.top_right,
                    corners.bottom_right,
                    corners.bottom_left,
                )
                mm_per_px = 25.4 / dpi
                found.append(
                    Decoded(
                        result.text,
                        sum(p.x for p in points) / 4 * mm_per_px,
                        sum(p.y for p in points) / 4 * mm_per_px,
                        result.ec_level,
                    )
                )
            pages.append(found)
    finally:
        document.close()
    return pages


@dataclass(frozen=True)
class Char:
    char: str
    left: float  # mm from the page's left edge
    top: float  # mm from the page's top edge
    right: float
    bottom: float
    size_pt: float


def text_chars(pdf: bytes, page_index: int = 0) -> list[Char]:
    """Every character on a page with its tight box and font size."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[page_index]
        height = page.get_height()
        text_page = page.get_textpage()
        chars = []
        for index in range(text_page.count_chars()):
            code = pdfium_raw.FPDFText_GetUnicode(text_page, index)
            if code in (0, 0xFFFE) or 0xD800 <= code <= 0xDFFF:
                continue
            left, bottom, right, top = text_page.get_charbox(index)
            size_px = pdfium_raw.FPDFText_GetFontSize(text_page, index)
            chars.append(
                Char(
                    chr(code),
                    left * MM_PER_PT,
                    (height - top) * MM_PER_PT,
                    right * MM_PER_PT,
                    (height - bottom) * MM_PER_PT,
                    size_px / PX_PER_PT,
                )
            )
        return chars
    finally:
        document.close()


def page_image(pdf: bytes, page_index: int = 0, dpi: int = 100, grayscale=True):
    """A page as a PIL image (greyscale, or RGB)."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[page_index]
        image = page.render(scale=dpi / 72, grayscale=grayscale).to_pil()
        return image if grayscale else image.convert("RGB")
    finally:
        document.close()
