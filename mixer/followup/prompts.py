"""One attendee's prompt: whom it lists, its e-mailed link, and whose it is.

A prompt lists the people the attendee met who were checked in (they get a
prompt too, so every choice can be returned), never their e-mail addresses. Its
e-mailed link is a signed token (purpose ``followup.prompt``) that opens the
prompt, and saves it, as often as wanted for ``FOLLOWUP_LINK_DAYS``; it is
personal: someone else signed in is refused. In the app a person sees their own
prompts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, or_, select

from mixer import tokens
from mixer.accounts.models import User
from mixer.connections.models import Connection, ConnectionNote
from mixer.connections.services import connections_of
from mixer.errors import LinkError
from mixer.events.models import Event, EventStatus, Registration
from mixer.events.queries import memberships_of
from mixer.extensions import db
from mixer.followup.models import Choice, FollowupPrompt
from mixer.pairs.capacity import hold_for
from mixer.recognition.models import Testimonial
from mixer.recognition.testimonials import testimonial_by_source
from mixer.urls import absolute_url

PURPOSE = "followup.prompt"
QUESTION = _l("What small action will you take this week to help someone grow?")
CHOICE_LABELS: dict[str, Any] = {
    Choice.MENTOR: _l("As my mentor"),
    Choice.MENTEE: _l("As my mentee"),
    Choice.PEER: _l("As peers"),
    Choice.NOT_NOW: _l("Not now"),
}
RATING_LABELS = {
    1: _l("Poor"),
    2: _l("Fair"),
    3: _l("Good"),
    4: _l("Very good"),
    5: _l("Excellent"),
}


def link_days() -> int:
    """How many days an e-mailed prompt link works (``FOLLOWUP_LINK_DAYS``)."""
    return int(current_app.config.get("FOLLOWUP_LINK_DAYS", 14))


# ---------------------------------------------------------------------------
# The people on a prompt


@dataclass
class Person:
    """Someone the attendee met, as the prompt shows them (never their e-mail)."""

    registration: Registration
    # Lazy: an e-mail renders it in the recipient's language, not the request's.
    how: Any
    note: str = ""
    choice: str | None = None
    # What would hold back a pair with them (``mixer.pairs.capacity``): a "not
    # before" date (any choice), or a full list of mentees ("as my mentor").
    away: str | None = None
    busy: str | None = None


def _how(conn: Connection) -> Any:
    """How two people met, in words for the prompt."""
    if conn.source == "rotation":
        if conn.round_number:
            return _l("Rotation partner, round %(num)d", num=conn.round_number)
        return _l("Rotation partner")
    return {
        "scan": _l("You met by scanning a badge"),
        "note": _l("A “we talked” note"),
        "manual": _l("Added by the organizers"),
    }.get(conn.source, _l("You met at the event"))


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
                Registration.id.in_(others), Registration.is_checked_in
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
    places = memberships_of(prompt.event.org_id, list(regs.values()))
    people = []
    for other_id, conn in others.items():
        reg = regs.get(other_id)
        if reg is None:
            continue
        person = Person(reg, _how(conn), notes.get(conn.id) or "", chosen.get(other_id))
        membership = places.get(reg.id)
        if membership is not None:
            away = hold_for(membership, as_mentor=False, name=reg.name)
            busy = None if away else hold_for(membership, as_mentor=True, name=reg.name)
            person.away = away.reason if away else None
            person.busy = busy.reason if busy else None
        people.append(person)
    return people


# ---------------------------------------------------------------------------
# The e-mailed link


def prompt_token(prompt: FollowupPrompt) -> str:
    """A link secret for ``prompt`` (its data: prompt and person), good for any
    number of saves until it expires: every one-tap link of an e-mail keeps
    working after the first save, like the prompt in the app."""
    return tokens.make(PURPOSE, {"p": prompt.id, "r": prompt.registration_id})


def prompt_link(token: str, pick: str | None = None) -> str:
    """The absolute address of the prompt page, optionally preselecting a choice."""
    if pick:
        return absolute_url("followup.answer", token=token, pick=pick)
    return absolute_url("followup.answer", token=token)


def read_prompt_token(
    token: str, viewer: Any = None
) -> tuple[FollowupPrompt, dict[str, Any]]:
    """The prompt behind an e-mailed link, or ``LinkError`` (expired or bad).

    The link is never spent (a ``jti`` from an older, single-use link is
    ignored). Someone signed in who is not the person the prompt was sent to is
    refused ("other", 403) and sees nothing of it.
    """
    data = tokens.read(PURPOSE, token, max_age=link_days() * 86400, reusable=True)
    prompt_id, reg_id = data.get("p"), data.get("r")
    prompt = (
        db.session.get(FollowupPrompt, prompt_id)
        if isinstance(prompt_id, int)
        else None
    )
    if prompt is None or prompt.registration_id != reg_id:
        raise LinkError(
            "invalid", _("This link is not valid. Check that it was copied whole.")
        )
    if getattr(viewer, "is_authenticated", False) and not belongs_to(prompt, viewer):
        raise LinkError(
            "other", _("This link was sent to someone else, so it does not open here.")
        )
    return prompt, data


# ---------------------------------------------------------------------------
# Whose prompt


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
    if prompt.event.status == EventStatus.CANCELLED:
        return None
    return prompt


def _mine(user: User) -> ColumnElement[bool]:
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
        .where(_mine(user), Event.status != EventStatus.CANCELLED)
        .order_by(Event.ends_at.desc(), FollowupPrompt.id.desc())
    ).all()
    return (
        [p for p in rows if not p.is_answered],
        [p for p in rows if p.is_answered],
    )


def open_count(user: User) -> int:
    """How many of the user's prompts wait for an answer (for a nav badge)."""
    return (
        db.session.scalar(
            select(func.count(FollowupPrompt.id))
            .join(Event, Event.id == FollowupPrompt.event_id)
            .join(Registration, Registration.id == FollowupPrompt.registration_id)
            .where(
                _mine(user),
                ~FollowupPrompt.is_answered,
                Event.status != EventStatus.CANCELLED,
            )
        )
        or 0
    )


def testimonial_of(prompt: FollowupPrompt) -> Testimonial | None:
    """The testimonial this prompt gave with consent, if any (not once taken back)."""
    return testimonial_by_source(f"prompt:{prompt.id}")
