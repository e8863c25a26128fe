"""Matching at the service level: which mutual choices make a pair, guests, later
changes, and what never happens (one-sided interest, choices about strangers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from mixer import clock
from mixer.accounts.models import User
from mixer.extensions import db
from mixer.followup import services
from mixer.followup.answers import Answers, save_answers
from mixer.followup.forms import prompt_form
from mixer.followup.models import FollowupPrompt
from mixer.followup.prompts import people_for
from mixer.followup.prompts import testimonial_of as given_testimonial
from mixer.followup.services import FollowupError
from mixer.pairs.models import Pair
from tests.followup.conftest import START, check_in, count, meet


@pytest.fixture
def prompts(room):
    """Everyone checked in; Ana met Ben, Cai and Gus; Cai met Dee; prompts made."""
    clock.advance(START - clock.now() + timedelta(minutes=5))
    check_in(room, "Ana", "Ben", "Cai", "Dee", "Gus")
    for a, b in (("Ana", "Ben"), ("Ana", "Cai"), ("Ana", "Gus"), ("Cai", "Dee")):
        meet(room, a, b, source="rotation")
    services.close_event(room.event, room.organizer)
    due = clock.stamp(services.followup_for(room.event).due_at)
    services.send_prompts(room.event.id, due)
    db.session.commit()
    by_reg = {p.registration_id: p for p in db.session.scalars(select(FollowupPrompt))}
    return {name: by_reg[reg.id] for name, reg in room.regs.items()}


def _choose(room, prompts, who: str, **choices: str):
    """Save ``who``'s choices (by first name) and commit; the pairs formed."""
    answers = Answers(choices={room.regs[k].id: v for k, v in choices.items()})
    formed = save_answers(prompts[who], answers)
    db.session.commit()
    return formed


@pytest.mark.parametrize(
    ("ana", "ben", "kind", "mentor"),
    [
        ("mentor", "mentee", "mentoring", "Ben"),
        ("mentee", "mentor", "mentoring", "Ana"),
        ("peer", "peer", "peer", None),
    ],
)
def test_compatible_choices_make_one_pair(room, prompts, ana, ben, kind, mentor):
    assert _choose(room, prompts, "Ana", Ben=ana) == []
    (pair,) = _choose(room, prompts, "Ben", Ana=ben)
    assert pair.kind == kind and pair.event_id == room.event.id
    expected = room.users[mentor].id if mentor else None
    assert pair.mentor_id == expected
    # Saving again (either side) makes no second pair.
    assert _choose(room, prompts, "Ana", Ben=ana) == []
    assert count(Pair) == 1


@pytest.mark.parametrize(
    ("ana", "ben"),
    [
        ("mentor", "mentor"),
        ("mentee", "mentee"),
        ("peer", "mentee"),
        ("mentor", "peer"),
        ("mentor", "not_now"),
    ],
)
def test_incompatible_or_one_sided_choices_make_nothing(room, prompts, ana, ben):
    _choose(room, prompts, "Ana", Ben=ana)
    _choose(room, prompts, "Ben", Ana=ben)
    assert count(Pair) == 0


def test_a_guest_who_is_chosen_back_gets_an_account_and_a_membership(room, prompts):
    assert (
        db.session.scalar(select(User).where(User.email == "gus@elsewhere.example.net"))
        is None
    )
    _choose(room, prompts, "Gus", Ana="mentor")
    assert count(User, User.email == "gus@elsewhere.example.net") == 0  # not yet
    (pair,) = _choose(room, prompts, "Ana", Gus="mentee")
    gus = db.session.scalar(
        select(User).where(User.email == "gus@elsewhere.example.net")
    )
    assert gus is not None and gus.password_hash is None and gus.name == "Gus Guest"
    assert gus.membership_in(room.org).role == "member"
    assert pair.mentor_id == room.users["Ana"].id  # Gus wanted Ana as his mentor
    assert prompts["Gus"].user_id == gus.id
    # Ana's own membership is left as it was.
    assert room.users["Ana"].membership_in(room.org).role == "member"


def test_changing_a_choice_later_keeps_the_pair_and_never_revives_it(room, prompts):
    from mixer.pairs import lifecycle as pairs

    _choose(room, prompts, "Ana", Ben="peer")
    (pair,) = _choose(room, prompts, "Ben", Ana="peer")
    _choose(room, prompts, "Ana", Ben="not_now")
    db.session.expire_all()
    assert pair.status == "active"
    pairs.close(pair, room.users["Ana"])
    db.session.commit()
    _choose(room, prompts, "Ana", Ben="peer")
    assert count(Pair) == 1  # this event made their pair once


def test_only_people_met_can_be_chosen(room, prompts):
    with pytest.raises(FollowupError, match="people you met"):
        _choose(room, prompts, "Ben", Dee="mentor")  # Ben never met Dee
    db.session.rollback()
    assert prompts["Ben"].choices == []


def test_people_listed_are_those_met_who_checked_in(room, prompts):
    people = people_for(prompts["Ana"])
    assert [p.registration.name for p in people] == [
        "Ben Example",
        "Cai Example",
        "Gus Guest",
    ]
    assert people[0].how.startswith("Rotation partner")
    assert [p.registration.name for p in people_for(prompts["Dee"])] == ["Cai Example"]


def test_a_testimonial_can_be_taken_back_on_a_later_save(room, prompts):
    from mixer.recognition.models import Testimonial
    from mixer.recognition.testimonials import moderate

    def save(text: str, consent: bool) -> None:
        answers = Answers(choices={}, testimonial=text, consent=consent)
        save_answers(prompts["Ana"], answers)
        db.session.commit()

    save("Ben showed me how to ask for a raise.", True)
    (given,) = db.session.scalars(select(Testimonial))
    assert given.status == "pending" and given.author_name == "Ana Example"
    save("", False)  # emptied: the pending words are gone
    assert count(Testimonial) == 0

    save("Ten minutes with Ben changed my week.", True)
    (given,) = db.session.scalars(select(Testimonial))
    moderate(given, "approve", room.organizer)
    db.session.commit()
    save("", False)  # already public: hidden at once, the moderation record kept
    db.session.refresh(given)
    assert given.status == "hidden" and given.moderated_by_id == room.organizer.id
    # Reopened, the prompt no longer shows the words as given with consent.
    assert given_testimonial(prompts["Ana"]) is None
    with current_app.test_request_context():
        form = prompt_form(prompts["Ana"], people_for(prompts["Ana"]))
    assert (form.testimonial.data, form.consent.data) == (None, False)
    # Giving words again later starts a new testimonial, pending moderation.
    save("Changed my mind: it was great.", True)
    fresh = given_testimonial(prompts["Ana"])
    assert fresh.id != given.id and fresh.status == "pending"
    assert fresh.body == "Changed my mind: it was great."
