"""A pair's whole term, lived with a frozen clock and ``mixer worker --once``.

At every moment a job is due the worker runs twice, and after every step the
outbox must have gained exactly the e-mails named (``Ledger.added``): nothing
twice, nothing stray, nothing missing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mixer.extensions import db
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair, PairFeedback
from mixer.recognition import models as recognition
from tests.helpers import csrf_from, mail_text

from .helpers import (
    Ledger,
    answer_link,
    both,
    checked,
    invite_of,
    live_until,
    path,
    series,
)


def at(day: int, month: int = 3, hour: int = 12, minute: int = 30) -> datetime:
    """A moment of 2026 in UTC (the pair has no event, so its zone is UTC)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def last(outbox, to: str, kind_subject: str):
    """The latest message to ``to`` whose subject contains ``kind_subject``."""
    found = [m for m in outbox(to) if kind_subject in m["Subject"]]
    assert found, f"no {kind_subject!r} mail to {to}"
    return found[-1]


def confirm(client, url: str, **data):
    """Open an e-mailed link (GET shows, changes nothing), then confirm (POST)."""
    page = client.get(path(url))
    assert page.status_code == 200, page.get_data(as_text=True)
    body = page.get_data(as_text=True)
    response = client.post(path(url), data={"csrf_token": csrf_from(body), **data})
    return page, response


def _feedback_link(msg) -> str:
    """The feedback link of an end-of-term e-mail."""
    match = re.search(r"https?://\S+/feedback/\S+", mail_text(msg))
    assert match
    return match.group(0)


def _planned(pair_id: int) -> list[datetime]:
    """When the pair's check-ins are (or were) due."""
    db.session.expire_all()
    return [c.due_at for c in db.session.get(Pair, pair_id).meetings]


def test_a_pair_lives_through_its_term(world, client, runner, outbox):
    ada, bo = world.mentor.email, world.mentee.email
    ledger = Ledger()
    pair = create_pair(
        world.org, world.mentor, world.mentee, kind="mentoring", mentor=world.mentor
    )
    db.session.commit()
    pair_id, uid = pair.id, pair.ics_uid
    ledger.added(*both("pairs.intro", ada, bo))

    # Both introductions carry the same valid recurring invite: every two weeks
    # from the first slot, within the term, both people attending.
    for to in (ada, bo):
        cal = invite_of(last(outbox, to, "Meet "))
        [vevent] = cal.walk("VEVENT")
        assert cal["method"] == "REQUEST"
        assert (str(vevent["uid"]), vevent["sequence"]) == (uid, 0)
        assert sorted(str(a) for a in vevent["attendee"]) == [
            f"mailto:{ada}",
            f"mailto:{bo}",
        ]
        starts = series(cal)
        assert starts == [at(4) + timedelta(weeks=2 * i) for i in range(7)]
        assert starts[-1] < pair.term_ends_at

    # Tuesday 12:30: the reminder of check-in #1 (Wednesday 12:30).
    live_until(runner, at(3))
    ledger.added(*both("pairs.reminder", ada, bo))
    assert "is tomorrow" in mail_text(last(outbox, bo, "Tomorrow"))

    # Wednesday 12:30: "did you meet?" to both.
    live_until(runner, at(4))
    ledger.added(*both("pairs.checkin", ada, bo))
    ask_bo = last(outbox, bo, "Did you meet")
    assert "Did you meet Ada Lovelace for check-in #1" in mail_text(ask_bo)

    # Bo taps "Yes, we met": the GET only shows the answer, preselected.
    yes = answer_link(ask_bo, "Yes, we met")
    page = client.get(path(yes))
    body = page.get_data(as_text=True)
    assert checked(body, "answer") == ["met"]
    assert _planned(pair_id) == [at(4)]
    response = client.post(
        path(yes),
        data={"csrf_token": csrf_from(body), "answer": "met", "note": "Role-play!"},
    )
    assert response.status_code == 200
    assert "you met" in response.get_data(as_text=True)
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)
    first, second = pair.meetings
    assert (first.status, first.reported_by_id) == ("met", world.mentee.id)
    assert first.notes == {str(world.mentee.id): "Role-play!"}
    assert second.number == 2 and second.due_at == at(18)
    # The same link again: used.
    again = client.get(path(yes))
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)

    # Ada's own link still lets her add her note, without changing the answer.
    _, noted = confirm(
        client,
        answer_link(last(outbox, ada, "Did you meet"), "We skipped this one"),
        note="Good questions.",
    )
    assert noted.status_code == 200
    db.session.expire_all()
    first = db.session.get(Pair, pair_id).meetings[0]
    assert first.status == "met"
    assert first.notes == {
        str(world.mentee.id): "Role-play!",
        str(world.mentor.id): "Good questions.",
    }
    ledger.added()  # answers and notes send nothing

    # Check-in #2 (18 March): reminder, question, nobody answers → missed on 21st.
    live_until(runner, at(17))
    ledger.added(*both("pairs.reminder", ada, bo))
    live_until(runner, at(18))
    ledger.added(*both("pairs.checkin", ada, bo))
    live_until(runner, at(21))
    ledger.added()
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)
    assert [c.status for c in pair.meetings] == ["met", "missed", "scheduled"]
    assert pair.missed_in_row == 1

    # #3 (1 April) missed too: two in a row → one gentle nudge to each.
    live_until(runner, at(1, 4))
    ledger.added(*both("pairs.reminder", ada, bo), *both("pairs.checkin", ada, bo))
    live_until(runner, at(4, 4))
    ledger.added(*both("pairs.nudge", ada, bo))
    assert "Five minutes is enough" in mail_text(last(outbox, bo, "Five minutes"))

    # #4 (15 April) missed: a third → one "pause or close?" to each.
    live_until(runner, at(18, 4))
    ledger.added(
        *both("pairs.reminder", ada, bo),
        *both("pairs.checkin", ada, bo),
        *both("pairs.standing", ada, bo),
    )
    # Ada chooses to keep going; Bo's link then says it is settled.
    _, kept = confirm(
        client,
        answer_link(last(outbox, ada, "Pause or close"), "Keep going"),
        choice="keep",
    )
    assert kept.status_code == 200
    db.session.expire_all()
    assert db.session.get(Pair, pair_id).missed_in_row == 0
    settled = client.get(
        path(answer_link(last(outbox, bo, "Pause or close"), "Close the pair"))
    )
    assert "This question is settled" in settled.get_data(as_text=True)
    ledger.added()

    # #5 (29 April): Bo moves it to 2 May. Both are told, with the series again
    # from the new date, so calendars and Mixer's plan stay in step.
    live_until(runner, at(29, 4))
    ledger.added(*both("pairs.reminder", ada, bo), *both("pairs.checkin", ada, bo))
    moved = answer_link(last(outbox, bo, "Did you meet"), "We moved it")
    page, response = confirm(
        client, moved, answer="moved", moved_date="2026-05-02", moved_time="12:30"
    )
    assert checked(page.get_data(as_text=True), "answer") == ["moved"]
    assert 'value="2026-05-02"' in page.get_data(as_text=True)  # default: +3 days
    assert response.status_code == 200
    ledger.added(*both("pairs.status", ada, bo))
    notice = last(outbox, ada, "moved to")
    assert notice["Subject"] == "Check-in with Bo Chen moved to Sat 02 May"
    assert "Bo Chen moved your check-in to Sat 02 May 2026, 12:30 UTC." in (
        mail_text(notice)
    )
    assert "You moved the check-in with Ada Lovelace" in mail_text(
        last(outbox, bo, "moved to")
    )
    cal = invite_of(notice)
    [vevent] = cal.walk("VEVENT")
    assert (str(vevent["uid"]), vevent["sequence"]) == (uid, 1)
    assert series(cal)[:2] == [at(2, 5), at(16, 5)]
    db.session.expire_all()
    fifth = db.session.get(Pair, pair_id).meetings[4]
    assert (fifth.status, fifth.due_at) == ("moved", at(2, 5))
    # Ada's older link (about 29 April) now only takes her note.
    _, noted = confirm(
        client,
        answer_link(last(outbox, ada, "Did you meet"), "Yes, we met"),
        note="Saturday suits me.",
    )
    assert noted.status_code == 200
    assert "Your note is saved" in noted.get_data(as_text=True)
    ledger.added()

    # Reminded and asked again for the new date, once each.
    live_until(runner, at(2, 5))
    ledger.added(*both("pairs.reminder", ada, bo), *both("pairs.checkin", ada, bo))
    _, response = confirm(
        client,
        answer_link(last(outbox, ada, "Did you meet"), "Yes, we met"),
        answer="met",
    )
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)
    assert [c.status for c in pair.meetings][4:] == ["met", "scheduled"]
    assert pair.meetings[5].due_at == at(16, 5)  # where the new invite says
    ledger.added()

    # #6 (16 May) missed; #7 (30 May) is the last before the term ends (31 May
    # 09:00), so the pair ends once #7 is settled (missed on 2 June 12:30).
    live_until(runner, at(31, 5, 9, 0))
    ledger.added(
        *both("pairs.reminder", ada, bo) * 2, *both("pairs.checkin", ada, bo) * 2
    )
    db.session.expire_all()
    assert db.session.get(Pair, pair_id).status == "active"
    # #6 and #7 make a new streak of two, but #7 is settled after the term:
    # the feedback form, not a nudge, is the next e-mail.
    live_until(runner, at(2, 6))
    ledger.added(*both("pairs.feedback", ada, bo))
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)
    assert pair.status == "ended" and pair.open_key is None
    assert pair.ended_at == at(2, 6)
    assert [c.status for c in pair.meetings] == [
        "met",
        "missed",
        "missed",
        "missed",
        "met",
        "missed",
        "missed",
    ]
    live_until(runner, at(30, 6))
    ledger.added()  # an ended pair is quiet

    # Both ask for another term: a new pair, introduced again (once each).
    _, response = confirm(
        client,
        _feedback_link(last(outbox, ada, "how did it go")),
        rating="5",
        helped="Listening.",
        renew="y",
    )
    assert response.status_code == 200
    assert "You both" not in response.get_data(as_text=True)
    assert (
        db.session.scalar(select(Pair).where(Pair.renewed_from_id == pair_id)) is None
    )
    ledger.added()  # one-sided so far: nobody is told
    _, response = confirm(
        client,
        _feedback_link(last(outbox, bo, "how did it go")),
        rating="4",
        renew="y",
        testimonial="Ada made time for me.",
        consent="y",
    )
    assert "You both asked for another term" in response.get_data(as_text=True)
    ledger.added(*both("pairs.intro", ada, bo))
    db.session.expire_all()
    renewed = db.session.scalar(select(Pair).where(Pair.renewed_from_id == pair_id))
    assert renewed.source == "renewal" and renewed.status == "active"
    assert renewed.mentor_id == world.mentor.id
    renewed_invite = invite_of(last(outbox, bo, "Meet "))
    assert str(renewed_invite.walk("VEVENT")[0]["uid"]) == renewed.ics_uid != uid
    assert series(renewed_invite)[0] == renewed.first_slot_at
    testimonial = db.session.scalar(select(recognition.Testimonial))
    assert testimonial.body == "Ada made time for me."
    assert testimonial.pair_id == pair_id and testimonial.status == "pending"
    feedback = db.session.scalars(select(PairFeedback).order_by(PairFeedback.id)).all()
    assert [(f.user_id, f.rating, f.wants_renewal) for f in feedback] == [
        (world.mentor.id, 5, True),
        (world.mentee.id, 4, True),
    ]
