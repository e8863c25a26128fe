"""Report PDFs for leadership: one event on one page, or the programme for a period.

Both take their figures from ``dashboard()`` (the event report narrows the filter
to the event), so a report says what the dashboard says, with the same privacy
rule: counts of 1 to 4 people print as "fewer than 5". The pictures are bars
drawn by CSS, which WeasyPrint lays out with no SVG to parse. As for badges and
certificates, WeasyPrint may load only our own static files (``StaticOnlyFetcher``)
and the Noto font stack prints any script.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import flask_babel
from babel import numbers
from sqlalchemy import func, select
from weasyprint import HTML

from mixer import clock
from mixer.badges.fetcher import STATIC_FOLDER, StaticOnlyFetcher
from mixer.badges.fonts import FONT_STACK
from mixer.badges.render import font_config, pdf_templates
from mixer.errors import DomainError, NotFound
from mixer.events.models import KIND_LABELS, Event
from mixer.extensions import db
from mixer.formatting import format_number, localtime
from mixer.i18n import current_locale, text_direction
from mixer.insights import cache
from mixer.insights.events import event_figures
from mixer.insights.figures import Count, Dashboard, EventFigures, Funnel, SiloMap
from mixer.insights.filters import InsightFilter
from mixer.insights.funnel import funnel
from mixer.insights.silos import silo_map
from mixer.orgs.models import Department, Organization
from mixer.pairs.models import Pair


class NotHeld(DomainError):
    """The event has not taken place (or was cancelled): nothing to report yet."""

    status = 409
    code = "not_held"


@dataclass(frozen=True)
class EventReport:
    """Everything the one-page event report prints."""

    org_name: str
    event: Event
    kind_label: str
    # The sections it prints (topics and people describe the organization,
    # not one event, so they are not asked for).
    events: EventFigures
    funnel: Funnel
    silos: SiloMap
    pairs_formed: Count
    made_on: date
    when: str  # the start in the event's time zone
    computed_at: datetime  # counted for this report, now


@dataclass(frozen=True)
class ProgrammeReport:
    """Everything the programme report prints."""

    org_name: str
    flt: InsightFilter
    scope: str  # "All departments · every kind of event"
    figures: Dashboard
    made_on: date
    computed_at: datetime  # the dashboard's snapshot: when it was counted


def percent(share: float | None) -> str:
    """A share (0..1) as "62 %", or "—" when it is hidden or unknown."""
    if share is None:
        return "—"
    return flask_babel.gettext(
        "%(percent)s %%", percent=format_number(round(share * 100))
    )


def event_report(org: Organization, event_id: int) -> EventReport:
    """The figures of one held event of ``org`` (404 for another's), from its day."""
    event = db.session.scalar(
        select(Event).where(Event.id == event_id, Event.org_id == org.id)
    )
    if event is None:
        raise NotFound(flask_babel.gettext("No such event here."))
    day = event.starts_at.date()
    flt = InsightFilter(start=day, end=day, event_id=event.id)
    events = event_figures(org, flt)
    if events.held == 0:  # asked first: a refusal costs no funnel or silo map
        raise NotHeld(
            flask_babel.gettext("A report exists once the event has taken place.")
        )
    formed = db.session.scalar(
        select(func.count(Pair.id)).where(
            Pair.org_id == org.id, Pair.event_id == event.id
        )
    )
    return EventReport(
        org_name=org.name,
        event=event,
        kind_label=KIND_LABELS[event.kind],
        events=events,
        funnel=funnel(org, flt),
        silos=silo_map(org, flt),
        pairs_formed=Count(int(formed or 0)),
        made_on=clock.now().date(),
        when=localtime(event.starts_at, event.timezone),
        computed_at=clock.now(),
    )


def programme_report(org: Organization, flt: InsightFilter) -> ProgrammeReport:
    """The programme's figures for a filter, with the filter said in words."""
    _ = flask_babel.gettext
    parts = [_("All departments")]
    if flt.department_id is not None:
        name = db.session.scalar(
            select(Department.name).where(
                Department.id == flt.department_id, Department.org_id == org.id
            )
        )
        parts = [_("Department: %(name)s", name=name)]
    parts.append(
        _("%(kind)s events", kind=KIND_LABELS[flt.kind])
        if flt.kind
        else _("every kind of event")
    )
    # The dashboard's snapshot (stored, or counted now and stored): the report
    # says the same figures as the page, and when they were counted.
    snap = cache.snapshot(org, flt)
    return ProgrammeReport(
        org_name=org.name,
        flt=flt,
        scope=" · ".join(parts),
        figures=snap.figures,
        made_on=clock.now().date(),
        computed_at=snap.computed_at,
    )


# The PDF templates' environment with the words translated (``_``, ``ngettext``,
# ``{% trans %}``) in the language in force: the request's, or ``force_locale``'s.
report_templates = pdf_templates.overlay()
report_templates.add_extension("jinja2.ext.i18n")
report_templates.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=lambda text, **kw: flask_babel.gettext(text, **kw),
    ngettext=lambda one, many, n, **kw: flask_babel.ngettext(one, many, n, **kw),
    newstyle=True,
)
report_templates.filters["number"] = format_number
report_templates.filters["localtime"] = localtime


def one_decimal(value: float) -> str:
    """A rating as "4.0" (German "4,0"): one decimal, in the language in force."""
    return numbers.format_decimal(value, format="#,##0.0", locale=current_locale())


report_templates.filters["one_decimal"] = one_decimal


def render_report_html(
    report: EventReport | ProgrammeReport, locale: str | None = None
) -> str:
    """The HTML WeasyPrint turns into the report (exposed for tests), in
    ``locale`` (default: the language in force, e.g. the request's)."""
    name = "event" if isinstance(report, EventReport) else "programme"
    template = report_templates.get_template(f"insights/report_{name}.html")
    with _in(locale):
        language = current_locale()
        return template.render(
            report=report,
            percent=percent,
            font_stack=FONT_STACK,
            locale=language,
            text_direction=text_direction(language),
        )


def _in(locale: str | None) -> AbstractContextManager[Any]:
    """``force_locale(locale)``, or nothing when the language in force stays."""
    return flask_babel.force_locale(locale) if locale else nullcontext()


def render_report_pdf(
    report: EventReport | ProgrammeReport, locale: str | None = None
) -> bytes:
    """The report as PDF bytes, in ``locale`` (default: the language in force)."""
    return HTML(
        string=render_report_html(report, locale),
        base_url=STATIC_FOLDER.as_uri() + "/",
        url_fetcher=StaticOnlyFetcher(),
    ).write_pdf(font_config=font_config())


def file_name(report: EventReport | ProgrammeReport, slug: str) -> str:
    """``acme-event-12-report.pdf`` or ``acme-programme-2026-01-01-2026-12-31.pdf``."""
    if isinstance(report, EventReport):
        return f"{slug}-event-{report.event.id}-report.pdf"
    return f"{slug}-programme-{report.flt.start}-{report.flt.end}.pdf"
