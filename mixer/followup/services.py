"""Follow-up after an event: closing it, sending the prompts, saving the answers and
turning mutual, compatible choices into pairs.

Plain functions that only ``flush()``; docs/followup.md explains the rules. Choices
are private: nothing here tells anyone about a choice that was not returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import mean
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from mixer import clock, tokens
from mixer.accounts.models import User
from mixer.accounts.services import find_user, get_or_create_user
from mixer.checkin.connections import connections_of
from mixer.checkin.models import Connection, ConnectionNote
from mixer.checkin.services import checked_in_count
from mixer.errors import LinkError
from mixer.events.models import Event, Registration
from mixer.extensions import db
from mixer.followup.models import (
    CHOICES,
    COMPATIBLE,
    EventFollowup,
    FollowupChoice,
    FollowupPrompt,
)
from mixer.jobs import services as jobs
from mixer.mail.services import queue_mail
from mixer.urls import absolute_url

JOB_KIND = "followup.prompts"
PURPOSE = "followup.prompt"
QUESTION = "What small action will you take this week to help someone grow?"
CHOICE_LABELS = {
    "mentor": "As my mentor",
    "mentee": "As my mentee",
    "peer": "As peers",
    "not_now": "Not now",
}
RATING_LABELS = {
    1: "Poor",
    2: "Fair",
    3: "Good",
    4: "Very good",
    5: "Excellent",
}
COMMENT_MAX = 2000
REFLECTION_MAX = 1000
TESTIMONIAL_MAX = 1000


class FollowupError(ValueError):
    """A request about follow-up that cannot be met; the message is for people.

    ``status`` is 409 when the state of things refuses it (a draft cannot be
    closed), 400 for bad input.
    """

    def __init__(self, message: str, status: int = 409, field: str | None = None):
        """Keep the message, the HTTP status and the form field it belongs to."""
        super().__init__(message)
        self.status = status
        self.field = field


# ---------------------------------------------------------------------------
# Settings and small helpers


def delay() -> timedelta:
    """How long after an event's end the prompts go (``FOLLOWUP_DELAY_HOURS``)."""
    return timedelta(hours=float(current_app.config.get("FOLLOWUP_DELAY_HOURS", 2)))


def link_days() -> int:
    """How many days an e-mailed prompt link works (``FOLLOWUP_LINK_DAYS``)."""
    return int(current_app.config.get("FOLLOWUP_LINK_DAYS", 14))


def _stamp(instant: datetime) -> str:
    """An instant as compact UTC text (job keys and payloads, as events do)."""
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def job_key(event: Event, due: datetime) -> str:
    """The prompt job's dedupe key: one per event and due time (a move makes anew)."""
    return f"{JOB_KIND}:{event.id}:{_stamp(due)}"


def followup_for(event: Event) -> EventFollowup | None:
    """The event's follow-up round, if one was scheduled or the event was closed."""
    return db.session.scalar(
        select(EventFollowup).where(EventFollowup.event_id == event.id)
    )


def _followup_row(event: Event, due: datetime) -> EventFollowup:
    """The event's follow-up round, created when missing (race-safe)."""
    found = followup_for(event)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            row = EventFollowup(event_id=event.id, due_at=due, prompt_count=0)
            db.session.add(row)
    except IntegrityError:  # made at the same moment by another transaction
        row = followup_for(event)
        if row is None:  # pragma: no cover - the unique row must exist now
            raise
    return row


def _pending_keys(event: Event) -> list[str]:
    """Dedupe keys of the event's prompt jobs still waiting to run."""
    from mixer.jobs.models import Job

    return list(
        db.session.scalars(
            select(Job.dedupe_key).where(
                Job.dedupe_key.like(f"{JOB_KIND}:{event.id}:%"),
                Job.status == "pending",
            )
        )
    )


def _enqueue(event: Event, followup: EventFollowup) -> None:
    """Make sure the prompt job for ``followup.due_at`` will run (and only it)."""
    from mixer.jobs.models import Job

    key = job_key(event, followup.due_at)
    for stale in _pending_keys(event):
        if stale != key:
            jobs.cancel(stale)
    job = jobs.schedule(
        JOB_KIND,
        {"event_id": event.id, "due": _stamp(followup.due_at)},
        run_at=max(followup.due_at, clock.now()),
        dedupe_key=key,
        org_id=event.org_id,
    )
    if job is None and followup.sent_at is None:
        # The same key ran before without sending (it failed): run it again.
        known = db.session.scalar(select(Job).where(Job.dedupe_key == key))
        if known is not None and known.status in ("done", "failed"):
            jobs.requeue(known)


# ---------------------------------------------------------------------------
# Scheduling (called by mixer.events.services with the event's other jobs)


def schedule_prompts(event: Event) -> EventFollowup | None:
    """Schedule the prompts at the event's end plus the delay; moved with the event.

    Nothing is scheduled for an event published after its follow-up was due (an
    event recorded after the fact sends no surprise mail; its organizers can
    still close it), nor once the prompts went or an organizer closed it.
    """
    followup = followup_for(event)
    if followup is not None and (
        followup.sent_at is not None or followup.closed_by_id is not None
    ):
        return followup
    due = event.ends_at + delay()
    if followup is None and due <= clock.now():
        return None
    followup = _followup_row(event, due)
    followup.due_at = due
    _enqueue(event, followup)
    db.session.flush()
    return followup


def cancel_prompts(event: Event) -> None:
    """Cancel the pending prompt job of a cancelled event."""
    for key in _pending_keys(event):
        jobs.cancel(key)


# ---------------------------------------------------------------------------
# Closing an event


@dataclass
class Closing:
    """What closing an event did (or found already done)."""

    event: Event
    followup: EventFollowup
    attendees: int  # checked-in people who get (or got) a prompt
    already_closed: bool = False


def closable(event: Event) -> str | None:
    """Why ``event`` cannot be closed now, or None when it can."""
    if event.status == "draft":
        return (
            "This event is still a draft: it has not taken place, so there is "
            "nobody to follow up with yet."
        )
    if event.status == "cancelled":
        return "This event was cancelled, so there is nobody to follow up with."
    if event.starts_at > clock.now():
        from mixer.events.services import when_text

        return (
            f"This event has not started yet ({when_text(event)}). You can close "
            "it once it has begun."
        )
    return None


def checked_in(event: Event) -> list[Registration]:
    """The event's registered people who were checked in, by registration id."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == "registered",
                Registration.checked_in_at.is_not(None),
            )
            .order_by(Registration.id)
        )
    )


def _attendee_count(event: Event) -> int:
    """How many registered people of the event were checked in."""
    return checked_in_count(event)["checked_in"]


def close_event(event: Event, by: User | None) -> Closing:
    """End the event now and queue the follow-up prompts; closing twice does nothing.

    Refuses (FollowupError, 409) a draft, a cancelled event, or one that has not
    started. The prompts go through the ``followup.prompts`` job at once.
    """
    from mixer.events.services import lock_event

    event = lock_event(event.id)
    reason = closable(event)
    if reason:
        raise FollowupError(reason, 409, "event")
    followup = followup_for(event)
    if followup is not None and (
        followup.sent_at is not None or followup.closed_by_id is not None
    ):
        return Closing(event, followup, _attendee_count(event), already_closed=True)
    now = clock.now()
    if event.status == "published":
        # Ended now; the events.finish job later finds it no longer published
        # and leaves it alone.
        event.status = "ended"
    due = now if followup is None or followup.due_at > now else followup.due_at
    followup = _followup_row(event, due)
    followup.due_at = due
    followup.closed_by_id = by.id if by is not None else None
    _enqueue(event, followup)
    db.session.flush()
    return Closing(event, followup, _attendee_count(event))


# ---------------------------------------------------------------------------
# Sending the prompts (the job)


def send_prompts(event_id: int, due: str, job_id: int | None = None) -> dict[str, int]:
    """Make one prompt per checked-in attendee and e-mail each once, ever.

    Idempotent: prompts are unique per registration and each e-mail has a dedupe
    key, so a job that runs again (or a second job) sends nothing twice.
    """
    from mixer.events.services import finish_event, lock_event

    event = db.session.get(Event, event_id)
    if event is None or event.status in ("draft", "cancelled"):
        return {"prompts": 0, "skipped": 1}
    event = lock_event(event.id)  # one sender per event at a time
    followup = followup_for(event)
    if followup is None or _stamp(followup.due_at) != due:
        return {"prompts": 0, "moved": 1}  # a later job has the new time
    now = clock.now()
    if followup.due_at > now:
        return {"prompts": 0, "early": 1}
    if event.status == "published":
        finish_event(event.id, _stamp(event.ends_at))
    existing = {
        p.registration_id: p
        for p in db.session.scalars(
            select(FollowupPrompt).where(FollowupPrompt.event_id == event.id)
        )
    }
    mailed = 0
    people = checked_in(event)
    for number, reg in enumerate(people, start=1):
        prompt = existing.get(reg.id) or _new_prompt(event, reg)
        mailed += _mail_prompt(prompt) is not None
        if job_id and number % 200 == 0:
            jobs.set_progress(job_id, 100 * number // len(people))
    followup.sent_at = followup.sent_at or now
    followup.prompt_count = db.session.scalar(
        select(func.count(FollowupPrompt.id)).where(FollowupPrompt.event_id == event.id)
    )
    db.session.flush()
    return {"prompts": followup.prompt_count, "mailed": mailed}


def _new_prompt(event: Event, reg: Registration) -> FollowupPrompt:
    """A prompt for one attendee, tied to their account when they have one."""
    user_id = reg.user_id
    if user_id is None:
        account = find_user(reg.email)
        user_id = account.id if account is not None else None
    prompt = FollowupPrompt(event_id=event.id, registration_id=reg.id, user_id=user_id)
    db.session.add(prompt)
    db.session.flush()
    return prompt


def prompt_token(prompt: FollowupPrompt) -> str:
    """A new single-use link secret for ``prompt`` (its data: prompt and person)."""
    return tokens.make(
        PURPOSE, {"p": prompt.id, "r": prompt.registration_id}, single_use=True
    )


def prompt_link(token: str, pick: str | None = None) -> str:
    """The absolute address of the prompt page, optionally preselecting a choice."""
    if pick:
        return absolute_url("followup.answer", token=token, pick=pick)
    return absolute_url("followup.answer", token=token)


def _mail_prompt(prompt: FollowupPrompt):
    """Queue the prompt's one e-mail (None when it went before or is turned off)."""
    event, reg = prompt.event, prompt.registration
    key = f"followup.prompt:{event.id}:{reg.id}"
    user = prompt.user
    token = prompt_token(prompt)
    people = people_for(prompt)
    links = {
        p.registration.id: {
            choice: prompt_link(token, f"{p.registration.id}:{choice}")
            for choice in CHOICES
        }
        for p in people
    }
    context = {
        "event": event,
        "registration": reg,
        "people": people,
        "links": links,
        "labels": CHOICE_LABELS,
        "form_link": prompt_link(token),
        "question": QUESTION,
        "days": link_days(),
        "member": user is not None,
    }
    subject = (
        f"Who would you like to keep in touch with from {event.title}?"
        if people
        else f"How was {event.title}?"
    )
    return queue_mail(
        reg.email,
        subject,
        "followup_prompt",
        context,
        user=user,
        preference="followup_prompts" if user is not None else None,
        org=event.org,
        kind="followup.prompt",
        dedupe_key=key,
    )


# ---------------------------------------------------------------------------
# Reading a prompt


@dataclass
class Person:
    """Someone the attendee met, as the prompt shows them (never their e-mail)."""

    registration: Registration
    how: str
    note: str = ""
    choice: str | None = None


def _how(conn: Connection) -> str:
    """How two people met, in words for the prompt."""
    if conn.source == "rotation":
        if conn.round_number:
            return f"Rotation partner, round {conn.round_number}"
        return "Rotation partner"
    return {
        "scan": "You met by scanning a badge",
        "note": "A “we talked” note",
        "manual": "Added by the organizers",
    }.get(conn.source, "You met at the event")


def people_for(prompt: FollowupPrompt) -> list[Person]:
    """The people the attendee met who were checked in, in the order they met.

    Only people who also get a prompt are listed, so every choice can be
    returned; the attendee's own "we talked" note is shown to them as a reminder.
    """
    me = prompt.registration_id
    conns = connections_of(me)
    others = {c.other(me): c for c in conns}
    if not others:
        return []
    regs = {
        r.id: r
        for r in db.session.scalars(
            select(Registration).where(
                Registration.id.in_(others),
                Registration.status == "registered",
                Registration.checked_in_at.is_not(None),
            )
        )
    }
    notes = dict(
        db.session.execute(
            select(ConnectionNote.connection_id, ConnectionNote.body).where(
                ConnectionNote.connection_id.in_([c.id for c in conns]),
                ConnectionNote.author_id == me,
            )
        ).all()
    )
    chosen = {c.other_id: c.choice for c in prompt.choices}
    people = []
    for other_id, conn in others.items():
        reg = regs.get(other_id)
        if reg is None:
            continue
        people.append(
            Person(reg, _how(conn), notes.get(conn.id) or "", chosen.get(other_id))
        )
    return people


def read_prompt_token(token: str) -> tuple[FollowupPrompt, dict[str, Any]]:
    """The prompt behind an e-mailed link, or ``LinkError`` (expired, used, bad)."""
    data = tokens.read(PURPOSE, token, max_age=link_days() * 86400)
    prompt_id, reg_id = data.get("p"), data.get("r")
    prompt = (
        db.session.get(FollowupPrompt, prompt_id)
        if isinstance(prompt_id, int)
        else None
    )
    if prompt is None or prompt.registration_id != reg_id:
        raise LinkError(
            "invalid", "This link is not valid. Check that it was copied whole."
        )
    return prompt, data


def belongs_to(prompt: FollowupPrompt, user: Any) -> bool:
    """Whether the signed-in ``user`` is the person the prompt was sent to."""
    if not getattr(user, "is_authenticated", False):
        return False
    if prompt.user_id is not None:
        return prompt.user_id == user.id
    return (user.email or "").lower() == prompt.registration.email.lower()


def prompt_of(user: User, prompt_id: int) -> FollowupPrompt | None:
    """One of the user's own prompts (None for anyone else's)."""
    prompt = db.session.get(FollowupPrompt, prompt_id)
    if prompt is None or not belongs_to(prompt, user):
        return None
    if prompt.event.status == "cancelled":
        return None
    return prompt


def _mine(user: User):
    """SQL: prompts sent to ``user`` (by account, or by address before they had one)."""
    return or_(
        FollowupPrompt.user_id == user.id,
        FollowupPrompt.user_id.is_(None)
        & (Registration.email == (user.email or "").lower()),
    )


def prompts_of(user: User) -> tuple[list[FollowupPrompt], list[FollowupPrompt]]:
    """The user's prompts: (open, answered), most recent event first."""
    rows = db.session.scalars(
        select(FollowupPrompt)
        .join(Event, Event.id == FollowupPrompt.event_id)
        .join(Registration, Registration.id == FollowupPrompt.registration_id)
        .where(_mine(user), Event.status != "cancelled")
        .order_by(Event.ends_at.desc(), FollowupPrompt.id.desc())
    ).all()
    return (
        [p for p in rows if p.answered_at is None],
        [p for p in rows if p.answered_at is not None],
    )


def open_count(user: User) -> int:
    """How many of the user's prompts wait for an answer (for a nav badge)."""
    return db.session.scalar(
        select(func.count(FollowupPrompt.id))
        .join(Event, Event.id == FollowupPrompt.event_id)
        .join(Registration, Registration.id == FollowupPrompt.registration_id)
        .where(
            _mine(user),
            FollowupPrompt.answered_at.is_(None),
            Event.status != "cancelled",
        )
    )


def testimonial_of(prompt: FollowupPrompt):
    """The testimonial this prompt gave with consent, if any (not once taken back)."""
    from mixer.recognition.testimonials import testimonial_by_source

    return testimonial_by_source(f"prompt:{prompt.id}")


# ---------------------------------------------------------------------------
# Answering


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


def save_answers(
    prompt: FollowupPrompt, answers: Answers, token_data: dict[str, Any] | None = None
) -> list[Any]:
    """Save an attendee's answers, spend the e-mailed link if one was used, and
    pair the people who chose each other. Returns the pairs formed now.

    A choice for someone the attendee did not meet is refused (nothing changes).
    """
    from mixer.events.services import lock_event

    # Saves of one event's prompts take turns, so two people choosing each other
    # at the same instant still see each other's choice and form their pair.
    lock_event(prompt.event_id)
    db.session.expire(prompt)
    if token_data is not None:
        tokens.spend(PURPOSE, token_data)
    allowed = {p.registration.id for p in people_for(prompt)}
    for other_id, choice in answers.choices.items():
        if other_id not in allowed or choice not in CHOICES:
            raise FollowupError(
                "You can only answer for people you met at this event.", 400, "choices"
            )
    if answers.rating is not None and answers.rating not in RATING_LABELS:
        raise FollowupError("Choose a rating from 1 to 5.", 400, "rating")
    testimonial = _clean(answers.testimonial, TESTIMONIAL_MAX)
    if testimonial and not answers.consent:
        raise FollowupError(
            "Tick the box to let us publish your words, or leave the testimonial "
            "empty (private thoughts fit in the comment).",
            400,
            "consent",
        )
    current = {c.other_id: c for c in prompt.choices}
    for other_id, choice in answers.choices.items():
        row = current.get(other_id)
        if row is None:
            prompt.choices.append(FollowupChoice(other_id=other_id, choice=choice))
        elif row.choice != choice:
            row.choice = choice
    prompt.rating = answers.rating
    prompt.comment = _clean(answers.comment, COMMENT_MAX)
    prompt.reflection = _clean(answers.reflection, REFLECTION_MAX)
    prompt.answered_at = clock.now()
    db.session.flush()
    from mixer.recognition.testimonials import submit_testimonial, withdraw_testimonial

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
        from mixer.orgs.services import add_member

        # Only for people without a place: add_member would reset a role.
        add_member(org, user.email, user.name)
    db.session.flush()
    return user


def _paired_before(event: Event, first: User, second: User) -> bool:
    """Whether this event already made a pair of these two (in any state)."""
    from mixer.pairs.models import Pair

    low, high = sorted((first.id, second.id))
    return (
        db.session.scalar(
            select(Pair.id).where(
                Pair.event_id == event.id, Pair.a_id == low, Pair.b_id == high
            )
        )
        is not None
    )


def match(prompt: FollowupPrompt) -> list[Any]:
    """Pair the attendee with each person whose choice is compatible with theirs.

    One-sided interest does nothing and tells nobody. An event makes at most one
    pair of the same two people, so re-saving a prompt never revives a pair that
    has since ended.
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
        from mixer.pairs.lifecycle import create_pair

        mentor = {"mentor": them, "mentee": me}.get(choice)
        pair = create_pair(
            event.org,
            me,
            them,
            kind="peer" if choice == "peer" else "mentoring",
            mentor=mentor,
            source="event",
            event=event,
        )
        if pair is not None:
            formed.append(pair)
    return formed


# ---------------------------------------------------------------------------
# The organizers' results


@dataclass
class Results:
    """What organizers see after an event (never who chose whom)."""

    followup: EventFollowup | None
    attendees: int
    sent: int
    answered: int
    ratings: list[tuple[int, int]]  # (stars, people), 5 down to 1
    average: float | None
    comments: list[str]
    reflections: list[str]
    pairs: int
    close_refusal: str | None

    @property
    def rated(self) -> int:
        """How many people gave a rating."""
        return sum(n for _, n in self.ratings)

    @property
    def most(self) -> int:
        """The largest bar (for scaling the picture)."""
        return max((n for _, n in self.ratings), default=0)


def results(event: Event) -> Results:
    """Prompts sent and answered, the ratings, comments, reflections, pairs formed."""
    from mixer.pairs.models import Pair

    prompts = list(
        db.session.scalars(
            select(FollowupPrompt)
            .where(FollowupPrompt.event_id == event.id)
            .order_by(FollowupPrompt.answered_at.desc(), FollowupPrompt.id)
        )
    )
    answered = [p for p in prompts if p.answered_at is not None]
    counts = dict.fromkeys(range(5, 0, -1), 0)
    for p in answered:
        if p.rating:
            counts[p.rating] += 1
    rated = [p.rating for p in answered if p.rating]
    followup = followup_for(event)
    refusal = closable(event)
    if (
        refusal is None
        and followup is not None
        and (followup.sent_at is not None or followup.closed_by_id is not None)
    ):
        refusal = "Follow-up prompts have been sent."
    return Results(
        followup=followup,
        attendees=_attendee_count(event),
        sent=len(prompts),
        answered=len(answered),
        ratings=list(counts.items()),
        average=round(mean(rated), 1) if rated else None,
        comments=[p.comment for p in answered if p.comment],
        reflections=[p.reflection for p in answered if p.reflection],
        pairs=db.session.scalar(
            select(func.count(Pair.id)).where(
                Pair.event_id == event.id, Pair.source == "event"
            )
        ),
        close_refusal=refusal,
    )
