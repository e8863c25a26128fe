"""Badge PDFs: HTML documents of whole pages of badges, rendered by WeasyPrint.

A big batch is cut into chunks rendered side by side by a small process pool and
joined into one PDF (see ``render_badges_pdf`` and docs/badges.md).

``render_badges_pdf(badges, layout)`` is the service the badge views and the job
worker call. It needs no application context: every value it prints arrives in
``BadgeData``, so callers map registrations to badges and this module only draws.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import gc
import hashlib
import io
import json
import multiprocessing
import os
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pypdf import PdfReader, PdfWriter
from weasyprint import HTML
from weasyprint.document import Page
from weasyprint.text.fonts import FontConfiguration

from mixer import ROOT
from mixer.badges.fetcher import QR_SCHEME, STATIC_FOLDER, StaticOnlyFetcher
from mixer.badges.fonts import FONT_STACK, name_font_size, text_direction
from mixer.errors import DomainError


class BadgeError(DomainError):
    """Badges that cannot be drawn as asked (an unknown layout, nobody to print, a
    badge without a name…); the message is fit to show (400 unless it says)."""


MAX_TAGS = 3
CHUNK_BADGES = 40  # badges per WeasyPrint document: bounds memory, paces progress
MAX_PROCESSES = 2  # rendering processes for a batch of several chunks
MERGE_SHARE = 0.04  # of a parallel batch's progress: joining the parts into one PDF
MAX_TAG_LENGTH = 28
NAME_LINE_HEIGHT = 1.12  # as in templates/badges/_badges.css


@dataclass(frozen=True)
class Role:
    """A ribbon: its label and a background on which white text passes WCAG AA."""

    label: str
    colour: str


ROLES: dict[str, Role] = {
    "mentor": Role("Mentor", "#1d4ed8"),
    "mentee": Role("Mentee", "#047857"),
    "speaker": Role("Speaker", "#7e22ce"),
    "organizer": Role("Organizer", "#b91c1c"),
    "attendee": Role("Attendee", "#374151"),
    "either": Role("Mentor & mentee", "#0e7490"),  # "either" at a Mentor Mixer
}
RIBBON_TEXT = "#ffffff"

LOGO_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")


@dataclass
class BadgeData:
    """Everything printed on one badge; callers build it from a registration."""

    name: str
    qr_url: str
    role: str = "attendee"  # a key of ROLES
    pronouns: str = ""
    department: str = ""
    tags: Sequence[str] = ()  # "can help with"; the first MAX_TAGS are printed
    event_title: str = ""
    event_date: str = ""  # already formatted in the event's time zone
    organization: str = ""
    logo: bytes | str | None = None  # image bytes or a data: URI
    # The badge's own words in its language (docs/i18n.md); empty: English.
    role_label: str = ""  # the ribbon, else ROLES[role].label
    help_label: str = ""  # over the tags, else "Can help with"
    document_title: str = ""  # the PDF's title (the batch's first badge's)
    qr_alt: str = ""  # the QR image's alternative text, else "QR code"
    lang: str = "en"  # the document's language (the batch's first badge's)

    def __post_init__(self) -> None:
        self.name = " ".join(self.name.split())
        if not self.name:
            raise BadgeError("A badge needs a name.")
        if self.role not in ROLES:
            raise BadgeError(
                f"Unknown badge role {self.role!r}; use one of {', '.join(ROLES)}."
            )
        if urlsplit(self.qr_url).scheme not in ("http", "https"):
            raise BadgeError("A badge's QR code must encode an http(s) URL.")


@dataclass(frozen=True)
class Layout:
    """A page format: badges per page, their size, and whether to print cut marks.

    Inner measurements are those of a 3.5 × 2.5 in badge, multiplied by ``scale``.
    """

    key: str
    label: str
    page_width: float  # mm
    page_height: float
    columns: int
    rows: int
    badge_width: float
    badge_height: float
    scale: float = 1.0
    cut_marks: bool = True

    # Inner geometry in mm at scale 1 (see templates/badges/_badges.css).
    padding = 3.0
    header_top = 2.6
    header_height = 4.8
    name_top = 8.6
    ribbon_height = 7.0
    qr_size = 26.0
    qr_bottom = 8.5  # above the ribbon
    gap = 1.0

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def margin_x(self) -> float:
        return (self.page_width - self.columns * self.badge_width) / 2

    @property
    def margin_y(self) -> float:
        return (self.page_height - self.rows * self.badge_height) / 2

    @property
    def name_max_height(self) -> float:
        """Room for the name (mm at scale 1): between the header and the QR code."""
        inner = self.badge_height / self.scale
        return inner - self.name_top - self.qr_bottom - self.qr_size - self.gap

    def badge_box(self, slot: int) -> tuple[float, float, float, float]:
        """(left, top, width, height) in mm of the badge in ``slot`` on its page."""
        column, row = slot % self.columns, slot // self.columns
        return (
            self.margin_x + column * self.badge_width,
            self.margin_y + row * self.badge_height,
            self.badge_width,
            self.badge_height,
        )

    def name_box(self, slot: int) -> tuple[float, float, float, float]:
        """(left, top, width, height) in mm of the area the name may occupy."""
        left, top, width, _ = self.badge_box(slot)
        s = self.scale
        return (
            left + self.padding * s,
            top + self.name_top * s,
            width - 2 * self.padding * s,
            self.name_max_height * s,
        )

    def cut_marks_svg(self) -> str:
        """Crop marks in the page margins along every cut line, as an SVG document."""
        length, offset = 5.0, 2.0
        left, top = self.margin_x, self.margin_y
        right = left + self.columns * self.badge_width
        bottom = top + self.rows * self.badge_height
        lines = []
        for column in range(self.columns + 1):
            x = left + column * self.badge_width
            lines.append((x, top - offset - length, x, top - offset))
            lines.append((x, bottom + offset, x, bottom + offset + length))
        for row in range(self.rows + 1):
            y = top + row * self.badge_height
            lines.append((left - offset - length, y, left - offset, y))
            lines.append((right + offset, y, right + offset + length, y))
        path = "".join(
            f"M{x1:.2f} {y1:.2f}L{x2:.2f} {y2:.2f}" for x1, y1, x2, y2 in lines
        )
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" '
            f'width="{self.page_width}mm" height="{self.page_height}mm" '
            f'viewBox="0 0 {self.page_width} {self.page_height}">'
            f'<path d="{path}" stroke="#000" stroke-width="0.2" fill="none"/></svg>'
        )


SHEET_BADGE = (88.9, 63.5)  # 3.5 × 2.5 in, eight to an A4 or US Letter sheet
LAYOUTS: dict[str, Layout] = {
    "a4-8": Layout("a4-8", "A4, 8 badges with cut marks", 210, 297, 2, 4, *SHEET_BADGE),
    "letter-8": Layout(
        "letter-8", "US Letter, 8 badges with cut marks", 215.9, 279.4, 2, 4,
        *SHEET_BADGE,
    ),
    "badge-4x3": Layout(
        "badge-4x3", "4 × 3 in, one badge per page (badge printers)",
        101.6, 76.2, 1, 1, 101.6, 76.2, scale=1.15, cut_marks=False,
    ),
}  # fmt: skip

# The Jinja environment of every WeasyPrint document (badges, certificates).
pdf_templates = Environment(
    loader=FileSystemLoader(ROOT / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
pdf_templates.filters["direction"] = text_direction


@dataclass
class _Printed:
    """A badge with everything the template needs computed once in Python."""

    badge: BadgeData
    role: Role
    name_size: float
    name_lines: int  # as many as the name box holds; a longer name ends in "…"
    name_dir: str
    tags: list[str]
    logo_class: str | None
    qr_src: str  # its QR code: a mixer-qr: URL the fetcher answers with a PNG
    slot: int


def render_badges_html(badges: Sequence[BadgeData], layout: str = "a4-8") -> str:
    """The HTML document WeasyPrint turns into the badge PDF (exposed for tests)."""
    page = _layout(layout)
    if not badges:
        raise BadgeError("There are no badges to print.")
    logos: dict[str, str] = {}
    printed = []
    for index, badge in enumerate(badges):
        logo_class = None
        if badge.logo is not None:
            uri = logo_data_uri(badge.logo)
            logo_class = logos.setdefault(uri, f"logo-{len(logos)}")
        size = name_font_size(badge.name) * page.scale
        printed.append(
            _Printed(
                badge=badge,
                role=ROLES[badge.role],
                name_size=round(size, 2),
                name_lines=_lines_that_fit(page.name_max_height * page.scale, size),
                name_dir=text_direction(badge.name),
                tags=[_shorten(tag) for tag in badge.tags if tag.strip()][:MAX_TAGS],
                logo_class=logo_class,
                qr_src=QR_SCHEME + quote(badge.qr_url, safe=""),
                slot=index % page.per_page,
            )
        )
    sheets = [
        printed[start : start + page.per_page]
        for start in range(0, len(printed), page.per_page)
    ]
    cut_marks = None
    if page.cut_marks:
        svg = page.cut_marks_svg().encode()
        cut_marks = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    return pdf_templates.get_template("badges/sheet.html").render(
        layout=page,
        sheets=sheets,
        logos={cls: uri for uri, cls in logos.items()},
        cut_marks=cut_marks,
        font_stack=FONT_STACK,
        ribbon_text=RIBBON_TEXT,
        roles=ROLES,
    )


def render_badges_pdf(
    badges: Sequence[BadgeData],
    layout: str = "a4-8",
    *,
    progress: Callable[[float], None] | None = None,
    processes: int | None = None,
) -> bytes:
    """Render ``badges`` as one PDF in ``layout`` (a key of ``LAYOUTS``).

    A batch of more than ``CHUNK_BADGES`` badges is cut into chunks of whole pages,
    rendered by ``processes`` processes (default: ``default_processes()``) side by
    side and joined into one PDF; a smaller batch, or ``processes=1``, is rendered
    in this process. ``progress``, when given, is called with the fraction done
    (0 to 1, ending with exactly 1.0), so a job can drive a progress bar.
    """
    page = _layout(layout)
    if not badges:
        raise BadgeError("There are no badges to print.")
    chunk = max(page.per_page, CHUNK_BADGES // page.per_page * page.per_page)
    parts = [
        list(badges[start : start + chunk]) for start in range(0, len(badges), chunk)
    ]
    processes = default_processes() if processes is None else processes
    if len(parts) == 1 or processes <= 1:
        return _render_here(parts, page, progress)
    return _render_in_processes(parts, page, min(processes, len(parts)), progress)


def default_processes() -> int:
    """Processes for a multi-chunk batch: one per CPU, at most ``MAX_PROCESSES``."""
    return max(1, min(MAX_PROCESSES, len(os.sched_getaffinity(0))))


def _render_here(
    parts: list[list[BadgeData]],
    page: Layout,
    progress: Callable[[float], None] | None,
) -> bytes:
    """All chunks in this process, as one document (each font embedded once).

    Progress: each chunk when laid out, then each page as it is painted.
    """
    fetcher = StaticOnlyFetcher()
    fonts = font_config()
    work, done = 2 * sum(len(part) for part in parts), 0

    def advance(units: int) -> None:
        nonlocal done
        done += units
        if progress is not None:
            progress(min(done / work, 1.0))

    documents = []
    pages = []
    for part in parts:
        document = HTML(
            string=render_badges_html(part, page.key),
            base_url=STATIC_FOLDER.as_uri() + "/",
            url_fetcher=fetcher,
        ).render(font_config=fonts)
        documents.append(document)
        for number, rendered in enumerate(document.pages):
            on_page = min(page.per_page, len(part) - number * page.per_page)
            pages.append(_ReportingPage(rendered, partial(advance, on_page)))
        advance(len(part))
    return documents[0].copy(pages).write_pdf()


def _render_in_processes(
    parts: list[list[BadgeData]],
    page: Layout,
    processes: int,
    progress: Callable[[float], None] | None,
) -> bytes:
    """Chunks rendered by a pool of processes, then joined with pypdf.

    Each chunk is its own small document, so a process holds at most one chunk's
    laid-out pages (memory stays flat whatever the batch size); progress is
    reported as chunks come back. Every chunk embeds its own subset of each font,
    which makes the joined PDF larger than one document would be (see
    docs/badges.md for the measured size); identical objects are stored once.
    """
    for part in parts:  # refuse bad logos here: errors from the pool lose their type
        for badge in part:
            if badge.logo is not None:
                logo_data_uri(badge.logo)
    sizes = [len(part) for part in parts]
    total, shares = sum(sizes), [0.0] * len(parts)
    pdfs: list[bytes] = [b""] * len(parts)
    context = multiprocessing.get_context("forkserver")
    # The fork server imports the engine once; each pool process forks from it
    # (fast, with nothing of this process: no threads, no database connections).
    context.set_forkserver_preload([__name__])
    reports = context.SimpleQueue()  # (chunk, fraction done) from the processes

    def report() -> None:
        if progress is not None:
            done = sum(share * size for share, size in zip(shares, sizes, strict=True))
            progress(done / total * (1 - MERGE_SHARE))

    with ProcessPoolExecutor(
        processes,
        mp_context=context,
        initializer=_start_renderer,
        initargs=(reports,),
    ) as pool:
        futures = {
            pool.submit(_render_part, index, part, page.key): index
            for index, part in enumerate(parts)
        }
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.05, return_when=FIRST_COMPLETED)
            while not reports.empty():  # every page painted moves the bar
                index, fraction = reports.get()
                if fraction > shares[index]:
                    shares[index] = fraction
                    report()
            for future in finished:
                index = futures[future]
                pdfs[index] = future.result()
                if shares[index] < 1.0:
                    shares[index] = 1.0
                    report()
    merged = merge_pdfs(pdfs)
    if progress is not None:
        progress(1.0)
    return merged


_reports: Any = None  # in a pool process: the queue its progress goes to


def _start_renderer(reports: Any) -> None:
    """Set up a pool process: remember where progress goes, and stop scanning what
    it imported at every full garbage collection (it is never garbage, and laying
    out a chunk allocates millions of objects)."""
    global _reports
    _reports = reports
    gc.freeze()


def _render_part(index: int, badges: list[BadgeData], layout: str) -> bytes:
    """One chunk as its own PDF (runs in a pool process), reporting its progress."""

    def progress(fraction: float) -> None:
        if _reports is not None:
            _reports.put((index, fraction))

    return render_badges_pdf(badges, layout, progress=progress, processes=1)


def merge_pdfs(pdfs: Sequence[bytes]) -> bytes:
    """Join PDFs page after page, storing identical objects once."""
    writer = PdfWriter()
    for number, pdf in enumerate(pdfs):
        reader = PdfReader(io.BytesIO(pdf))
        if number == 0 and reader.metadata is not None:
            writer.add_metadata(dict(reader.metadata))
        writer.append(reader)
    writer.compress_identical_objects()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class _ReportingPage(Page):
    """A laid-out page that reports when it has been painted into the PDF."""

    def __init__(self, page: Page, painted: Callable[[], None]) -> None:
        self.__dict__.update(page.__dict__)  # the same page; only paint() is extended
        self._painted = painted

    def paint(self, stream, scale=1):
        super().paint(stream, scale)
        self._painted()


_thread = threading.local()


def font_config() -> FontConfiguration:
    """This thread's font configuration, kept between renders.

    Pango then keeps the fonts it has loaded (Noto CJK alone is 20 MB), which saves
    about 0.1 s of CPU per render; Pango font maps are not thread-safe, hence one
    per thread.
    """
    config = getattr(_thread, "fonts", None)
    if config is None:
        config = _thread.fonts = FontConfiguration()
    return config


def batch_fingerprint(badges: Sequence[BadgeData], layout: str) -> str:
    """A key that changes whenever the PDF for these badges would change.

    Covers every printed field, the order, the layout and the badge templates, so a
    cached batch PDF can be served until a registration (or the design) changes.
    """
    digest = hashlib.sha256()
    digest.update(_templates_digest())
    digest.update(json.dumps([layout, len(badges)]).encode())
    for badge in badges:
        fields = dataclasses.asdict(badge)
        logo = fields.pop("logo")
        if isinstance(logo, bytes):
            logo = hashlib.sha256(logo).hexdigest()
        fields["logo"] = logo
        fields["tags"] = list(fields["tags"])
        digest.update(json.dumps(fields, sort_keys=True).encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _templates_digest() -> bytes:
    folder = ROOT / "templates" / "badges"
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.digest()


def _layout(key: str) -> Layout:
    try:
        return LAYOUTS[key]
    except KeyError:
        raise BadgeError(
            f"Unknown badge layout {key!r}; use one of {', '.join(LAYOUTS)}."
        ) from None


def _lines_that_fit(height_mm: float, size_pt: float) -> int:
    line_mm = size_pt * NAME_LINE_HEIGHT * 25.4 / 72
    return max(1, int(height_mm / line_mm))


def _shorten(text: str, limit: int = MAX_TAG_LENGTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_DATA_URI = re.compile(r"data:([\w.+-]+/[\w.+-]+)?((?:;[^,;]*)*),(.*)", re.S | re.I)


def logo_data_uri(logo: bytes | str) -> str:
    """A clean base64 ``data:`` URI for a logo given as bytes or as a data URI.

    Re-encoding means nothing an uploader typed ends up inside our stylesheet.
    """
    if isinstance(logo, str):
        match = _DATA_URI.fullmatch(logo.strip())
        if not match:
            raise BadgeError("A logo must be image bytes or a data: URI.")
        mime, params, payload = match.groups()
        try:
            data = (
                base64.b64decode(payload, validate=True)
                if ";base64" in params.lower()
                else unquote_to_bytes(payload)
            )
        except binascii.Error as exc:
            raise BadgeError("The logo's data: URI is not valid base64.") from exc
        mime = (mime or "").lower()
    else:
        data, mime = bytes(logo), _sniff_image(bytes(logo))
    if mime not in LOGO_TYPES:
        raise BadgeError("A logo must be a PNG, JPEG, GIF, WebP or SVG image.")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _sniff_image(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if b"<svg" in data[:1024]:
        return "image/svg+xml"
    return ""
