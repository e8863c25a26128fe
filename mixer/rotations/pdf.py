"""Printable rotations: the full schedule and one card per table (WeasyPrint).

The HTML holds names typed by attendees, so WeasyPrint gets the badges' restricted
fetcher (our static files and ``data:`` URIs only; never ``file://`` elsewhere or
the network). The pages use no external resources at all.
"""

from __future__ import annotations

from flask import render_template
from weasyprint import HTML

from mixer.badges.fetcher import STATIC_FOLDER, StaticOnlyFetcher
from mixer.events.models import Event
from mixer.rotations import services
from mixer.rotations.models import RotationPlan


def _pdf(html: str) -> bytes:
    return HTML(
        string=html,
        base_url=STATIC_FOLDER.as_uri() + "/",
        url_fetcher=StaticOnlyFetcher(),
    ).write_pdf()


def schedule_html(event: Event, plan: RotationPlan) -> str:
    """The schedule as print HTML: per round, every table and who sits out."""
    return render_template(
        "rotations/print_schedule.html",
        event=event,
        plan=plan,
        rounds=services.plan_data(plan)["rounds"],
        regs=services.names_of(plan),
    )


def render_schedule_pdf(event: Event, plan: RotationPlan) -> bytes:
    """The full schedule of every round as a PDF."""
    return _pdf(schedule_html(event, plan))


def render_table_cards_pdf(event: Event, plan: RotationPlan) -> bytes:
    """One A6-landscape card per table number, to stand on each table."""
    tables = max(
        (len(r["tables"]) for r in services.plan_data(plan)["rounds"]), default=0
    )
    return _pdf(
        render_template(
            "rotations/print_cards.html", event=event, numbers=range(1, tables + 1)
        )
    )
