"""The programme dashboard: every section for one filter (``docs/insights.md``).

The page, the programme report and ``GET /api/v1/insights`` all start here, so
they show the same figures. Each section is a plain function over the
database with a fixed number of statements, so the dashboard has one too.
"""

from __future__ import annotations

from mixer.insights.events import event_figures
from mixer.insights.figures import Dashboard
from mixer.insights.filters import InsightFilter
from mixer.insights.funnel import funnel
from mixer.insights.people import people_figures
from mixer.insights.silos import silo_map
from mixer.insights.topics import topic_gaps
from mixer.orgs.models import Organization


def dashboard(org: Organization, flt: InsightFilter) -> Dashboard:
    """The funnel, silo map, topic gaps, events and people of ``org`` for ``flt``."""
    return Dashboard(
        funnel=funnel(org, flt),
        silos=silo_map(org, flt),
        topics=topic_gaps(org, flt),
        events=event_figures(org, flt),
        people=people_figures(org, flt),
    )
