"""Demo data for what follows events: prompts, pairs with a history, asks, testimonials
and a Micro-Mentor of the Month.

The demo is *lived*, not faked: the clock is set back about eleven weeks and moved
forward a day at a time while the real job worker's ``run_due`` does what it would
have done (introductions, reminders, "did you meet?", nudges). On the way:

- three members ask for a micro-mentor on a topic, and the first person asked
  accepts (pairs with a few months of history);
- the past Mentor Mixer is followed up: its attendees answer their prompts, mutual
  choices become pairs; Mira Member's own prompt stays open for the visitor, and
  one person she met has already chosen her, so answering it forms a pair;
- most pairs log "we met" with a note of what helped; some go quiet (and get the
  nudge);
- testimonials given with consent are approved, and last month's Micro-Mentor is
  published.

Idempotent: nothing happens when the past mixer has a follow-up already.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from mixer import clock
from mixer.accounts.models import User
from mixer.asks import services as asks
from mixer.asks.matching import suggest
from mixer.asks.services import AskError
from mixer.connections.services import connections_of
from mixer.events.models import Event, EventStatus, Registration
from mixer.extensions import db
from mixer.followup.answers import Answers, save_answers
from mixer.followup.models import Choice, FollowupPrompt
from mixer.followup.services import close_event, followup_for
from mixer.jobs.services import run_due
from mixer.orgs.models import Organization
from mixer.pairs.answers import log_meeting
from mixer.pairs.models import MeetingStatus, Pair, PairMeeting, PairStatus
from mixer.recognition import awards as recognition
from mixer.recognition.models import Testimonial, TestimonialStatus
from mixer.recognition.scoring import score_month
from mixer.recognition.testimonials import moderate

REFLECTIONS = [
    "Ask one person in another team what they are stuck on.",
    "Share the spreadsheet trick I learned with my team.",
    "Book ten minutes with a new colleague on Thursday.",
    "Write down the question I was afraid to ask, then ask it.",
    "Offer to review someone's first presentation.",
]
COMMENTS = [
    "Eight minutes felt short, in a good way.",
    "Meeting people from Radiology was the best part.",
    "",
    "More time for the last round, please.",
]
TESTIMONIALS = [
    "I came for the sandwiches and left with a mentor. Ten minutes every two weeks "
    "has changed how I plan my week.",
    "I met someone from Finance who explained budgeting in five minutes better than "
    "any course I took.",
    "Speed mentoring sounded awkward. It was the most useful hour of my month.",
]
NOTES = [
    "A concrete next step for Monday.",
    "Practising the first two minutes of my talk.",
    "Permission to say no to one more project.",
    "A template for the budget request.",
    "Knowing whom to ask in IT.",
]
ASKS = [  # (requester e-mail, topic) — the demo's fixed people ask on day one
    ("member@riverside.example.org", None),  # Mira asks for one of her "seeks"
    ("speaker@riverside.example.org", None),
    ("admin@riverside.example.org", None),
]
DAYS_BEFORE_MIXER = 45  # asks start this long before the past mixer


def seed_followup(org: Organization, organizer: User) -> None:
    """Live the weeks around the past mixer (see the module docstring)."""
    mixer = db.session.scalar(
        select(Event)
        .where(
            Event.org_id == org.id,
            Event.kind == "mentor_mixer",
            Event.status == EventStatus.ENDED,
        )
        .order_by(Event.ends_at.desc())
    )
    if mixer is None or followup_for(mixer) is not None:
        return
    rng = random.Random(7)  # noqa: S311 - demo data, not security
    now = clock.now().replace(microsecond=0)
    mixer_end = mixer.ends_at
    start = mixer_end - timedelta(days=DAYS_BEFORE_MIXER)
    clock.freeze(start.replace(hour=9, minute=0, second=0))
    try:
        _asks(org, rng)
        _walk_to(mixer_end + timedelta(hours=2), rng)
        _follow_up(mixer, organizer, rng)
        _walk_to(now, rng)
        _testimonials(org, organizer, rng)
        _award(org, organizer)
    finally:
        clock.reset()
    db.session.flush()


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _asks(org: Organization, rng: random.Random) -> None:
    """Three fixed members ask on a topic they seek; the first person asked accepts."""
    for email, topic in ASKS:
        requester = _user(email)
        if requester is None:
            continue
        for wanted in [topic] if topic else list(requester.seeks or []):
            try:
                ask = asks.create_ask(org, requester, wanted)
            except AskError:
                continue
            suggestions = suggest(ask)
            if not suggestions:
                asks.withdraw(ask, requester)
                continue
            first = suggestions[0]
            asks.ask_people(ask, requester, [first.candidate_id])
            asks.answer(first.id, first.candidate, "accept")
            break
    db.session.commit()


def _walk_to(until, rng: random.Random) -> None:
    """Move the clock a day at a time, running due jobs and answering check-ins."""
    while clock.now() < until:
        step = min(timedelta(days=1), until - clock.now())
        clock.advance(step)
        while any(run_due(limit=100).values()):
            pass
        _answer_due_meetings(rng)
        db.session.commit()


def _answer_due_meetings(rng: random.Random) -> None:
    """Most pairs meet and say so (with what helped); every fourth goes quiet."""
    due = db.session.scalars(
        select(PairMeeting)
        .join(Pair, Pair.id == PairMeeting.pair_id)
        .where(
            PairMeeting.status == MeetingStatus.SCHEDULED,
            PairMeeting.due_at <= clock.now(),
            Pair.status == PairStatus.ACTIVE,
        )
    ).all()
    for meeting in due:
        pair = meeting.pair
        if pair.id % 4 == 0:
            continue  # the quiet ones: misses, then the nudge
        reporter = db.session.get(User, pair.mentee_id or pair.a_id)
        if reporter is not None:
            log_meeting(pair, reporter, "met", rng.choice(NOTES))


def _follow_up(mixer: Event, organizer: User, rng: random.Random) -> None:
    """Close the mixer, send the prompts and let everyone but Mira answer."""
    close_event(mixer, organizer)
    db.session.commit()
    while any(run_due(limit=100).values()):
        pass
    db.session.commit()
    prompts = {
        p.registration_id: p
        for p in db.session.scalars(
            select(FollowupPrompt).where(FollowupPrompt.event_id == mixer.id)
        )
    }
    mira = _user("member@riverside.example.org")
    mira_reg = next(
        (
            p.registration
            for p in prompts.values()
            if mira is not None and p.user_id == mira.id
        ),
        None,
    )
    waiting_for_mira = False
    for number, prompt in enumerate(prompts.values()):
        reg = prompt.registration
        if mira_reg is not None and reg.id == mira_reg.id:
            continue  # the visitor answers this one
        choices: dict[int, str] = {}
        for conn in connections_of(reg.id):
            other_id = conn.other(reg.id)
            if other_id not in prompts:
                continue
            other = db.session.get(Registration, other_id)
            if other is None:
                continue
            if mira_reg is not None and other_id == mira_reg.id:
                if not waiting_for_mira:
                    # Someone Mira met would like to mentor her.
                    choices[other_id] = Choice.MENTEE
                    waiting_for_mira = True
                continue
            choices[other_id] = _choice(reg, other, rng)
        testimonial = TESTIMONIALS[number % 3] if number % 5 == 0 else None
        save_answers(
            prompt,
            Answers(
                choices=choices,
                rating=rng.choice([4, 5, 5, 3, 4]),
                comment=rng.choice(COMMENTS) or None,
                reflection=rng.choice(REFLECTIONS),
                testimonial=testimonial,
                consent=testimonial is not None,
            ),
        )
        db.session.commit()


def _choice(me: Registration, other: Registration, rng: random.Random) -> Choice:
    """A plausible answer: mentees pick mentors, mentors pick mentees, some peers.

    Each pair of people draws the same number, so about half of the meetings are
    mutual; the others stay one-sided (and private).
    """
    keen = random.Random(min(me.id, other.id) * 7919 + max(me.id, other.id))  # noqa: S311
    if keen.random() < 0.75:
        return Choice.NOT_NOW
    if me.role == "mentee" and other.role == "mentor":
        return Choice.MENTOR
    if me.role == "mentor" and other.role == "mentee":
        return Choice.MENTEE
    return Choice.PEER if rng.random() < 0.8 else Choice.NOT_NOW


def _testimonials(org: Organization, organizer: User, rng: random.Random) -> None:
    """The organizer approves the testimonials people gave with consent."""
    for testimonial in db.session.scalars(
        select(Testimonial).where(
            Testimonial.org_id == org.id,
            Testimonial.status == TestimonialStatus.PENDING,
        )
    ).all():
        moderate(testimonial, "approve", organizer)
    db.session.commit()


def _award(org: Organization, organizer: User) -> None:
    """Last month's Micro-Mentor, chosen from the scores and published."""
    month = recognition.default_month()
    ranked = score_month(org, month)
    if not ranked:
        return
    top = ranked[0]
    award = recognition.save_draft(org, month, top.user_id, "", organizer)
    recognition.publish(
        org, month, organizer, user_id=award.user_id, citation=award.citation or ""
    )
    db.session.commit()
