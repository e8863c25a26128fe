"""Topic gaps: what people seek that few offer, and offers nobody asks for.

Tags live in JSON lists (profiles, registrations) and in asks' topics. Reading
them inside the database would take ``json_each`` on SQLite and
``json_array_elements_text`` on PostgreSQL and still not compare case the way
Python does, so each source is read in one statement as (person, list) rows and
counted here in linear time: three statements whatever the size. The lists come
as their JSON text, and people are gathered by that text first, so that a list
many rows share (a profile's tags given again at each event) is decoded once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, cast, or_, select

from mixer.accounts.models import User
from mixer.asks.models import Ask
from mixer.events.models import Event, Registration, RegistrationStatus
from mixer.extensions import db
from mixer.insights.figures import Count, TopicGap, Topics
from mixer.insights.filters import InsightFilter
from mixer.orgs.models import Membership, Organization

# A sign-up that wanted a place: unconfirmed guests and cancelled places say
# nothing reliable about what people came for.
COUNTED_REGISTRATIONS = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)

Person = int | str  # a user id, or a guest's lower-case e-mail


def topic_key(tag: str) -> str:
    """A tag as topics are compared: trimmed, inner spaces collapsed, no case."""
    return " ".join(tag.split()).casefold()


@dataclass
class _Topic:
    """Who seeks and who offers one topic, and who spells it each way."""

    seekers: set[Person] = field(default_factory=set)
    offerers: set[Person] = field(default_factory=set)
    spellings: defaultdict[str, set[Person]] = field(
        default_factory=lambda: defaultdict(set)
    )


def topic_gaps(org: Organization, flt: InsightFilter, limit: int = 10) -> Topics:
    """Suggested next topics (sought more than offered) and unasked offers."""
    # People by the text of the list they gave, per side: a row costs two set
    # additions, and each distinct list is decoded once at the end.
    offered: defaultdict[str | None, set[Person]] = defaultdict(set)
    sought: defaultdict[str | None, set[Person]] = defaultdict(set)
    for user_id, offers, seeks in db.session.execute(_profiles(org, flt)):
        offered[offers].add(user_id)
        sought[seeks].add(user_id)
    for user_id, email, offers, seeks in db.session.execute(_registrations(org, flt)):
        person = user_id if user_id is not None else email.lower()
        offered[offers].add(person)
        sought[seeks].add(person)
    for user_id, topic in db.session.execute(_asks(org, flt)):
        sought[json.dumps([topic])].add(user_id)

    topics: defaultdict[str, _Topic] = defaultdict(_Topic)
    for seeking, lists in ((False, offered), (True, sought)):
        for text, people in lists.items():
            for key, spelling in _tags(json.loads(text) if text else None):
                topic = topics[key]
                (topic.seekers if seeking else topic.offerers).update(people)
                topic.spellings[spelling].update(people)

    tallies = [(key, len(t.seekers), len(t.offerers)) for key, t in topics.items()]
    suggested = sorted(
        (t for t in tallies if t[1] > t[2]), key=lambda t: (t[2] - t[1], -t[1], t[0])
    )
    unasked = sorted(
        (t for t in tallies if t[1] == 0 and t[2] > 0), key=lambda t: (-t[2], t[0])
    )

    def gap(key: str, seekers: int, offerers: int) -> TopicGap:
        """The topic as it is shown, in the spelling most of its people use."""
        shown = _spelling(topics[key].spellings)
        return TopicGap(shown, Count(seekers), Count(offerers))

    return Topics(
        suggested=[gap(*t) for t in suggested[:limit]],
        unasked=[gap(*t) for t in unasked[:limit]],
    )


def _tags(value: object) -> list[tuple[str, str]]:
    """(key, spelling) of each tag of a decoded list; anything else is no tag."""
    if not isinstance(value, list):
        return []
    tags = []
    for item in value:
        if isinstance(item, str) and item.strip():
            spelling = " ".join(item.split())
            tags.append((topic_key(spelling), spelling))
    return tags


def _spelling(spellings: dict[str, set[Person]]) -> str:
    """The spelling most people use; alphabetical first among equals."""
    return min(spellings.items(), key=lambda item: (-len(item[1]), item[0]))[0]


EMPTY_LIST = "[]"  # how an empty JSON list reads as text on both databases


def _text(column: Any) -> ColumnElement[str]:
    """A JSON column read as its text (the same on SQLite and PostgreSQL)."""
    return cast(column, Text)


def _profiles(org: Organization, flt: InsightFilter) -> Select:
    """(user id, offers, seeks) of the organization's members, as they stand."""
    stmt = (
        select(User.id, _text(User.offers), _text(User.seeks))
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org.id)
    )
    if flt.department_id is not None:
        stmt = stmt.where(Membership.department_id == flt.department_id)
    return stmt


def _registrations(org: Organization, flt: InsightFilter) -> Select:
    """(user id, e-mail, offers, seeks) of places at the period's events, each
    distinct row once and none without a tag: people register again and again
    with the same tags, so the database hands over a tenth of the rows."""
    offers, seeks = _text(Registration.offers), _text(Registration.seeks)
    stmt = (
        select(Registration.user_id, Registration.email, offers, seeks)
        .distinct()
        .join(Event, Event.id == Registration.event_id)
        .where(
            *flt.event_conditions(org.id),
            Registration.status.in_(COUNTED_REGISTRATIONS),
            or_(offers != EMPTY_LIST, seeks != EMPTY_LIST),
        )
    )
    # Guests have no membership, so a department leaves them out.
    return _in_department(stmt, Registration.user_id, org, flt)


def _asks(org: Organization, flt: InsightFilter) -> Select:
    """(requester id, topic) of asks opened in the period: seeking that topic."""
    stmt = select(Ask.requester_id, Ask.topic).where(
        Ask.org_id == org.id,
        Ask.created_at >= flt.since,
        Ask.created_at < flt.until,
    )
    return _in_department(stmt, Ask.requester_id, org, flt)


def _in_department(
    stmt: Select, user_id: Any, org: Organization, flt: InsightFilter
) -> Select:
    """``stmt`` narrowed to people (``user_id``) in the filter's department now."""
    if flt.department_id is None:
        return stmt
    return stmt.join(
        Membership,
        and_(
            Membership.user_id == user_id,
            Membership.org_id == org.id,
            Membership.department_id == flt.department_id,
        ),
    )
