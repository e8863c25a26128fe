"""Who can help with an ask: topics, candidates, their ranking and reasons.

Topic matching (see ``topic_match``): topics and tags are compared lower-case,
with hyphens, slashes and other punctuation read as spaces and a plural "s"
ignored ("Public-Speaking" = "public speaking", "negotiations" = "negotiation").
A tag matches exactly when the words are equal and partially when one side's
words appear, in order and whole, inside the other's ("speaking" ↔ "public
speaking"; "excel" never matches "excellence").

``rank`` orders the people of the ask's organization who offer the topic and have
room to mentor (fewer open mentees than their ``mentoring_capacity``, no "not
before" date still to come; ``mixer.pairs.capacity``): other
departments first, then the people with the fewest open pairs (so the load
spreads), then exact tags before partial ones, then a stable order by name.
``suggest`` stores the first few as the ask's suggestions. When nobody offers
the topic, ``nearby_topics`` names what people do offer. Everything here reads,
except ``suggest``, which only flushes.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import Row, or_, select

from mixer.accounts.models import User
from mixer.asks.models import (
    Ask,
    AskStatus,
    AskSuggestion,
    SuggestionStatus,
)
from mixer.extensions import db
from mixer.orgs.models import Department, Membership, Organization
from mixer.pairs.capacity import mentoring_loads, today
from mixer.pairs.models import OPEN_STATUSES, Pair

SUGGESTIONS = 5  # suggestions stored for an ask
# How a stored reason is written (English, once); ``reason_text`` reads it back.
OFFERS = "offers "
OWN_DEPARTMENT = " (your department)"


class Fit(StrEnum):
    """How an offered tag fits a topic (see ``topic_match``)."""

    EXACT = "exact"
    PARTIAL = "partial"


@dataclass(frozen=True)
class Ranked:
    """One person who offers the topic, with what ranked them."""

    user_id: int
    name: str
    tag: str  # the tag of theirs that matched
    exact: bool
    department: str | None
    other_department: bool
    open_pairs: int

    @property
    def reason(self) -> str:
        """ "offers public speaking · Finance", as shown next to the name."""
        parts = [f"{OFFERS}{self.tag}"]
        if self.department:
            parts.append(
                self.department
                if self.other_department
                else f"{self.department}{OWN_DEPARTMENT}"
            )
        return " · ".join(parts)[:200]


def reason_text(stored: str | None) -> str:
    """A suggestion's stored reason (``Ranked.reason``, English, kept with the
    row) said in the language in force: "offers public speaking · Finance"."""
    text = stored or ""
    if not text.startswith(OFFERS):
        return text
    tag, _sep, department = text.removeprefix(OFFERS).partition(" · ")
    if not department:
        return _("offers %(tag)s", tag=tag)
    if department.endswith(OWN_DEPARTMENT):
        return _(
            "offers %(tag)s · %(department)s (your department)",
            tag=tag,
            department=department.removesuffix(OWN_DEPARTMENT),
        )
    return _("offers %(tag)s · %(department)s", tag=tag, department=department)


# ---------------------------------------------------------------------------
# Topics


def normalise_topic(raw: str | None) -> str:
    """A topic as stored: trimmed, single spaces, lower-case (like ``User.offers``)."""
    return " ".join((raw or "").strip().lower().split())


def _words(value: str) -> tuple[str, ...]:
    """Comparable words: punctuation is a space, a plural "s" does not count."""
    words = re.split(r"[\W_]+", value.lower())
    return tuple(
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
        for w in words
        if w
    )


def _contains(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
    """Whether the words ``inner`` appear whole and in order inside ``outer``."""
    n = len(inner)
    return any(outer[i : i + n] == inner for i in range(len(outer) - n + 1))


def topic_match(topic: str, tag: str) -> Fit | None:
    """How an offered ``tag`` fits a ``topic``: exactly, partly, or None."""
    a, b = _words(topic), _words(tag)
    if not a or not b:
        return None
    if a == b:
        return Fit.EXACT
    if _contains(a, b) or _contains(b, a):
        return Fit.PARTIAL
    return None


def best_tag(topic: str, offers: list[str] | None) -> tuple[str, bool] | None:
    """The offered tag that fits ``topic`` best and whether it is exact, or None."""
    best: tuple[str, bool] | None = None
    for tag in offers or ():
        fit = topic_match(topic, tag)
        if fit == Fit.EXACT:
            return tag, True
        if fit == Fit.PARTIAL and best is None:
            best = (tag, False)
    return best


def _active_members(
    org_id: int,
) -> Sequence[Row[int, str, list[str], int | None, int, date | None]]:
    """Rows (user id, name, offers, department id, mentoring capacity, available
    from) of the org's active accounts."""
    return db.session.execute(
        select(
            User.id,
            User.name,
            User.offers,
            Membership.department_id,
            Membership.mentoring_capacity,
            Membership.available_from,
        )
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id, User.is_active_account.is_(True))
    ).all()


def offered_tags(org: Organization, limit: int = 200) -> list[str]:
    """Tags people of ``org`` offer, most offered first (for the topic field)."""
    counts: Counter[str] = Counter()
    for row in _active_members(org.id):
        counts.update({normalise_topic(t) for t in row.offers or () if t})
    counts.pop("", None)
    return [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][
        :limit
    ]


def nearby_topics(org: Organization, topic: str, limit: int = 5) -> list[str]:
    """Offered tags close to ``topic``: similar spellings first, then a shared word."""
    tags = [t for t in offered_tags(org) if topic_match(topic, t) is None]
    words = set(_words(topic))
    sharing = [t for t in tags if words & set(_words(t))]
    similar = difflib.get_close_matches(topic, tags, n=limit, cutoff=0.6)
    return list(dict.fromkeys(similar + sharing))[:limit]


def department_name(user_id: int, org_id: int) -> str | None:
    """The name of a person's department in the organization, if any."""
    return db.session.scalar(
        select(Department.name)
        .join(Membership, Membership.department_id == Department.id)
        .where(Membership.user_id == user_id, Membership.org_id == org_id)
    )


# ---------------------------------------------------------------------------
# Candidates


def _open_partners(user_id: int, org_id: int) -> set[int]:
    """People who have an open pair with ``user_id`` in the organization."""
    rows = db.session.execute(
        select(Pair.a_id, Pair.b_id).where(
            Pair.org_id == org_id,
            Pair.status.in_(OPEN_STATUSES),
            or_(Pair.a_id == user_id, Pair.b_id == user_id),
        )
    )
    return {b if a == user_id else a for a, b in rows}


def _open_pair_counts(org_id: int, user_ids: set[int]) -> Counter[int]:
    """How many open pairs each of ``user_ids`` has in the organization."""
    counts: Counter[int] = Counter()
    if not user_ids:
        return counts
    rows = db.session.execute(
        select(Pair.a_id, Pair.b_id).where(
            Pair.org_id == org_id,
            Pair.status.in_(OPEN_STATUSES),
            or_(Pair.a_id.in_(user_ids), Pair.b_id.in_(user_ids)),
        )
    )
    for a, b in rows:
        counts.update(u for u in (a, b) if u in user_ids)
    return counts


def _excluded(ask: Ask) -> set[int]:
    """Who may not be suggested for ``ask``, whatever they offer.

    The person asking; people with an open pair with them; everyone this ask
    already went to (an answer is final, an unanswered ask is not repeated); and
    anyone the same person asked on the same topic before who did not accept,
    whether they declined or never answered (the two must look alike).
    """
    already = db.session.scalars(
        select(AskSuggestion.candidate_id).where(
            AskSuggestion.ask_id == ask.id,
            AskSuggestion.status != SuggestionStatus.SUGGESTED,
        )
    )
    # Not only those who declined: someone who let an earlier ask lapse is left
    # out too, or a fresh list would tell the person asking who said no.
    asked_before = db.session.scalars(
        select(AskSuggestion.candidate_id)
        .join(Ask, Ask.id == AskSuggestion.ask_id)
        .where(
            Ask.org_id == ask.org_id,
            Ask.requester_id == ask.requester_id,
            Ask.topic == ask.topic,
            AskSuggestion.asked_at.is_not(None),
            AskSuggestion.status != SuggestionStatus.ACCEPTED,
        )
    )
    return (
        {ask.requester_id}
        | _open_partners(ask.requester_id, ask.org_id)
        | set(already)
        | set(asked_before)
    )


def rank(ask: Ask, limit: int | None = SUGGESTIONS) -> list[Ranked]:
    """People who could mentor ``ask``'s topic, best first (reads only).

    Nobody at their mentoring capacity or before their "not before" date.
    Order: other departments before the asker's own; then fewer open pairs;
    then an exact tag before a partial one; then name and id, so the same data
    always gives the same list.
    """
    excluded = _excluded(ask)
    asker_dept = db.session.scalar(
        select(Membership.department_id).where(
            Membership.org_id == ask.org_id,
            Membership.user_id == ask.requester_id,
        )
    )
    matches = []
    members = [r for r in _active_members(ask.org_id) if r.id not in excluded]
    loads = mentoring_loads(ask.org_id, {r.id for r in members})
    day = today()
    for row in members:
        # Mentoring as many as they said, or "not before" a later date: not now.
        if loads[row.id] >= row.mentoring_capacity or (
            row.available_from is not None and row.available_from > day
        ):
            continue
        fit = best_tag(ask.topic, row.offers)
        if fit is not None:
            matches.append((row, fit))
    counts = _open_pair_counts(ask.org_id, {row.id for row, _ in matches})
    departments = dict(
        db.session.execute(
            select(Department.id, Department.name).where(
                Department.org_id == ask.org_id
            )
        ).all()
    )
    ranked = [
        Ranked(
            user_id=row.id,
            name=row.name,
            tag=tag,
            exact=exact,
            department=departments.get(row.department_id),
            # Unknown departments count as "other": we cannot tell, so no penalty.
            other_department=not (
                asker_dept is not None and row.department_id == asker_dept
            ),
            open_pairs=counts[row.id],
        )
        for row, (tag, exact) in matches
    ]
    ranked.sort(
        key=lambda r: (
            not r.other_department,
            r.open_pairs,
            not r.exact,
            r.name.casefold(),
            r.user_id,
        )
    )
    return ranked if limit is None else ranked[:limit]


def suggest(ask: Ask, limit: int = SUGGESTIONS) -> list[AskSuggestion]:
    """Store a fresh ranking as the ask's "suggested" rows and return them.

    Rows already asked or answered are kept as they are; earlier suggestions
    that no longer fit (paired meanwhile, stopped offering it) are dropped.
    """
    fresh = rank(ask, limit) if ask.status == AskStatus.OPEN else []
    by_candidate = {s.candidate_id: s for s in ask.suggestions}
    keep = {r.user_id for r in fresh}
    for s in list(ask.suggestions):
        if s.status == SuggestionStatus.SUGGESTED and s.candidate_id not in keep:
            ask.suggestions.remove(s)
    db.session.flush()  # deletes before inserts: the pair (ask, person) is unique
    rows = []
    for position, r in enumerate(fresh, start=1):
        row = by_candidate.get(r.user_id)
        if row is None:
            row = AskSuggestion(candidate_id=r.user_id)
            ask.suggestions.append(row)
        row.rank, row.reason = position, r.reason
        rows.append(row)
    db.session.flush()
    return rows
