"""Creating, changing, cancelling and repeating events, called directly on a real
database (``mixer.events.lifecycle`` with the input rules of ``mixer.events.rules``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from mixer.events import lifecycle, rules
from mixer.events.models import Event, EventSession
from mixer.events.rules import EventError
from mixer.extensions import db
from mixer.jobs.models import Job

from .conftest import NOW, count_rows

GOOD = {
    "kind": "lunch_and_learn",
    "title": "Negotiation over lunch",
    "starts_at": datetime(2026, 3, 5, 12, 0),
    "ends_at": datetime(2026, 3, 5, 13, 0),
    "timezone": "Europe/Paris",
    "capacity": 20,
}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"ends_at": datetime(2026, 3, 5, 11, 0)}, "ends_at", "after the start"),
        ({"ends_at": datetime(2026, 3, 5, 12, 0)}, "ends_at", "after the start"),
        ({"capacity": 0}, "capacity", "between 1"),
        ({"capacity": -5}, "capacity", "between 1"),
        ({"kind": "rave"}, "kind", "Unknown kind"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Unknown time zone"),
        ({"title": "x" * 10_000}, "title", "at most 200"),
        ({"title": "   "}, "title", "required"),
        ({"online_url": "javascript:alert(1)"}, "online_url", "http"),
        # 02:30 does not exist in Paris on the night the clocks go forward.
        (
            {
                "starts_at": datetime(2026, 3, 29, 2, 30),
                "ends_at": datetime(2026, 3, 29, 4, 0),
            },
            "starts_at",
            "does not exist",
        ),
    ],
)
def test_bad_event_input_is_refused_naming_the_field(
    org, organizer, frozen, change, field, words
):
    with pytest.raises(EventError) as info:
        lifecycle.create_event(org, organizer, **{**GOOD, **change})
    db.session.rollback()
    assert info.value.field == field
    assert words in str(info.value)
    assert info.value.status == 400
    assert count_rows(Event) == 0


def test_times_are_read_in_the_event_zone_and_stored_in_utc(org, organizer, frozen):
    event = lifecycle.create_event(org, organizer, **GOOD)
    db.session.commit()
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.starts_at == datetime(2026, 3, 5, 11, 0, tzinfo=UTC)  # CET = UTC+1
    assert event.ends_at == datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    assert event.status == "draft"
    assert event.organizers == [organizer]
    assert event.when_text == "Thu 05 Mar 2026, 12:00–13:00 CET"


def test_each_kind_has_at_least_one_session(org, organizer, frozen):
    lunch = lifecycle.create_event(
        org, organizer, **GOOD, topic="Asking for a raise", speakers="Ana, Bo"
    )
    mixer = lifecycle.create_event(org, organizer, **{**GOOD, "kind": "mentor_mixer"})
    workshop = lifecycle.create_event(
        org,
        organizer,
        **{**GOOD, "kind": "workshop", "ends_at": datetime(2026, 3, 5, 17, 0)},
        agenda=rules.parse_agenda(
            "14:00 | Role play: the hard conversation | Chen\n"
            "12:00 | Welcome\n"
            "13:15 - Feedback that lands | Dee\n"
        ),
    )
    db.session.commit()
    assert [(s.title, s.speaker_name) for s in lunch.sessions] == [
        ("Asking for a raise", "Ana, Bo")
    ]
    assert [s.title for s in mixer.sessions] == [GOOD["title"]]
    assert (mixer.rounds, mixer.minutes_per_round) == (6, 8)
    assert [(s.title, s.speaker_name) for s in workshop.sessions] == [
        ("Welcome", None),
        ("Feedback that lands", "Dee"),
        ("Role play: the hard conversation", "Chen"),
    ]
    assert workshop.sessions[1].starts_at == datetime(2026, 3, 5, 12, 15, tzinfo=UTC)
    assert rules.agenda_text(workshop).splitlines()[0] == "12:00 | Welcome"


def test_agenda_outside_the_workshop_or_malformed_is_refused(org, organizer, frozen):
    for text, words in [
        ("18:00 | Too late", "outside the workshop"),
        ("half past nine | Title", "should look like"),
        ("25:00 | Title", "not a time"),
    ]:
        with pytest.raises(EventError) as info:
            lifecycle.create_event(
                org,
                organizer,
                **{**GOOD, "kind": "workshop"},
                agenda=rules.parse_agenda(text),
            )
        db.session.rollback()
        assert info.value.field == "agenda"
        assert words in str(info.value)
    assert count_rows(EventSession) == 0


def test_an_outsider_as_organizer_is_refused_without_naming_them(
    org, organizer, make_org, make_user, frozen
):
    other = make_org(slug="elsewhere", name="Elsewhere")
    stranger = make_user(other, name="Zelda Stranger")
    with pytest.raises(EventError) as refused:
        lifecycle.create_event(org, organizer, organizers=[stranger], **GOOD)
    assert refused.value.field == "organizers"
    assert "Zelda" not in str(refused.value)
    assert "members of Acme" in str(refused.value)
    db.session.rollback()
    assert count_rows(Event) == 0


def test_moving_an_event_moves_its_reminder(make_event, org, frozen):
    event = make_event(org, starts_at=NOW + timedelta(days=3))
    lifecycle.update_event(
        event,
        starts_at=event.starts_at + timedelta(days=7),
        ends_at=event.ends_at + timedelta(days=7),
    )
    db.session.commit()
    jobs = db.session.scalars(
        select(Job).where(Job.kind == "events.reminder").order_by(Job.id)
    ).all()
    assert [j.status for j in jobs] == ["cancelled", "pending"]
    assert jobs[1].run_at == event.starts_at - timedelta(days=1)


def test_duplicate_runs_it_again_next_month_at_the_same_wall_clock(
    org, organizer, frozen
):
    # The first Thursday of March 2026, noon in London (GMT, UTC+0) …
    event = lifecycle.create_event(
        org,
        organizer,
        **{**GOOD, "timezone": "Europe/London"},
    )
    db.session.commit()
    copy = lifecycle.duplicate_event(event, organizer)
    db.session.commit()
    # … becomes the first Thursday of April, noon BST (UTC+1).
    assert copy.starts_at == datetime(2026, 4, 2, 11, 0, tzinfo=UTC)
    assert copy.ends_at == datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
    assert copy.status == "draft" and copy.ical_uid != event.ical_uid
    assert copy.title == event.title and copy.organizers == [organizer]


def test_series_on_the_first_thursday_of_each_month(org, organizer, frozen):
    event = lifecycle.create_event(
        org, organizer, **{**GOOD, "timezone": "Europe/London"}
    )
    events = lifecycle.create_series(event, organizer, "monthly_weekday", 4)
    db.session.commit()
    assert [e.starts_at for e in events] == [
        datetime(2026, 3, 5, 12, tzinfo=UTC),
        datetime(2026, 4, 2, 11, tzinfo=UTC),
        datetime(2026, 5, 7, 11, tzinfo=UTC),
        datetime(2026, 6, 4, 11, tzinfo=UTC),
    ]
    assert {e.series_id for e in events} == {event.series_id}
    assert event.series.description == "The first Thursday of every month"
    # Stored in English (a record), said in the page's language when shown.
    with force_locale("de"):
        assert lifecycle.series_label(event.series.description) == (
            "Am ersten Donnerstag jedes Monats"
        )
        assert lifecycle.series_label("Every other Monday") == "Jeden zweiten Montag"
        assert lifecycle.series_label("The 3rd of every month") == "Am 3. jedes Monats"
        assert lifecycle.series_label("Typed by hand") == "Typed by hand"
    with force_locale("ar"):
        assert lifecycle.series_label("Every Sunday") == "كل يوم الأحد"
    with pytest.raises(EventError) as info:
        lifecycle.create_series(event, organizer, "monthly_weekday", 500)
    assert info.value.field == "count"


def test_create_event_refuses_every_bad_field_at_once(org, organizer, frozen):
    with pytest.raises(EventError, match="Unknown kind") as caught:
        lifecycle.create_event(
            org,
            organizer,
            kind="rave",
            title="",
            starts_at=NOW + timedelta(days=1),
            ends_at=NOW + timedelta(days=1, hours=1),
            timezone="Mars/Olympus",
            capacity=0,
            online_url="ftp://x",
        )
    fields = caught.value.fields
    assert set(fields) == {"kind", "title", "timezone", "capacity", "online_url"}
    assert len(fields["capacity"]) == 1
    assert "between 1 and" in fields["capacity"][0]
    assert count_rows(Event) == 0
