"""The programme dashboard page: who may see it, the filter form's refusals, and
every figure of a hand-built dashboard in its pictures and tables."""

from __future__ import annotations

import dataclasses
import re
from html import unescape
from html.parser import HTMLParser

from flask import g, render_template
from werkzeug.datastructures import MultiDict

from mixer.extensions import db
from mixer.insights import charts
from mixer.insights.figures import Count, rate
from mixer.insights.filters import InsightFilter
from mixer.insights.forms import FilterForm
from mixer.orgs.models import Department
from tests.insights.hand_built import CELLS, DEPARTMENTS, STAGES, hand_built


class Tables(HTMLParser):
    """Every ``<table>`` of a page: its caption (or label) and rows of cell text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._caption = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            label = dict(attrs).get("aria-labelledby", "")
            self.tables.append({"caption": label, "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "caption":
            self._caption, self.tables[-1]["caption"] = True, ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            self.tables[-1]["rows"][-1].append(text)
            self._cell = None
        elif tag == "caption":
            self._caption = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._caption:
            self.tables[-1]["caption"] += data

    def named(self, start: str) -> list[list[str]]:
        """The rows of the table whose caption (or label id) starts with ``start``."""
        found = [t for t in self.tables if t["caption"].strip().startswith(start)]
        assert len(found) == 1, [t["caption"] for t in self.tables]
        return found[0]["rows"]


def _page(app, org, organizer, board, **args) -> str:
    """The dashboard template rendered for ``board`` as the view would."""
    from mixer.insights.views import export_url
    from mixer.orgs.access import membership_for

    with app.test_request_context(f"/o/{org.slug}/insights", query_string=args):
        g.org = org
        g.membership = membership_for(organizer, org.id)
        form = FilterForm(MultiDict(), org=org)
        assert form.validate()
        return render_template(
            "insights/dashboard.html",
            form=form,
            flt=InsightFilter.default(),
            data=board,
            params=form.params(),
            charts=charts,
            rate=rate,
            export_url=export_url,
        )


# ---------------------------------------------------------------------------
# Who may see it


def test_organizers_only_members_403_outsiders_404(
    client, auth, org, organizer, make_user, make_org
):
    member = make_user(org, name="Mo Member")
    other = make_org(slug="other", name="Other Org")
    outsider = make_user(other, role="admin", name="Otto Outsider")
    assert client.get("/o/acme/insights").status_code == 302  # to the sign-in page

    auth.login(member.email)
    response = client.get("/o/acme/insights")
    assert response.status_code == 403
    assert "Programme insights" not in response.get_data(as_text=True)
    home = client.get("/o/acme/").get_data(as_text=True)
    assert "/o/acme/insights" not in home  # no "Insights" in a member's menu
    auth.logout()

    auth.login(outsider.email)
    assert client.get("/o/acme/insights").status_code == 404
    auth.logout()

    auth.login(organizer.email)
    html = client.get("/o/acme/insights").get_data(as_text=True)
    assert "<h1>Programme insights</h1>" in html
    assert (
        '<a href="/o/acme/insights" aria-current="page">Insights</a>' in html
    )  # the menu, next to Recognition
    # The programme report for the same filter (the default: the last year),
    # whose dates the form shows.
    assert 'href="/o/acme/insights/report.pdf?from=' in html
    default = InsightFilter.default()
    assert f'name="from" type="date" value="{default.start.isoformat()}"' in html
    assert f'name="to" type="date" value="{default.end.isoformat()}"' in html


def test_a_bad_filter_is_refused_inline_keeping_what_was_typed(
    client, auth, org, organizer
):
    db.session.add(Department(org_id=org.id, name="Sales"))
    db.session.commit()
    auth.login(organizer.email)

    def ask(**args) -> tuple[int, str]:
        response = client.get("/o/acme/insights", query_string=args)
        return response.status_code, unescape(response.get_data(as_text=True))

    status, html = ask(**{"from": "2026-03-10", "to": "2026-03-01", "kind": "workshop"})
    assert status == 400
    assert re.search(
        r'<input aria-describedby="from-help" aria-invalid="true" id="from"'
        r' name="from" type="date" value="2026-03-10">\s*'
        r'<small id="from-help" class="field-error">\s*'
        r"“From” must be on or before “To”.",
        html,
    ), html
    assert 'name="to" type="date" value="2026-03-01"' in html
    assert '<option selected value="workshop">Workshop</option>' in html
    assert "Correct the filter above to see the figures." in html
    assert '<h2 id="funnel-h"' not in html

    status, html = ask(**{"from": "2020-01-01", "to": "2025-01-01"})
    assert status == 400
    assert (
        "Choose a period of at most 5 years: “To” must be before 1 January 2025."
        in html
    )
    assert ask(**{"from": "2020-01-01", "to": "2024-12-31"})[0] == 200

    # Every mistake at once, each under its field, as typed.
    status, html = ask(**{"from": "2026-02-30", "to": "9999-12-31", "department": "7"})
    assert status == 400
    assert 'name="from" type="date" value="2026-02-30"' in html
    assert "“From” must be a date written as YYYY-MM-DD, like 2026-01-31." in html
    assert "“To” must be between 1970 and 2199." in html
    assert '<small id="department-help" class="field-error">' in html
    assert "That department is not one of Acme's." in html


def test_the_filter_form_reads_the_exports_parameter_names(app, org, frozen):
    sales = Department(org_id=org.id, name="Sales")
    db.session.add(sales)
    db.session.commit()
    with app.test_request_context():
        args = {"from": "2026-01-01", "to": "2026-02-28"}
        args |= {"department": str(sales.id), "kind": "workshop"}
        form = FilterForm(MultiDict(args), org=org)
        assert form.validate(), form.errors
        flt = form.to_filter()
        assert (flt.start.isoformat(), flt.end.isoformat()) == (
            args["from"],
            args["to"],
        )
        assert (flt.department_id, flt.kind) == (sales.id, "workshop")
        assert form.params() == args
        assert (form.department_name, form.kind_label, form.narrowed) == (
            "Sales",
            "Workshop",
            True,
        )
        # Nothing asked: the last twelve months, spelled out for the links.
        empty = FilterForm(MultiDict({"from": "", "kind": ""}), org=org)
        assert empty.validate() and not empty.narrowed
        assert empty.to_filter() == InsightFilter.default()
        assert empty.params() == {"from": "2025-03-03", "to": "2026-03-02"}


# ---------------------------------------------------------------------------
# What the page shows


def test_every_figure_in_its_picture_and_table(app, org, organizer):
    board = hand_built()
    html = unescape(_page(app, org, organizer, board))
    tables = Tables(html)

    assert (
        "fewer than 5 of 8 pairs from these events were still meeting at 90 days."
        in " ".join(re.sub(r"<[^>]+>", "", html).split())
    )
    # The funnel: a picture with a bar a stage, and its table.
    assert html.count('<g class="funnel-stage"') == len(STAGES)
    rows = tables.named("The funnel: registrations")
    assert rows[0] == ["Stage", "Registrations"]
    assert rows[1:] == [
        [label, "fewer than 5" if n < 5 else f"{n:,}"] for _, label, n in STAGES
    ]
    assert tables.named("activity-h") == [
        ["Age", "Pairs meeting", "Pairs that old", "Share"],
        ["30 days", "17", "22", "77 %"],
        ["60 days", "9", "14", "64 %"],
        ["90 days", "fewer than 5", "8", "not shown"],
    ]
    # Each figure's definition is one click away.
    assert html.count("<summary>How is this counted?</summary>") == 6
    assert "<dt>Chose someone</dt><dd>The definition of chose someone.</dd>" in html
    # The trend and its table.
    assert tables.named("Each stage of the funnel by month")[1][:3] == [
        "November 2025",
        "30",
        "24",
    ]
    # The silo map: a cell a pair of departments, the table with every count.
    assert html.count('<g class="cell"') == len(DEPARTMENTS) ** 2
    heat = tables.named("Meetings between people of each two departments")
    assert heat[0] == ["Department", *DEPARTMENTS]
    for name, row, counts in zip(DEPARTMENTS, heat[1:], CELLS, strict=True):
        assert row == [name] + ["fewer than 5" if 0 < n < 5 else str(n) for n in counts]
    assert "<strong>35 %</strong> of 77 meetings were across departments (27)." in html
    assert "<li>Sales and People and Culture Operations Europe</li>" in html
    # Topics, events, people.
    assert tables.named("Topics sought by more people")[1:] == [
        ["Negotiation", "14", "fewer than 5"],
        ["Public speaking", "9", "0"],
        ["Kubernetes", "fewer than 5", "fewer than 5"],
    ]
    assert "offered by 6" in html
    assert tables.named("Events by month")[1:3] == [
        ["November 2025", "2", "40", "30", "4.5 of 5"],
        ["December 2025", "1", "fewer than 5", "fewer than 5", "not shown"],
    ]
    assert (
        '<span class="stat">80 %</span> <span class="muted">attendance</span>' in html
    )
    assert "4.4 of 5" in html and "Ten minutes changed my week." in html
    assert tables.named("mentors-h")[1] == ["Ada Lovelace", "Engineering", "3", "3"]
    # Every table sits in a "Table: …" details, each picture is a named image.
    assert html.count("<summary>Table: ") == 5
    assert html.count('role="img" aria-labelledby=') == 5
    assert "Your organization" not in html and "No events" not in html


def test_hidden_counts_change_nothing_on_the_page(app, org, organizer):
    """The page with every hidden count at 1 is the page with them at 4."""

    def page_with(n: int) -> str:
        board = hand_built()
        swap = lambda c: Count(n) if c.hidden else c  # noqa: E731
        silos = dataclasses.replace(
            board.silos, cells=[[swap(c) for c in row] for row in board.silos.cells]
        )
        funnel = dataclasses.replace(
            board.funnel,
            stages=[
                dataclasses.replace(s, count=swap(s.count)) for s in board.funnel.stages
            ],
            active={d: (swap(a), swap(b)) for d, (a, b) in board.funnel.active.items()},
        )
        return _page(
            app, org, organizer, dataclasses.replace(board, silos=silos, funnel=funnel)
        )

    assert page_with(1) == page_with(4)


def test_no_events_explains_instead_of_empty_charts(app, org, organizer):
    board = hand_built()
    stages = [dataclasses.replace(s, count=Count(0)) for s in board.funnel.stages]
    empty = dataclasses.replace(
        board,
        funnel=dataclasses.replace(board.funnel, stages=stages, months=[], active={}),
        events=dataclasses.replace(board.events, held=0, months=[], testimonials=[]),
        silos=dataclasses.replace(board.silos, total=Count(0), across=Count(0)),
    )
    html = unescape(_page(app, org, organizer, empty))
    assert "No events in this period yet." in html
    assert 'href="/o/acme/events/new"' in html
    assert "<svg" not in html.split('id="topics-h"')[0]  # no empty pictures
    assert "No meetings recorded in this period yet." in html
    assert html.count('role="img"') == 1  # the topics picture only


def test_the_dashboard_and_its_report_in_german(app, org, organizer):
    """Words, numbers, months and pictures in German; the report in German and,
    right to left, in Arabic (docs/i18n.md)."""
    from datetime import UTC, date, datetime

    from flask_babel import force_locale

    from mixer.insights import reports

    board = hand_built()
    with force_locale("de"):
        html = unescape(_page(app, org, organizer, board))
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "<h1>Auswertungen des Programms</h1>" in html
    assert "<summary>Wie wird das gezählt?</summary>" in html
    assert "<summary>Tabelle: der Trichter</summary>" in html
    # Counts, shares and months as German writes them; small counts hidden.
    assert "weniger als 5 von 8 Paaren aus diesen Veranstaltungen" in text
    assert "fewer than" not in text
    assert "35 % von 77 Treffen waren abteilungsübergreifend (27)." in text
    assert "4,4 von 5" in text and "Dezember 2025" in text
    assert (
        '<title id="silo-map-title">Wer hat wen getroffen: Treffen nach Abteilung'
        in html
    )
    assert "Von" in text and "Alle Abteilungen" in text  # the filter form
    tables = Tables(html)
    assert tables.named("activity-h")[1] == ["30 Tage", "17", "22", "77 %"]

    report = reports.ProgrammeReport(
        org_name="Acme",
        flt=InsightFilter(date(2025, 11, 1), date(2026, 2, 28)),
        scope="Alle Abteilungen",
        figures=board,
        made_on=date(2026, 3, 1),
        computed_at=datetime(2026, 3, 1, 14, 5, tzinfo=UTC),
    )
    german = reports.render_report_html(report, locale="de")
    assert '<html lang="de" dir="ltr">' in german
    assert "Wirkt das Mentoring-Programm?" in german
    assert "Stand der Zahlen: 1. März 2026, 14:05 UTC." in german
    arabic = reports.render_report_html(report, locale="ar")
    assert '<html lang="ar" dir="rtl">' in arabic
    assert "هل ينجح برنامج الإرشاد؟" in arabic
    english = reports.render_report_html(report, locale="en")
    assert "Figures as of 01 Mar 2026 14:05 UTC." in english
