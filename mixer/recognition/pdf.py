"""The Micro-Mentor of the Month certificate: one A4 landscape page, by WeasyPrint.

``render_certificate_pdf(data)`` needs no application context: everything it
prints arrives in ``CertificateData``, and its words are in the language in force
(``flask_babel.force_locale``: the caller chooses the awarded person's; English
without an application). As for badges, WeasyPrint may load only
``data:`` URIs and our own static files (``StaticOnlyFetcher``), and the Noto font
stack gives Arabic, Hebrew and CJK names real glyphs.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext, ngettext
from weasyprint import HTML

from mixer.badges.fetcher import STATIC_FOLDER, StaticOnlyFetcher
from mixer.badges.fonts import FONT_STACK, visual_length
from mixer.badges.render import font_config, pdf_templates
from mixer.i18n import current_locale, text_direction

# Point sizes for the name by visual length: a short name fills the line, a long
# one shrinks so that it stays on one or two lines.
NAME_SIZES: tuple[tuple[float, float], ...] = ((18, 44), (28, 36), (40, 28), (60, 22))
SMALLEST_NAME_SIZE = 18.0

# The badges' PDF environment with ``{% trans %}`` and ``_()``: Flask-Babel's
# functions, so the words follow ``force_locale`` (the shared environment is left
# as it is for the other documents).
certificate_templates = pdf_templates.overlay(extensions=["jinja2.ext.i18n"])
certificate_templates.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on a certificate, already formatted."""

    name: str
    organization: str
    month: str  # "March 2026"
    citation: str = ""
    awarded_on: str = ""  # "1 April 2026"

    def __post_init__(self) -> None:
        """Refuse a certificate without a name (blanks are no name)."""
        if not " ".join(self.name.split()):
            raise ValueError("A certificate needs the person's name.")


def name_size(name: str) -> float:
    """The name's size in points, from its visual length."""
    length = visual_length(name.strip())
    for limit, size in NAME_SIZES:
        if length <= limit:
            return size
    return SMALLEST_NAME_SIZE


def render_certificate_html(data: CertificateData) -> str:
    """The HTML document WeasyPrint turns into the certificate (exposed for tests)."""
    return certificate_templates.get_template("recognition/certificate.html").render(
        data=data,
        name=" ".join(data.name.split()),
        name_size=name_size(data.name),
        font_stack=FONT_STACK,
        locale=current_locale(),
        text_direction=text_direction(),
    )


def render_certificate_pdf(data: CertificateData) -> bytes:
    """The certificate as PDF bytes."""
    return HTML(
        string=render_certificate_html(data),
        base_url=STATIC_FOLDER.as_uri() + "/",
        url_fetcher=StaticOnlyFetcher(),
    ).write_pdf(font_config=font_config())
