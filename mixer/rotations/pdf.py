"""Printable rotations: the full schedule and one card per table (WeasyPrint).

Each PDF is a printout (``mixer.printouts``): kept in the instance folder under a
hash of the plan's id and the HTML it is drawn from, so it is drawn once and never
served stale; any change to what it prints (a new plan, a re-plan, a name) gives a
new hash. A plan of more than ``ROTATION_PDF_INLINE_PEOPLE`` people is drawn by the
job worker (``rotations.printout``, see ``mixer.rotations.jobs``) behind the shared
progress page; a smaller one during the request.

The HTML holds names typed by attendees, so WeasyPrint gets the badges' restricted
fetcher (our static files and ``data:`` URIs only; never ``file://`` elsewhere or
the network). The pages use no external resources at all.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import func, select
from weasyprint import HTML

from mixer.badges.fetcher import STATIC_FOLDER, StaticOnlyFetcher
from mixer.badges.render import font_config
from mixer.events.models import Event
from mixer.extensions import db
from mixer.printouts.services import Printout, store
from mixer.rotations import services
from mixer.rotations.models import RotationPlan, RotationSeat

PRINTOUT_JOB = "rotations.printout"
SCHEDULE, CARDS = "schedule", "cards"
KINDS = (SCHEDULE, CARDS)
ROWS_PER_PAGE = 46  # schedule rows on an A4 page (for the progress bar's estimate)
LAYOUT_SHARE = 0.8  # of the drawing: laying out pages (the rest: writing the PDF)


@dataclass(frozen=True)
class Drawing:
    """A rotation PDF ready to draw: its printout, its HTML and its size."""

    printout: Printout
    html: str
    people: int  # people in the plan: what decides between request and worker
    pages: int  # pages expected (the progress bar's estimate)

    @property
    def inline(self) -> bool:
        """Small enough to draw during the request (under about two seconds)."""
        return self.people <= int(current_app.config["ROTATION_PDF_INLINE_PEOPLE"])


def schedule_html(event: Event, plan: RotationPlan) -> str:
    """The schedule as print HTML: per round, every table and who sits out."""
    return _schedule(event, plan)[0]


def _schedule(event: Event, plan: RotationPlan) -> tuple[str, int]:
    """The schedule's HTML and the pages it will take, about (two statements)."""
    rounds = services.plan_data(plan)["rounds"]
    ids = {m for r in rounds for t in r["tables"] for m in t["members"]}
    ids |= {m for r in rounds for m in r["byes"]}
    with force_locale(paper_locale(event)):
        html = render_template(
            "rotations/print_schedule.html",
            event=event,
            plan=plan,
            rounds=rounds,
            regs=services.names(ids),
            left=set(plan.left_ids or ()),  # marked as gone, still in unplanned rounds
        )
    # About: a round longer than a page starts on a page of its own.
    pages = 1 + sum(math.ceil((len(r["tables"]) + 2) / ROWS_PER_PAGE) for r in rounds)
    return html, pages


def _table_count(plan: RotationPlan) -> int:
    """The most tables of any round (one statement)."""
    most = db.session.scalar(
        select(func.max(RotationSeat.table_number)).where(
            RotationSeat.plan_id == plan.id
        )
    )
    return most or 0


def paper_locale(event: Event) -> str:
    """The language of the event's printouts: its organization's default (the
    paper is read in the room, whoever prints it)."""
    return event.org.default_locale or "en"


def cards_html(event: Event, tables: int) -> str:
    """The table cards as print HTML: one card per table number."""
    with force_locale(paper_locale(event)):
        return render_template(
            "rotations/print_cards.html", event=event, numbers=range(1, tables + 1)
        )


def drawing(event: Event, plan: RotationPlan, kind: str) -> Drawing:
    """The plan's schedule or table cards as they would be drawn now (no drawing)."""
    if kind == SCHEDULE:
        html, pages = _schedule(event, plan)
    else:
        pages = _table_count(plan)  # a card a page
        html = cards_html(event, pages)
    # The HTML is in the printout's language, and the key names it as well.
    digest = hashlib.sha256(f"{plan.id}\n{kind}\n{paper_locale(event)}\n".encode())
    digest.update(html.encode())
    printout = Printout(
        area="rotations",
        event_id=event.id,
        org_id=event.org_id,
        variant=kind,
        fingerprint=digest.hexdigest(),
        filename=f"{'schedule' if kind == SCHEDULE else 'tables'}-{event.id}.pdf",
        job_kind=PRINTOUT_JOB,
    )
    return Drawing(printout, html, len(plan.participant_ids or ()), pages)


def draw(found: Drawing, progress: Callable[[float], None] | None = None) -> bytes:
    """Draw the PDF into its cache file; ``progress`` hears the fraction done."""
    return store(found.printout, render_pdf(found.html, found.pages, progress))


def render_pdf(
    html: str,
    pages: int = 0,
    progress: Callable[[float], None] | None = None,
) -> bytes:
    """Print HTML as a PDF, reporting progress by the pages laid out of ``pages``
    expected (then writing the PDF) when ``progress`` is given."""
    document = HTML(
        string=html,
        base_url=STATIC_FOLDER.as_uri() + "/",
        url_fetcher=StaticOnlyFetcher(),
    )
    if progress is None:
        return document.write_pdf(font_config=font_config())

    def laid_out(count: int) -> None:
        progress(LAYOUT_SHARE * min(1.0, count / max(pages, 1)))

    with _pages_laid_out(laid_out):
        rendered = document.render(font_config=font_config())
    progress(LAYOUT_SHARE)
    pdf = rendered.write_pdf()
    progress(1.0)
    return pdf


class _LayoutPages(logging.Handler):
    """Counts the pages WeasyPrint lays out in one thread (from its progress log)."""

    def __init__(self, callback: Callable[[int], None]) -> None:
        super().__init__(logging.INFO)
        self.thread = threading.get_ident()
        self.callback = callback
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and "Creating layout - Page" in record.msg:
            self.count += 1
            self.callback(self.count)


@contextmanager
def _pages_laid_out(callback: Callable[[int], None]) -> Iterator[None]:
    """Call ``callback(pages so far)`` as WeasyPrint lays out each page.

    WeasyPrint says so only in its progress log, at INFO: while this runs that
    logger takes INFO and keeps its records to itself (the worker draws one PDF at
    a time; the web never asks for progress).
    """
    logger = logging.getLogger("weasyprint.progress")
    handler = _LayoutPages(callback)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
