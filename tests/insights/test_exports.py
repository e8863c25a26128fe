"""CSV and XLSX exports (``mixer.insights.exports``): every dataset downloaded in
both formats by an organizer and compared with the hand-built fixture's rows,
written out below; spreadsheet safety; privacy; who may export; bad filters."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from mixer import clock
from mixer.checkin.services import check_in
from mixer.connections.models import ConnectionNote
from mixer.connections.services import connect
from mixer.events.registration import cancel_registration
from mixer.extensions import db
from mixer.followup.models import FollowupChoice, FollowupPrompt
from mixer.formatting import spreadsheet_text
from mixer.insights.params import InsightsError, parse_filter
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import MeetingStatus, PairFeedback, PairMeeting
from tests.helpers import PASSWORD

HYPER = '=HYPERLINK("http://x")'
SUM = "@SUM(A1)"
PHONE = "+1 555 0100"
ZOE = "Zoë\nMüller"  # a name kept from before names were cleaned
# Private words (a "we talked" note, a reflection, what helped, end-of-term
# feedback) and another organization's name: in no export.
PRIVATE = (
    "NOTE-SECRET",
    "REFLECTION-SECRET",
    "WHAT-HELPED-SECRET",
    "FEEDBACK-SECRET",
    "Elsewhere",
)
FEW = "fewer than 5"


def at(day: int, hour: int, minute: int = 0, month: int = 2) -> datetime:
    """An instant of 2026 (UTC)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class World:
    """Acme's programme: ids the expected rows and the requests need."""

    pairs: tuple[int, int]
    winter: int
    platform: int
    other_department: int
    other_event: int


@pytest.fixture
def world(frozen, org, organizer, make_org, make_user, make_event, make_registration):
    """A Mentor Mixer and a lunch in February 2026, a workshop in 2025; five
    members in Platform, Sales or none, a guest; check-ins, meetings, answers,
    two pairs; private words everywhere they may be written. The clock ends at
    ``NOW`` (2 March 2026)."""
    clock.freeze(datetime(2025, 6, 1, 9, tzinfo=UTC))
    people = {}
    for key, name, dept in [
        ("hyper", HYPER, "Platform"),
        ("sum", SUM, "Sales"),
        ("zoe", "Zoe Muller", "Platform"),
        ("dan", "Dan Dupont", "Sales"),
        ("eve", "Ève Martin", None),
    ]:
        people[key] = make_user(
            org, name=name, email=f"{key}@acme.example.org", department=dept
        )
    old = make_event(
        org,
        organizer,
        kind="workshop",
        title="Old Workshop",
        starts_at=datetime(2025, 6, 10, 9, tzinfo=UTC),
    )
    make_registration(
        old,
        email="dan@acme.example.org",
        name="Dan Dupont",
        user=people["dan"],
        source="member",
    )
    clock.freeze(at(5, 9, month=1))
    winter = make_event(
        org,
        organizer,
        kind="mentor_mixer",
        title="Winter Mixer",
        starts_at=at(10, 17),
        ends_at=at(10, 19),
        capacity=20,
        rounds=3,
        minutes_per_round=8,
    )
    lunch = make_event(
        org, organizer, title="Lunch & Learn: Python", starts_at=at(20, 12)
    )
    regs = {}
    for key in ("hyper", "sum", "zoe", "dan", "eve"):
        user = people[key]
        regs[key] = make_registration(
            winter,
            email=user.email,
            name=user.name,
            user=user,
            source="member",
            role="either",
        )
    regs["guest"] = make_registration(
        winter,
        email="phone@example.net",
        name=PHONE,
        role="either",
        department="Visitors",
    )
    regs["zoe"].name = ZOE
    lunch_regs = {
        key: make_registration(
            lunch,
            email=people[key].email,
            name=people[key].name,
            user=people[key],
            source="member",
        )
        for key in ("hyper", "sum", "dan")
    }
    cancel_registration(lunch_regs["dan"], notify=False)
    for minute, key in enumerate(("hyper", "sum", "zoe", "dan", "guest"), start=5):
        clock.freeze(at(10, 17, minute))
        check_in(regs[key])
    connect(winter.id, regs["hyper"].id, regs["sum"].id, "rotation", 1)
    seen = connect(winter.id, regs["zoe"].id, regs["guest"].id, "scan")
    connect(winter.id, regs["hyper"].id, regs["dan"].id, "manual")
    db.session.add(
        ConnectionNote(connection=seen, author_id=regs["zoe"].id, body="NOTE-SECRET")
    )
    clock.freeze(at(20, 12, 3))
    check_in(lunch_regs["hyper"])
    answers = [
        (regs["hyper"], 5, "Great\nsession – très bien"),
        (regs["sum"], 4, "=1+1"),
        (regs["zoe"], 4, None),
        (regs["dan"], 2, "Too loud"),
        (regs["guest"], 3, None),
        (lunch_regs["hyper"], 5, "Lovely lunch"),
    ]
    for reg, rating, comment in answers:
        prompt = FollowupPrompt(
            event_id=reg.event_id,
            registration_id=reg.id,
            user_id=reg.user_id,
            rating=rating,
            comment=comment,
            reflection="REFLECTION-SECRET",
            answered_at=at(21, 9),
        )
        db.session.add(prompt)
        if reg is regs["hyper"]:
            prompt.choices.append(
                FollowupChoice(other_id=regs["sum"].id, choice="mentee")
            )
    clock.freeze(at(11, 10))
    mentoring = create_pair(
        org,
        people["hyper"],
        people["sum"],
        kind="mentoring",
        mentor=people["sum"],
        event=winter,
    )
    first = mentoring.meetings[0]
    first.due_at = at(25, 16)
    first.record(MeetingStatus.MET, people["hyper"], "WHAT-HELPED-SECRET", at(25, 17))
    db.session.add(PairMeeting(pair=mentoring, number=2, due_at=at(11, 16, month=3)))
    db.session.add(
        PairFeedback(
            pair=mentoring, user_id=people["sum"].id, rating=5, helped="FEEDBACK-SECRET"
        )
    )
    clock.freeze(at(15, 9))
    peers = create_pair(
        org, people["zoe"], people["eve"], kind="peer", source="request"
    )
    db.session.delete(peers.meetings[0])  # a pair with no check-in yet
    people["zoe"].name = ZOE  # after the pairs' introductions went
    elsewhere = make_org(slug="elsewhere", name="Elsewhere")
    stranger = make_user(
        elsewhere,
        role="organizer",
        email="olaf@elsewhere.example.org",
        department="Ops",
    )
    their_event = make_event(
        elsewhere, stranger, title="Elsewhere event", starts_at=at(18, 12)
    )
    make_registration(their_event, email="x@elsewhere.example.org", name="Elsewhere X")
    db.session.commit()
    clock.freeze(frozen)
    return World(
        pairs=(mentoring.id, peers.id),
        winter=winter.id,
        platform=org.department_named("Platform").id,
        other_department=elsewhere.department_named("Ops").id,
        other_event=their_event.id,
    )


def expected(world: World) -> dict[str, list[tuple]]:
    """Every dataset of 2026 as the fixture made it (UTC; counts 1-4 hidden)."""
    w = ("Winter Mixer", date(2026, 2, 10))
    ll = ("Lunch & Learn: Python", date(2026, 2, 20))
    mentoring, peers = world.pairs
    hyper, sum_, zoe = HYPER, SUM, ZOE
    e, mm, ll_ = "@acme.example.org", "Mentor Mixer", "Lunch & Learn"
    return {
        "attendees": [
            (*w, mm, hyper, f"hyper{e}", "Platform", "registered", at(10, 17, 5)),
            (*w, mm, sum_, f"sum{e}", "Sales", "registered", at(10, 17, 6)),
            (*w, mm, zoe, f"zoe{e}", "Platform", "registered", at(10, 17, 7)),
            (*w, mm, "Dan Dupont", f"dan{e}", "Sales", "registered", at(10, 17, 8)),
            (*w, mm, "Ève Martin", f"eve{e}", None, "registered", None),
            (*w, mm, PHONE, "phone@example.net", "Visitors", "registered",
             at(10, 17, 9)),
            (*ll, ll_, hyper, f"hyper{e}", "Platform", "registered", at(20, 12, 3)),
            (*ll, ll_, sum_, f"sum{e}", "Sales", "registered", None),
            (*ll, ll_, "Dan Dupont", f"dan{e}", "Sales", "cancelled", None),
        ],
        "connections": [
            (*w, hyper, "Platform", sum_, "Sales", "rotation round"),
            (*w, zoe, "Platform", PHONE, "Visitors", "badge scan"),
            (*w, hyper, "Platform", "Dan Dupont", "Sales", "added by an organizer"),
        ],
        "pairs": [
            (mentoring, sum_, hyper, "mentoring", "active", date(2026, 2, 11),
             1, date(2026, 2, 25), "met", date(2026, 2, 25)),
            (mentoring, sum_, hyper, "mentoring", "active", date(2026, 2, 11),
             2, date(2026, 3, 11), "scheduled", None),
            (peers, zoe, "Ève Martin", "peer", "active", date(2026, 2, 15),
             None, None, None, None),
        ],
        "answers": [  # the lunch had one answer: too few to show
            (*w, 5, "Great\nsession – très bien"),
            (*w, 4, None),
            (*w, 4, "=1+1"),
            (*w, 3, None),
            (*w, 2, "Too loud"),
        ],
        "ratings": [
            (*w, mm, 5, 3.6, 0, FEW, FEW, FEW, FEW),
            (*ll, ll_, FEW, None, 0, 0, 0, 0, FEW),
        ],
    }  # fmt: skip


HEADINGS = {
    "attendees": ["Event", "Event date", "Kind", "Name", "E-mail", "Department",
                  "Registration status", "Checked in (UTC)"],
    "connections": ["Event", "Event date", "Person A", "Department A", "Person B",
                    "Department B", "How they met"],
    "pairs": ["Pair", "Mentor or person A", "Mentee or person B", "Kind",
              "Pair status", "Started", "Check-in", "Due", "Outcome", "Reported"],
    "answers": ["Event", "Event date", "Rating", "Comment"],
    "ratings": ["Event", "Event date", "Kind", "Ratings", "Average rating", "1 star",
                "2 stars", "3 stars", "4 stars", "5 stars"],
}  # fmt: skip
# What the CSV must hold instead of text that a spreadsheet would run.
CSV_TEXT = {HYPER: "'" + HYPER, SUM: "'@SUM(A1)", "=1+1": "'=1+1"}


def as_csv(value) -> str:
    """An expected value as the CSV writes it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()  # 2026-02-10T17:05:00+00:00
    if isinstance(value, date | int | float):
        return str(value)
    return CSV_TEXT.get(value, value)


def as_xlsx(value):
    """An expected value as openpyxl reads it back (dates as naive datetimes)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value


def download(client, path: str):
    """A finished download, checked for the headers every export carries."""
    resp = client.get(path, buffered=True)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    return resp


def test_every_dataset_in_both_formats_matches_the_fixture(
    client, auth, world, organizer
):
    auth.login(organizer.email, PASSWORD)
    rows = expected(world)
    query = "?from=2026-01-01&to=2026-12-31"
    for dataset, want in rows.items():
        path = f"/o/acme/insights/export/{dataset}"
        resp = download(client, f"{path}.csv{query}")
        assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert resp.headers["Content-Disposition"] == (
            f'attachment; filename="acme-{dataset}-2026-01-01-2026-12-31.csv"'
        )
        assert resp.data.startswith("\ufeff".encode())  # Excel reads UTF-8
        text = resp.data.decode("utf-8-sig")
        got = list(csv.reader(io.StringIO(text, newline="")))
        assert got == [HEADINGS[dataset]] + [[as_csv(v) for v in r] for r in want]
        resp = download(client, f"{path}.xlsx{query}")
        assert resp.headers["Content-Disposition"].endswith('-2026-12-31.xlsx"')
        book = load_workbook(io.BytesIO(resp.data))
        sheet = book.worksheets[0]
        got = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert got == [HEADINGS[dataset]] + [[as_xlsx(v) for v in r] for r in want]
        # openpyxl reads a formula back as its text: the type tells them apart.
        assert {c.data_type for r in sheet.iter_rows() for c in r} <= {"s", "n", "d"}
        # Nothing private in any part of the workbook, nor in the CSV.
        with zipfile.ZipFile(io.BytesIO(resp.data)) as archive:
            xml = "".join(archive.read(n).decode() for n in archive.namelist())
        for secret in PRIVATE:
            assert secret not in text and secret not in xml, (dataset, secret)
        if dataset != "attendees":  # e-mail addresses only there
            assert "@" not in text.replace(SUM, "") + xml.replace(SUM, "")
        if dataset == "attendees":
            assert text.splitlines()[1].split(",")[3] == '"\'=HYPERLINK(""http://x"")"'
            name, phone = sheet["D2"], sheet["D7"]
            assert (name.data_type, name.value) == ("s", HYPER)  # text, not a formula
            assert (phone.data_type, phone.value) == ("s", PHONE)
            assert f",{PHONE}," in text
            assert sheet["D4"].value == ZOE and sheet["D4"].alignment.wrap_text
            assert sheet["H2"].is_date and sheet["B2"].number_format == "yyyy-mm-dd"


def test_the_filter_narrows_every_dataset(client, auth, world, organizer):
    """Department (either side of a meeting; answers fall under 5), kind, one
    event (its own day), and the default period (the year up to today)."""
    auth.login(organizer.email, PASSWORD)

    def rows(dataset: str, query: str) -> list[list[str]]:
        path = f"/o/acme/insights/export/{dataset}.csv?{query}"
        return list(
            csv.reader(io.StringIO(download(client, path).data.decode("utf-8-sig")))
        )[1:]

    platform = f"department={world.platform}&from=2026-01-01&to=2026-12-31"
    assert [r[3] for r in rows("attendees", platform)] == [
        "'" + HYPER,
        ZOE,
        "'" + HYPER,
    ]
    assert [r[6] for r in rows("connections", platform)] == [
        "rotation round",
        "badge scan",
        "added by an organizer",
    ]
    mentoring, peers = (str(p) for p in world.pairs)
    assert [r[0] for r in rows("pairs", platform)] == [mentoring, mentoring, peers]
    assert rows("answers", platform) == []  # two answers at the mixer: too few
    assert [r[3:5] for r in rows("ratings", platform)] == [[FEW, ""], [FEW, ""]]
    lunches = rows("attendees", "kind=lunch_and_learn&from=2026-01-01")
    assert {r[0] for r in lunches} == {"Lunch & Learn: Python"} and len(lunches) == 3
    assert rows("pairs", "kind=lunch_and_learn&from=2026-01-01") == []
    one = download(client, f"/o/acme/insights/export/answers.xlsx?event={world.winter}")
    assert one.headers["Content-Disposition"] == (
        'attachment; filename="acme-answers-2026-02-10-2026-02-10-'
        f'event-{world.winter}.xlsx"'
    )
    assert load_workbook(io.BytesIO(one.data)).worksheets[0].max_row == 6
    everything = rows("attendees", "")  # 2025-03-03 to 2026-03-02
    assert [r[0] for r in everything[:1]] == ["Old Workshop"] and len(everything) == 10


def test_who_may_export_and_what_filter_is_refused(client, auth, world, org, organizer):
    path = "/o/acme/insights/export/pairs.csv"
    assert client.get(path).status_code == 302  # to the sign-in page
    auth.login("hyper@acme.example.org", PASSWORD)
    assert client.get(path).status_code == 403  # a member
    auth.logout()
    auth.login("olaf@elsewhere.example.org", PASSWORD)
    assert client.get(path).status_code == 404  # another organization's organizer
    auth.logout()
    auth.login(organizer.email, PASSWORD)
    for wrong in (
        "/o/acme/insights/export/choices.csv",
        "/o/acme/insights/export/pairs.pdf",
    ):
        assert client.get(wrong).status_code == 404
    refused = {
        "from=2026-02-30": "“From” must be a date written as YYYY-MM-DD",
        "to=20260101": "“To” must be a date written as YYYY-MM-DD",
        "from=2026-03-01&to=2026-02-01": "“From” must be on or before “To”.",
        f"department={world.other_department}": "not one of Acme&#39;s.",
        "department=99999999999": "That department is not one of Acme",
        "kind=party": "The kind must be one of mentor_mixer (Mentor Mixer)",
        f"event={world.other_event}": "That event is not one of Acme&#39;s.",
        "from=9999-12-31": "“From” must be between 1970 and 2199.",
    }
    for query, message in refused.items():
        resp = client.get(f"{path}?{query}")
        assert resp.status_code == 400, query
        assert message in resp.get_data(as_text=True), query
    with pytest.raises(InsightsError, match="“From” must be a date") as refusal:
        parse_filter(org, {"from": "yesterday", "kind": "party", "department": "x"})
    assert refusal.value.fields.keys() == {"from", "kind", "department"}


def test_spreadsheet_text_quotes_formulas_but_not_numbers_or_phones():
    cases = {
        HYPER: "'" + HYPER, "@SUM(A1)": "'@SUM(A1)", "+1+1": "'+1+1",
        "-cmd|x": "'-cmd|x",
        "\tx": "'\tx", "\rx": "'\rx", "-": "'-", "+44 20 7946 0958": "+44 20 7946 0958",
        PHONE: PHONE, "-3": "-3", "+1.5e3": "+1.5e3", "Zoë\nMüller": "Zoë\nMüller",
        None: "", 7: "7",
    }  # fmt: skip
    assert {k: spreadsheet_text(k) for k in cases} == cases
