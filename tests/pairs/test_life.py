"""A pair's whole term, lived with a frozen clock and ``mixer worker --once``.

At every step the worker runs twice, and each e-mail must be in the outbox once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from mixer.extensions import db
from mixer.pairs.models import Pair, PairFeedback
from mixer.pairs.services import create_pair
from mixer.recognition import models as recognition
from tests.helpers import csrf_from, mail_text

from .helpers import answer_link, checked, kinds, live_until, path, sent


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


def test_a_pair_lives_through_its_term(world, client, runner, outbox):
    ada, bo = world.mentor.email, world.mentee.email
    pair = create_pair(
        world.org, world.mentor, world.mentee, kind="mentoring", mentor=world.mentor
    )
    db.session.commit()
    pair_id = pair.id
    assert kinds() == {"pairs.intro": 2}

    # Tuesday 12:30: the reminder of check-in #1 (Wednesday 12:30).
    live_until(runner, at(3))
    assert kinds() == {"pairs.intro": 2, "pairs.reminder": 2}
    assert "tomorrow" in mail_text(last(outbox, bo, "Tomorrow"))

    # Wednesday 12:30: "did you meet?" to both.
    live_until(runner, at(4))
    assert kinds()["pairs.checkin"] == 2
    ask_bo = last(outbox, bo, "Did you meet")
    assert "Did you meet Ada Lovelace for check-in #1" in mail_text(ask_bo)

    # Bo taps "Yes, we met": the GET only shows the answer, preselected.
    yes = answer_link(ask_bo, "Yes, we met")
    page = client.get(path(yes))
    body = page.get_data(as_text=True)
    assert checked(body, "answer") == ["met"]
    db.session.expire_all()
    assert db.session.get(Pair, pair_id).checkins[0].status == "scheduled"
    response = client.post(
        path(yes),
        data={"csrf_token": csrf_from(body), "answer": "met", "note": "Role-play!"},
    )
    assert response.status_code == 200
    assert "you met" in response.get_data(as_text=True)
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)
    first, second = pair.checkins
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
    first = db.session.get(Pair, pair_id).checkins[0]
    assert first.status == "met"
    assert first.notes == {
        str(world.mentee.id): "Role-play!",
        str(world.mentor.id): "Good questions.",
    }

    # Check-in #2: reminder, question, nobody answers → missed after 3 days.
    live_until(runner, at(17))
    assert sent()[("pairs.reminder", ada)] == 2
    live_until(runner, at(21))
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)
    assert [c.status for c in pair.checkins] == ["met", "missed", "scheduled"]
    assert pair.missed_in_row == 1
    assert "pairs.nudge" not in kinds()

    # #3 (1 April) missed too: two in a row → one gentle nudge to each.
    live_until(runner, at(4, 4))
    assert kinds()["pairs.nudge"] == 2
    assert "Five minutes is enough" in mail_text(last(outbox, bo, "Five minutes"))

    # #4 (15 April) missed: a third → one "pause or close?" to each.
    live_until(runner, at(18, 4))
    counts = kinds()
    assert counts["pairs.nudge"] == 2
    assert counts["pairs.standing"] == 2
    assert counts["pairs.checkin"] == 8 and counts["pairs.reminder"] == 8
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

    # #5 (29 April): Bo moves it to 2 May, is reminded and asked again then.
    live_until(runner, at(29, 4))
    moved = answer_link(last(outbox, bo, "Did you meet"), "We moved it")
    page, response = confirm(
        client, moved, answer="moved", moved_date="2026-05-02", moved_time="12:30"
    )
    assert checked(page.get_data(as_text=True), "answer") == ["moved"]
    assert 'value="2026-05-02"' in page.get_data(as_text=True)  # default: +3 days
    assert response.status_code == 200
    db.session.expire_all()
    fifth = db.session.get(Pair, pair_id).checkins[4]
    assert (fifth.status, fifth.due_at) == ("moved", at(2, 5))
    live_until(runner, at(2, 5))
    assert sent()[("pairs.checkin", bo)] == 6  # asked again about #5
    _, response = confirm(
        client,
        answer_link(last(outbox, ada, "Did you meet"), "Yes, we met"),
        answer="met",
    )
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)
    assert [c.status for c in pair.checkins][4:] == ["met", "scheduled"]
    assert pair.checkins[5].due_at == at(16, 5)  # one cadence after the new date

    # #6 (16 May) missed; #7 (30 May) is the last before the term ends (31 May
    # 09:00), so the pair ends once #7 is settled (missed on 2 June 12:30).
    live_until(runner, at(31, 5, 9, 0))
    db.session.expire_all()
    assert db.session.get(Pair, pair_id).status == "active"
    assert "pairs.feedback" not in kinds()
    live_until(runner, at(2, 6))
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)
    assert pair.status == "ended" and pair.open_key is None
    assert pair.ended_at == at(2, 6)
    assert [c.status for c in pair.checkins] == [
        "met",
        "missed",
        "missed",
        "missed",
        "met",
        "missed",
        "missed",
    ]
    counts = kinds()
    assert counts["pairs.feedback"] == 2
    # #6 and #7 make a new streak of two, but #7 was settled after the term:
    # the feedback form, not a nudge, is the next e-mail.
    assert counts["pairs.nudge"] == 2
    assert counts["pairs.standing"] == 2
    before = sum(counts.values())
    live_until(runner, at(30, 6))
    assert sum(kinds().values()) == before  # an ended pair is quiet

    # Both ask for another term: a new pair, introduced again.
    _, response = confirm(
        client,
        _feedback_link(last(outbox, ada, "how did it go")),
        rating="5",
        helped="Listening.",
        renew="y",
    )
    assert response.status_code == 200
    assert (
        db.session.scalar(select(Pair).where(Pair.renewed_from_id == pair_id)) is None
    )
    _, response = confirm(
        client,
        _feedback_link(last(outbox, bo, "how did it go")),
        rating="4",
        renew="y",
        testimonial="Ada made time for me.",
        consent="y",
    )
    assert "You both asked for another term" in response.get_data(as_text=True)
    db.session.expire_all()
    renewed = db.session.scalar(select(Pair).where(Pair.renewed_from_id == pair_id))
    assert renewed.source == "renewal" and renewed.status == "active"
    assert renewed.mentor_id == world.mentor.id
    assert sent()[("pairs.intro", bo)] == 2
    testimonial = db.session.scalar(select(recognition.Testimonial))
    assert testimonial.body == "Ada made time for me."
    assert testimonial.pair_id == pair_id and testimonial.status == "pending"
    feedback = db.session.scalars(select(PairFeedback).order_by(PairFeedback.id)).all()
    assert [(f.user_id, f.rating, f.wants_renewal) for f in feedback] == [
        (world.mentor.id, 5, True),
        (world.mentee.id, 4, True),
    ]


def _feedback_link(msg) -> str:
    import re

    match = re.search(r"https?://\S+/feedback/\S+", mail_text(msg))
    assert match
    return match.group(0)
