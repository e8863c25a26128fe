"""Saving an attendee's answers, and pairing the people who chose each other.

Choices are private: only a mutual, compatible pair of choices (mentor ↔ mentee,
peer ↔ peer) has a visible effect, a pair from ``mixer.pairs``; one-sided
interest tells nobody anything. Words given for others with consent go to
moderation (``mixer.recognition``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from mixer import clock
from mixer.accounts.models import User
from mixer.accounts.services import find_user, get_or_create_user
from mixer.concurrency import lock_row
from mixer.events.models import Event, EventStatus
from mixer.extensions import db
from mixer.followup.models import (
    CHOICES,
    COMPATIBLE,
    Choice,
    FollowupChoice,
    FollowupPrompt,
)
from mixer.followup.prompts import RATING_LABELS, people_for
from mixer.followup.services import FollowupError
from mixer.jobs import services as jobs
from mixer.orgs.models import Organization
from mixer.orgs.services import add_member
from mixer.pairs.capacity import Hold, hold_for
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair
from mixer.recognition.testimonials import submit_testimonial, withdraw_testimonial

HELD_JOB = "followup.held"  # forms the pairs a place or a date held back
COMMENT_MAX = 2000
REFLECTION_MAX = 1000
TESTIMONIAL_MAX = 1000


@dataclass
class Answers:
    """What an attendee sent back (choices keyed by the other's registration id)."""

    choices: dict[int, str] = field(default_factory=dict)
    rating: int | None = None
    comment: str | None = None
    reflection: str | None = None
    testimonial: str | None = None
    consent: bool = False


def _clean(value: str | None, limit: int) -> str | None:
    """Trimmed text of at most ``limit`` characters, or None when empty."""
    text = (value or "").strip()
    return text[:limit] or None


def save_answers(prompt: FollowupPrompt, answers: Answers) -> list[Pair]:
    """Save an attendee's answers and pair the people who chose each other.
    Returns the pairs formed now.

    Saving again is fine (from the app or any link of the e-mail, in any order):
    each person met has one choice, updated in place. A choice for someone the
    attendee did not meet is refused (nothing changes).
    """
    # Saves of one event's prompts take turns, so two people choosing each other
    # at the same instant still see each other's choice and form their pair.
    lock_row(Event, prompt.event_id)
    db.session.expire(prompt)
    allowed = {p.registration.id for p in people_for(prompt)}
    for other_id, choice in answers.choices.items():
        if other_id not in allowed or choice not in CHOICES:
            raise FollowupError(
                _("You can only answer for people you met at this event."),
                field="choices",
                status=400,
            )
    if answers.rating is not None and answers.rating not in RATING_LABELS:
        raise FollowupError(
            _("Choose a rating from 1 to 5."), field="rating", status=400
        )
    testimonial = _clean(answers.testimonial, TESTIMONIAL_MAX)
    if testimonial and not answers.consent:
        raise FollowupError(
            _(
                "Tick the box to let us publish your words, or leave the testimonial "
                "empty (private thoughts fit in the comment)."
            ),
            field="consent",
            status=400,
        )
    current = {c.other_id: c for c in prompt.choices}
    for other_id, choice in answers.choices.items():
        row = current.get(other_id)
        if row is None:
            prompt.choices.append(
                FollowupChoice(other_id=other_id, choice=Choice(choice))
            )
        elif row.choice != choice:
            row.choice = Choice(choice)
    prompt.rating = answers.rating
    prompt.comment = _clean(answers.comment, COMMENT_MAX)
    prompt.reflection = _clean(answers.reflection, REFLECTION_MAX)
    prompt.answered_at = clock.now()
    db.session.flush()
    if not testimonial:  # emptied or consent withdrawn on a later save
        withdraw_testimonial(f"prompt:{prompt.id}")
    else:
        submit_testimonial(
            prompt.event.org_id,
            body=testimonial,
            author_name=prompt.registration.name,
            author_id=prompt.user_id,
            source="prompt",
            source_key=f"prompt:{prompt.id}",
            event_id=prompt.event_id,
        )
    return match(prompt)


def _account(prompt: FollowupPrompt) -> User:
    """The person behind a prompt, as a member of the event's organization.

    Pairs live inside an organization, so a guest (or someone from elsewhere) who
    chose someone who chose them back gets a passwordless account if needed and
    a plain member's place in the organization; nobody else becomes a member.
    """
    reg = prompt.registration
    user = prompt.user or reg.user or find_user(reg.email)
    if user is None:
        user, _ = get_or_create_user(reg.email, reg.name)
    if prompt.user_id != user.id:
        prompt.user_id = user.id
    org = prompt.event.org
    if user.membership_in(org) is None:
        # Only for people without a place: add_member would reset a role.
        add_member(org, user.email, user.name)
    db.session.flush()
    return user


def _paired_before(event: Event, first: User, second: User) -> bool:
    """Whether this event already made a pair of these two (in any state)."""
    low, high = sorted((first.id, second.id))
    return (
        db.session.scalar(
            select(Pair.id).where(
                Pair.event_id == event.id, Pair.a_id == low, Pair.b_id == high
            )
        )
        is not None
    )


def match(prompt: FollowupPrompt) -> list[Pair]:
    """Pair the attendee with each person whose choice is compatible with theirs.

    One-sided interest does nothing and tells nobody. An event makes at most one
    pair of the same two people, so re-saving a prompt never revives a pair that
    has since ended. A mutual choice that capacity or a "not before" date holds
    back (``mixer.pairs.capacity``) is kept: ``form_held_pairs`` forms it when a
    place opens or the date comes.
    """
    mine = {c.other_id: c.choice for c in prompt.choices if c.choice in COMPATIBLE}
    if not mine:
        return []
    theirs = {
        other_prompt.registration_id: (other_prompt, choice)
        for other_prompt, choice in db.session.execute(
            select(FollowupPrompt, FollowupChoice.choice)
            .join(FollowupChoice, FollowupChoice.prompt_id == FollowupPrompt.id)
            .where(
                FollowupPrompt.event_id == prompt.event_id,
                FollowupPrompt.registration_id.in_(mine),
                FollowupChoice.other_id == prompt.registration_id,
            )
        ).all()
    }
    formed = []
    event = prompt.event
    for other_id, choice in mine.items():
        found = theirs.get(other_id)
        if found is None or found[1] != COMPATIBLE[choice]:
            continue
        me, them = _account(prompt), _account(found[0])
        if me.id == them.id or _paired_before(event, me, them):
            continue
        mentor = {Choice.MENTOR: them, Choice.MENTEE: me}.get(choice)
        hold = _hold(event.org, (me, them), mentor)
        if hold is not None:
            if hold.until is not None:
                _form_held_on(event.org, hold.until)
            continue
        pair = create_pair(
            event.org,
            me,
            them,
            kind="peer" if choice == Choice.PEER else "mentoring",
            mentor=mentor,
            source="event",
            event=event,
        )
        if pair is not None:
            formed.append(pair)
    return formed


# ---------------------------------------------------------------------------
# Pairs held back by capacity or a "not before" date


def _hold(
    org: Organization, people: Sequence[User], mentor: User | None
) -> Hold | None:
    """What holds back a pair of ``people`` (both members of ``org`` by now)."""
    for person in people:
        membership = person.membership_in(org)
        if membership is None:  # pragma: no cover - _account made one
            continue
        hold = hold_for(
            membership,
            as_mentor=mentor is not None and mentor.id == person.id,
            name=person.name,
        )
        if hold is not None:
            return hold
    return None


def hold_days() -> int:
    """How long a held mutual choice waits for a place (``FOLLOWUP_HOLD_DAYS``)."""
    return int(current_app.config.get("FOLLOWUP_HOLD_DAYS", 90))


def _form_held_on(org: Organization, day: date) -> None:
    """Have the worker form the organization's held pairs on ``day`` (00:00 UTC)."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    jobs.schedule(
        HELD_JOB,
        {"org_id": org.id},
        run_at=start,
        dedupe_key=f"{HELD_JOB}:{org.id}:{start.date().isoformat()}",
        org_id=org.id,
    )


def form_held_later(org_id: int, reason: str) -> None:
    """Have the worker look at the organization's held pairs now (a place may
    have opened: ``reason`` names what happened, e.g. ``pair:12``)."""
    jobs.schedule(
        HELD_JOB,
        {"org_id": org_id},
        dedupe_key=f"{HELD_JOB}:{org_id}:{reason}",
        org_id=org_id,
    )


def held_prompts(org_id: int) -> list[tuple[int, int]]:
    """(prompt id, event id) of prompts with a mutual, compatible choice that has
    no pair from its event yet, in the organization's recent rounds."""
    mine, theirs = aliased(FollowupPrompt), aliased(FollowupPrompt)
    my_choice, their_choice = aliased(FollowupChoice), aliased(FollowupChoice)
    compatible = or_(
        *(
            and_(my_choice.choice == a, their_choice.choice == b)
            for a, b in COMPATIBLE.items()
        )
    )
    paired = exists(
        select(Pair.id).where(
            Pair.event_id == mine.event_id,
            or_(
                and_(Pair.a_id == mine.user_id, Pair.b_id == theirs.user_id),
                and_(Pair.a_id == theirs.user_id, Pair.b_id == mine.user_id),
            ),
        )
    )
    since = clock.now() - timedelta(days=hold_days())
    rows = db.session.execute(
        select(mine.id, mine.event_id)
        .join(my_choice, my_choice.prompt_id == mine.id)
        .join(
            theirs,
            and_(
                theirs.event_id == mine.event_id,
                theirs.registration_id == my_choice.other_id,
            ),
        )
        .join(
            their_choice,
            and_(
                their_choice.prompt_id == theirs.id,
                their_choice.other_id == mine.registration_id,
            ),
        )
        .join(Event, Event.id == mine.event_id)
        .where(
            Event.org_id == org_id,
            Event.status != EventStatus.CANCELLED,
            mine.id < theirs.id,
            mine.created_at >= since,
            compatible,
            ~paired,
        )
        .distinct()
        .order_by(mine.event_id, mine.id)
    ).all()
    return [(prompt_id, event_id) for prompt_id, event_id in rows]


def form_held_pairs(org_id: int) -> list[Pair]:
    """Form the pairs both people chose that capacity or a date held back and
    that may start now (the ``followup.held`` job). Idempotent."""
    formed: list[Pair] = []
    locked: set[int] = set()
    for prompt_id, event_id in held_prompts(org_id):
        if event_id not in locked:  # saves of the event's prompts take turns
            lock_row(Event, event_id)
            locked.add(event_id)
        prompt = db.session.get(FollowupPrompt, prompt_id)
        if prompt is not None:
            formed += match(prompt)
    return formed
