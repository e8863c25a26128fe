"""The programme dashboard: every section for one filter (``docs/insights.md``).

The page, the programme report and ``GET /api/v1/insights`` all start here, so
they show the same figures. Each section is a plain function over the
database with a fixed number of statements, so the dashboard has one too.

``parallel=True`` (the page and the API) asks the three heavy sections (funnel,
silo map, topics: each a few hundred milliseconds at 50,000 registrations) at
once, each on a connection of its own, so the database works on them together
(``docs/performance.md``). Each sees what is committed, so a caller with
uncommitted writes of its own (a test, a service) asks one after another, the
default.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import current_app

from mixer.extensions import db
from mixer.insights.events import event_figures
from mixer.insights.figures import Dashboard
from mixer.insights.filters import InsightFilter
from mixer.insights.funnel import funnel
from mixer.insights.people import people_figures
from mixer.insights.silos import silo_map
from mixer.insights.topics import topic_gaps
from mixer.orgs.models import Organization

Section = Callable[[Organization, InsightFilter], Any]
HEAVY: tuple[Section, ...] = (funnel, silo_map, topic_gaps)


def dashboard(
    org: Organization, flt: InsightFilter, *, parallel: bool = False
) -> Dashboard:
    """The funnel, silo map, topic gaps, events and people of ``org`` for ``flt``."""
    if parallel:
        heavy = _at_once(org.id, flt)
    else:
        heavy = [section(org, flt) for section in HEAVY]
    figures, silos, topics = heavy
    return Dashboard(
        funnel=figures,
        silos=silos,
        topics=topics,
        events=event_figures(org, flt),
        people=people_figures(org, flt),
    )


def _at_once(org_id: int, flt: InsightFilter) -> list[Any]:
    """The heavy sections, each in a thread with its own application context
    (so its own session and connection), results in ``HEAVY`` order."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run(section: Section) -> Any:
        with app.app_context():
            try:
                org = db.session.get(Organization, org_id)
                if org is None:  # pragma: no cover - the caller has just read it
                    raise LookupError(f"organization {org_id} is gone")
                return section(org, flt)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(
        max_workers=len(HEAVY), thread_name_prefix="insights"
    ) as pool:
        return list(pool.map(run, HEAVY))
