"""The certificate PDF: A4 landscape, real glyphs for any script, nothing fetched."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader

from mixer.recognition.pdf import (
    CertificateData,
    name_size,
    render_certificate_html,
    render_certificate_pdf,
)
from tests.badges.pdfcheck import missing_glyphs, text_chars


def certificate(name: str, **kw) -> CertificateData:
    kw.setdefault("organization", "Riverside College")
    kw.setdefault("month", "March 2026")
    kw.setdefault("citation", "For six check-ins and a lot of patience.")
    kw.setdefault("awarded_on", "1 April 2026")
    return CertificateData(name=name, **kw)


@pytest.mark.parametrize(
    "name",
    ["محمد عبد الله الفارسي", "山田 太郎", "Zoë Ångström-Łukasiewicz"],
    ids=["arabic", "cjk", "accented"],
)
def test_names_in_any_script_get_real_glyphs(name):
    pdf = render_certificate_pdf(certificate(name, organization="株式会社 Acme"))
    assert missing_glyphs(pdf) == []
    printed = "".join(c.char for c in text_chars(pdf))
    for part in name.split():
        if part.isascii() or "Ł" in part:
            assert part in printed
    reader = PdfReader(BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert len(reader.pages) == 1
    assert float(box.width) > float(box.height)  # landscape


def test_the_certificate_prints_who_where_when_and_why():
    pdf = render_certificate_pdf(certificate("Ada Lovelace"))
    text = " ".join(PdfReader(BytesIO(pdf)).pages[0].extract_text().split())
    for expected in (
        "Ada Lovelace",
        "RIVERSIDE COLLEGE",  # set in capitals by the stylesheet
        "Micro-Mentor of the Month",
        "March 2026",
        "lot of patience",
        "1 April 2026",
    ):
        assert expected.lower() in text.lower(), (expected, text)


def test_typed_text_is_escaped_and_cannot_load_anything():
    html = render_certificate_html(
        certificate(
            '<img src="file:///etc/passwd">Eve',
            citation='<link rel="stylesheet" href="http://evil.test/x.css">',
        )
    )
    assert "<img" not in html and "&lt;img" in html
    assert '<link rel="stylesheet" href="http' not in html
    pdf = render_certificate_pdf(certificate('<img src="file:///etc/passwd">Eve'))
    assert "file:///etc/passwd" in PdfReader(BytesIO(pdf)).pages[0].extract_text()


def test_long_names_shrink_and_empty_names_are_refused():
    assert name_size("Ada") > name_size("Maximiliana Wolfeschlegelsteinhausen Núñez")
    assert name_size("x" * 200) == 18
    with pytest.raises(ValueError, match="needs the person's name"):
        certificate("   ")
