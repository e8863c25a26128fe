"""The reference badge sheets and their rendered pages, for the look-alike test.

``tests/badges/reference/*.png`` are the pages of these sheets as rendered by the
engine *before* the speed work of issue 15 (main at 8972dbb: one WeasyPrint document
per 80 badges, painted in one process), rasterized with pypdfium2 at 100 dpi.
``test_reference.py`` renders the same sheets with today's engine and compares.

Regenerate only when the badge design changes on purpose (and say so in the
commit), never to make a failing comparison pass:

    .venv/bin/python -m tests.badges.reference
"""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from mixer.badges.render import BadgeData, render_badges_pdf

FOLDER = Path(__file__).resolve().parent / "reference"
DPI = 100
LONG_NAME = "Maximiliana Wolfeschlegelsteinhausen-Bergerdorff Núñez Ortiz"
NAMES = [
    "Ana Silva",
    LONG_NAME,
    "محمد عبد الله الفارسي",  # Arabic: right to left
    "山田 太郎",  # CJK
    "שרה לוי",  # Hebrew
    "Zoë Ångström-Łukasiewicz",
    "Oluwaseun Adébáyọ̀-Okonkwo",
    "李 小龍 and Ana",  # mixed scripts
    "Jo",
    "Chloé de la Fontaine-Beauregard",
    "김 민준",  # Korean
    "Wolfeschlegelsteinhausenbergerdorff " * 3 + "X" * 40,  # ends in "…"
    "Łukasz Wiśniewski",
    "Ngozi Chukwu",
    "José Núñez",
]
ROLES = ["mentor", "mentee", "speaker", "organizer", "attendee", "either"]
TAGS = ["Python", "Career growth", "Negotiating salaries and promotions", "Go"]
LOGO_COLOUR = "#0e7490"


def _logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 30), LOGO_COLOUR).save(out, "PNG")
    return out.getvalue()


def reference_badges(count: int = 16) -> list[BadgeData]:
    """Sixteen badges: hard names, every role, 0–4 tags, one badge with a logo."""
    badges = []
    for i in range(count):
        badges.append(
            BadgeData(
                name=NAMES[i % len(NAMES)],
                qr_url=f"https://mixer.example.org/c/reference-badge-{i:02d}-Qm9hcmRp",
                role=ROLES[i % len(ROLES)],
                pronouns=("she/her", "he/him", "they/them", "")[i % 4],
                department=("Platform Engineering", "Finance & Risk", "قسم المالية")[
                    i % 3
                ],
                tags=TAGS[: i % 5],
                event_title="Mentor Mixer: spring edition",
                event_date="Thu 12 Mar 2026, 17:30",
                organization="Acme Corporation",
                logo=_logo() if i == 6 else None,
            )
        )
    return badges


# (layout, number of badges): two A4 sheets of eight, three 4 × 3 in pages.
SHEETS = {"a4-8": 16, "badge-4x3": 3}


def reference_path(layout: str, page: int) -> Path:
    """Where page ``page`` (0-based) of ``layout``'s reference sheet is stored."""
    return FOLDER / f"{layout}-p{page + 1}.png"


def render_pages(layout: str) -> list[Image.Image]:
    """The reference sheet in ``layout``, rendered now, as RGB page images."""
    pdf = render_badges_pdf(reference_badges(SHEETS[layout]), layout)
    document = pdfium.PdfDocument(pdf)
    try:
        return [
            page.render(scale=DPI / 72).to_pil().convert("RGB") for page in document
        ]
    finally:
        document.close()


def main() -> None:
    """Write the reference pages (see the module's docstring before doing this)."""
    FOLDER.mkdir(exist_ok=True)
    for layout in SHEETS:
        for number, image in enumerate(render_pages(layout)):
            path = reference_path(layout, number)
            image.save(path, optimize=True)
            print(path.relative_to(FOLDER.parent), image.size, path.stat().st_size)


if __name__ == "__main__":
    main()
