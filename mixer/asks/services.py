"""Asking for a micro-mentor on a topic, without an event.

A member writes an ask (``MentorRequest``) on a topic. ``suggest`` ranks people of
the same organization who offer that topic: other departments first, then the
people with the fewest open pairs (so the load spreads), then a stable order by
name. The requester picks up to three of them; each gets one e-mail with accept
and decline links (signed, single-use, 14 days). The first acceptance becomes a
mentoring pair (``mixer.pairs.lifecycle.create_pair``); everyone else asked is
thanked and released. A decline stays private: the requester only ever learns
that *nobody asked* could take it on, never who said no.

Topic matching (see ``topic_match``): topics and tags are compared lower-case,
with hyphens, slashes and other punctuation read as spaces and a plural "s"
ignored ("Public-Speaking" = "public speaking", "negotiations" = "negotiation").
A tag matches exactly when the words are equal and partially when one side's
words appear, in order and whole, inside the other's ("speaking" ↔ "public
speaking"; "excel" never matches "excellence").
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import or_, select, update

from mixer import clock, tokens
from mixer.accounts.models import User
from mixer.asks.models import MentorRequest, MentorSuggestion
from mixer.errors import LinkError
from mixer.extensions import db
from mixer.jobs.services import cancel, schedule
from mixer.mail.services import queue_mail
from mixer.orgs.models import Department, Membership, Organization
from mixer.orgs.services import organizers_of
from mixer.pairs.models import OPEN_STATUSES, Pair
from mixer.urls import absolute_url

if TYPE_CHECKING:
    from mixer.pairs.models import Pair as PairT

ANSWER_PURPOSE = "asks.answer"
ANSWER_DAYS = 14  # how long an ask waits for an answer (and its links work)
EXPIRE_JOB = "asks.expire"
MAX_OPEN_ASKS = 3  # open asks per person and organization
MAX_PICKS = 3  # people asked at once
MAX_ASKED = 12  # people asked over an ask's whole life: no spraying the org
TOPIC_MIN, TOPIC_MAX = 2, 80
NOTE_MAX = 1000
SUGGESTIONS = 5
# Mail about asks goes to people who keep mentoring mail on; the closest kind.
PREFERENCE = "mentor_asks"
CHOICES = ("accept", "decline")
PENDING = "asked"


class AskError(ValueError):
    """An ask or answer that cannot go ahead; the message is safe to show.

    ``field`` names the form field it belongs to; ``status`` is the HTTP status a
    page shows it with (422 bad input, 409 the ask moved on meanwhile).
    """

    def __init__(self, message: str, field: str | None = None, status: int = 422):
        """Keep the message, the form field it belongs to and the HTTP status."""
        super().__init__(message)
        self.field = field
        self.status = status


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
        parts = [f"offers {self.tag}"]
        if self.department:
            parts.append(
                self.department
                if self.other_department
                else f"{self.department} (your department)"
            )
        return " · ".join(parts)[:200]


@dataclass(frozen=True)
class Outcome:
    """What an answer did: the choice, the ask and (on acceptance) the pair."""

    choice: str
    request: MentorRequest
    pair: PairT | None = None


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


def topic_match(topic: str, tag: str) -> str | None:
    """ "exact", "partial" or None: how an offered ``tag`` fits a ``topic``."""
    a, b = _words(topic), _words(tag)
    if not a or not b:
        return None
    if a == b:
        return "exact"
    if _contains(a, b) or _contains(b, a):
        return "partial"
    return None


def best_tag(topic: str, offers: list[str] | None) -> tuple[str, bool] | None:
    """The offered tag that fits ``topic`` best and whether it is exact, or None."""
    best: tuple[str, bool] | None = None
    for tag in offers or ():
        fit = topic_match(topic, tag)
        if fit == "exact":
            return tag, True
        if fit == "partial" and best is None:
            best = (tag, False)
    return best


def _active_members(org_id: int):
    """Rows (user id, name, offers, department id) of the org's active accounts."""
    return db.session.execute(
        select(User.id, User.name, User.offers, Membership.department_id)
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


# ---------------------------------------------------------------------------
# Asks


def org_of(request: MentorRequest) -> Organization:
    """The organization an ask belongs to."""
    return db.session.get(Organization, request.org_id)


def _check_topic(topic: str) -> str:
    """The normalised topic, or AskError if it is too short or too long."""
    topic = normalise_topic(topic)
    if len(topic) < TOPIC_MIN:
        raise AskError("Name the topic in a word or two.", "topic")
    if len(topic) > TOPIC_MAX:
        raise AskError(
            f"Keep the topic under {TOPIC_MAX} characters; say more in the note.",
            "topic",
        )
    return topic


def open_asks(user: User, org: Organization) -> list[MentorRequest]:
    """The person's open asks in ``org``, oldest first."""
    return list(
        db.session.scalars(
            select(MentorRequest)
            .where(
                MentorRequest.org_id == org.id,
                MentorRequest.requester_id == user.id,
                MentorRequest.status == "open",
            )
            .order_by(MentorRequest.id)
        )
    )


def create_request(
    org: Organization, requester: User, topic: str, note: str | None = None
) -> MentorRequest:
    """Open an ask on ``topic`` and rank the first suggestions for it."""
    topic = _check_topic(topic)
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        raise AskError(f"Keep the note under {NOTE_MAX} characters.", "note")
    _lock_asker(org.id, requester.id)
    mine = open_asks(requester, org)
    if any(r.topic == topic for r in mine):
        raise AskError("You already have an open ask on this topic.", "topic")
    if len(mine) >= MAX_OPEN_ASKS:
        raise AskError(
            f"You have {len(mine)} open asks, the most at once. Withdraw one "
            "or wait for a match before asking again.",
            "topic",
        )
    request = MentorRequest(org_id=org.id, requester=requester, topic=topic, note=note)
    db.session.add(request)
    db.session.flush()
    suggest(request)
    return request


def _lock_asker(org_id: int, user_id: int) -> None:
    """Take turns on one person's asks in one organization (their membership
    row), so a double click cannot open two asks on a topic or a fourth ask."""
    _lock(
        Membership,
        Membership.role,
        Membership.org_id == org_id,
        Membership.user_id == user_id,
    )


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


def _excluded(request: MentorRequest) -> set[int]:
    """Who may not be suggested for ``request``, whatever they offer.

    The requester; people with an open pair with them; everyone this ask already
    went to (an answer is final, an unanswered ask is not repeated); and anyone
    the same person asked on the same topic before who did not accept, whether
    they declined or never answered (the two must look alike).
    """
    already = db.session.scalars(
        select(MentorSuggestion.candidate_id).where(
            MentorSuggestion.request_id == request.id,
            MentorSuggestion.status != "suggested",
        )
    )
    # Not only those who declined: someone who let an earlier ask lapse is left
    # out too, or a fresh list would tell the requester who said no.
    asked_before = db.session.scalars(
        select(MentorSuggestion.candidate_id)
        .join(MentorRequest, MentorRequest.id == MentorSuggestion.request_id)
        .where(
            MentorRequest.org_id == request.org_id,
            MentorRequest.requester_id == request.requester_id,
            MentorRequest.topic == request.topic,
            MentorSuggestion.asked_at.is_not(None),
            MentorSuggestion.status != "accepted",
        )
    )
    return (
        {request.requester_id}
        | _open_partners(request.requester_id, request.org_id)
        | set(already)
        | set(asked_before)
    )


def rank(request: MentorRequest, limit: int | None = SUGGESTIONS) -> list[Ranked]:
    """People who could mentor ``request``'s topic, best first (reads only).

    Order: other departments before the requester's own; then fewer open pairs;
    then an exact tag before a partial one; then name and id, so the same data
    always gives the same list.
    """
    excluded = _excluded(request)
    requester_dept = db.session.scalar(
        select(Membership.department_id).where(
            Membership.org_id == request.org_id,
            Membership.user_id == request.requester_id,
        )
    )
    matches = []
    for row in _active_members(request.org_id):
        if row.id in excluded:
            continue
        fit = best_tag(request.topic, row.offers)
        if fit is not None:
            matches.append((row, fit))
    counts = _open_pair_counts(request.org_id, {row.id for row, _ in matches})
    departments = dict(
        db.session.execute(
            select(Department.id, Department.name).where(
                Department.org_id == request.org_id
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
                requester_dept is not None and row.department_id == requester_dept
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


def suggest(request: MentorRequest, limit: int = SUGGESTIONS) -> list[MentorSuggestion]:
    """Store a fresh ranking as the ask's "suggested" rows and return them.

    Rows already asked or answered are kept as they are; earlier suggestions
    that no longer fit (paired meanwhile, stopped offering it) are dropped.
    """
    fresh = rank(request, limit) if request.status == "open" else []
    by_candidate = {s.candidate_id: s for s in request.suggestions}
    keep = {r.user_id for r in fresh}
    for s in list(request.suggestions):
        if s.status == "suggested" and s.candidate_id not in keep:
            request.suggestions.remove(s)
    db.session.flush()  # deletes before inserts: the pair (ask, person) is unique
    rows = []
    for position, r in enumerate(fresh, start=1):
        row = by_candidate.get(r.user_id)
        if row is None:
            row = MentorSuggestion(candidate_id=r.user_id)
            request.suggestions.append(row)
        row.rank, row.reason = position, r.reason
        rows.append(row)
    db.session.flush()
    return rows


def suggested(request: MentorRequest) -> list[MentorSuggestion]:
    """The stored suggestions not asked yet, in rank order."""
    return sorted(
        (s for s in request.suggestions if s.status == "suggested"),
        key=lambda s: s.rank,
    )


def asked(request: MentorRequest) -> list[MentorSuggestion]:
    """Everyone this ask went to, in the order they were asked."""
    return sorted(
        (s for s in request.suggestions if s.asked_at is not None),
        key=lambda s: (s.asked_at, s.rank, s.id),
    )


def is_waiting(request: MentorRequest) -> bool:
    """Whether someone asked has not answered yet."""
    return any(s.status == PENDING for s in request.suggestions)


def change_topic(request: MentorRequest, by: User, topic: str) -> MentorRequest:
    """Change the topic before anyone was asked (e.g. to a nearby offered one)."""
    request = _own_open(request, by)
    if asked(request):
        raise AskError("People were already asked about this topic.", "topic", 409)
    topic = _check_topic(topic)
    _lock_asker(request.org_id, by.id)
    org = org_of(request)
    if any(r.topic == topic and r.id != request.id for r in open_asks(by, org)):
        raise AskError("You already have an open ask on this topic.", "topic")
    request.topic = topic
    suggest(request)
    return request


def _own_open(request: MentorRequest, by: User) -> MentorRequest:
    """The ask, locked and freshly read; AskError unless ``by`` wrote it and it
    is still open.

    The lock comes before the check: an acceptance committed meanwhile would
    otherwise be overwritten (a withdrawn ask with a pair, a second round of
    asks while the first is still out).
    """
    if request.requester_id != by.id:
        raise AskError("Only the person asking can do that.", status=404)
    request = lock_request(request.id)
    if request.status != "open":
        raise AskError(
            "This ask is matched already."
            if request.status == "matched"
            else "This ask was withdrawn.",
            status=409,
        )
    return request


def refresh(request: MentorRequest, by: User) -> list[MentorSuggestion]:
    """Rank the suggestions of one's own ask again; nothing to do once it ended."""
    try:
        request = _own_open(request, by)
    except AskError as exc:
        if exc.status == 404:
            raise
        return []
    return suggest(request)


def ask(
    request: MentorRequest, by: User, candidate_ids: list[int]
) -> list[MentorSuggestion]:
    """Ask up to three suggested people; each gets one e-mail with answer links."""
    request = _own_open(request, by)
    picked = list(dict.fromkeys(int(c) for c in candidate_ids))
    if not picked:
        raise AskError("Pick at least one person to ask.", "people")
    if len(picked) > MAX_PICKS:
        raise AskError(f"Pick at most {MAX_PICKS} people at once.", "people")
    if is_waiting(request):
        # One round at a time: asking more while some are pending would tell the
        # requester, by the room left, that someone declined.
        raise AskError(
            "You are still waiting for answers; we will e-mail you.", "people", 409
        )
    if len(asked(request)) + len(picked) > MAX_ASKED:
        raise AskError(
            f"An ask goes to at most {MAX_ASKED} people. Tell the organizers instead.",
            "people",
        )
    rows = {s.candidate_id: s for s in suggested(request)}
    eligible = {r.user_id for r in rank(request, limit=None)}
    chosen = []
    for candidate_id in picked:
        row = rows.get(candidate_id)
        if row is None or candidate_id not in eligible:
            raise AskError(
                "Someone you picked can no longer be asked. The list is updated.",
                "people",
                409,
            )
        chosen.append(row)
    now = clock.now()
    for row in chosen:
        row.status, row.asked_at = PENDING, now
        db.session.flush()
        _mail_ask(row)
        schedule(
            EXPIRE_JOB,
            {"suggestion_id": row.id},
            run_at=now + timedelta(days=ANSWER_DAYS),
            dedupe_key=f"{EXPIRE_JOB}:{row.id}",
            org_id=request.org_id,
        )
    return chosen


def _mail_ask(row: MentorSuggestion) -> None:
    """The one e-mail an asked person gets, with one-tap accept and decline."""
    request = row.request
    token = tokens.make(
        ANSWER_PURPOSE, {"s": row.id, "u": row.candidate_id}, single_use=True
    )
    queue_mail(
        row.candidate.email,
        f"Would you be {request.requester.name}'s micro-mentor on {request.topic}?",
        "ask_received",
        {
            "request": request,
            "suggestion": row,
            "department": department_of(request),
            "tag": (best_tag(request.topic, row.candidate.offers) or (request.topic,))[
                0
            ],
            "cadence": _cadence(),
            "accept_url": absolute_url(
                "asks.answer_link", token=token, choice="accept"
            ),
            "decline_url": absolute_url(
                "asks.answer_link", token=token, choice="decline"
            ),
            "inbox_url": absolute_url("asks.index"),
            "days": ANSWER_DAYS,
        },
        user=row.candidate,
        preference=PREFERENCE,
        org=request.org,
        dedupe_key=f"asks:ask:{row.id}",
    )


def _cadence() -> dict[str, int]:
    """The default rhythm of a new pair, to tell people what they agree to."""
    cfg = current_app.config
    return {
        "days": int(cfg["PAIR_CADENCE_DAYS"]),
        "minutes": int(cfg["PAIR_CHECKIN_MINUTES"]),
        "weeks": round(int(cfg["PAIR_TERM_DAYS"]) / 7),
    }


def department_of(request: MentorRequest) -> str | None:
    """The requester's department, shown to the people asked."""
    return _department_name(request.requester_id, request.org_id)


def _department_name(user_id: int, org_id: int) -> str | None:
    """The name of a person's department in the organization, if any."""
    return db.session.scalar(
        select(Department.name)
        .join(Membership, Membership.department_id == Department.id)
        .where(Membership.user_id == user_id, Membership.org_id == org_id)
    )


def withdraw(request: MentorRequest, by: User) -> MentorRequest:
    """Close an open ask: pending asks are withdrawn quietly, no more mail."""
    request = _own_open(request, by)
    request.status, request.closed_at = "closed", clock.now()
    for s in request.suggestions:
        if s.status in ("suggested", PENDING):
            if s.status == PENDING:
                cancel(f"{EXPIRE_JOB}:{s.id}")
            s.status = "withdrawn"
    db.session.flush()
    return request


# ---------------------------------------------------------------------------
# Answers


def _lock(model: type, touch, *where) -> None:
    """Hold the rows ``where`` selects until the transaction ends.

    PostgreSQL: ``SELECT … FOR UPDATE``; a second transaction waits there and
    then sees what the first committed. SQLite: a no-op write of the column
    ``touch`` (one no foreign key refers to, so no key checks run) takes the
    database's single write lock first, so everything read after it is current.
    Whatever this session read before may be stale, so it is all expired.
    """
    db.session.flush()
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(model)
            .where(*where)
            .values({touch: touch})
            .execution_options(synchronize_session=False)
        )
    db.session.execute(select(model.id).where(*where).with_for_update())
    db.session.expire_all()


def lock_request(request_id: int) -> MentorRequest:
    """Lock one ask's row until the transaction ends; returns it, freshly read."""
    _lock(MentorRequest, MentorRequest.status, MentorRequest.id == request_id)
    request = db.session.get(MentorRequest, request_id)
    if request is None:
        raise AskError("This ask no longer exists.", status=404)
    return request


def read_answer_token(
    token: str, viewer: User | None = None
) -> tuple[MentorSuggestion, dict]:
    """The suggestion a valid answer link is for and its data, or ``LinkError``.

    A link only works for the person it was sent to: someone else signed in
    (a forwarded mail, a shared computer) is refused and nothing changes.
    """
    data = tokens.read(ANSWER_PURPOSE, token, max_age=ANSWER_DAYS * 86400)
    row = db.session.get(MentorSuggestion, data.get("s") or 0)
    if row is None or row.candidate_id != data.get("u"):
        raise LinkError("invalid", "This link is not valid.")
    if getattr(viewer, "is_authenticated", False) and viewer.id != row.candidate_id:
        raise LinkError(
            "invalid",
            "This link was sent to someone else. Sign out, or open it from "
            "that person's e-mail.",
        )
    return row, data


def answer_by_token(token: str, choice: str, viewer: User | None = None) -> Outcome:
    """Record an answer given through an e-mailed link (spends the link)."""
    row, data = read_answer_token(token, viewer)
    lock_request(row.request_id)  # before the spend: the first write takes the lock
    tokens.spend(ANSWER_PURPOSE, data)
    return answer(row.id, row.candidate, choice)


def answer(suggestion_id: int, candidate: User, choice: str) -> Outcome:
    """Accept or decline an ask; the first acceptance makes the pair.

    Race-safe: the ask's row is locked, and its status changes from "open" to
    "matched" by compare-and-set, so two people accepting at once make one pair.
    """
    if choice not in CHOICES:
        raise AskError("Choose accept or decline.", "choice")
    row = db.session.get(MentorSuggestion, suggestion_id)
    if row is None or row.candidate_id != candidate.id:
        raise AskError("There is no such ask for you.", status=404)
    request = lock_request(row.request_id)
    db.session.refresh(row)
    _check_answerable(row, request)
    now = clock.now()
    if choice == "decline":
        row.status, row.answered_at = "declined", now
        cancel(f"{EXPIRE_JOB}:{row.id}")
        db.session.flush()
        _after_round(request)
        return Outcome("decline", request)
    won = db.session.execute(
        update(MentorRequest)
        .where(MentorRequest.id == request.id, MentorRequest.status == "open")
        .values(status="matched", closed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        raise AskError("Someone else took this on a moment ago. Thank you!", status=409)
    db.session.refresh(request)
    row.status, row.answered_at = "accepted", now
    cancel(f"{EXPIRE_JOB}:{row.id}")
    pair = _make_pair(request, candidate)
    for other in request.suggestions:
        if other.id == row.id or other.status not in ("suggested", PENDING):
            continue
        was_asked = other.status == PENDING
        other.status = "withdrawn"
        if was_asked:
            cancel(f"{EXPIRE_JOB}:{other.id}")
            _mail_taken(other)
    db.session.flush()
    return Outcome("accept", request, pair)


def check_answerable(row: MentorSuggestion) -> None:
    """AskError (409) with a plain explanation when the ask cannot be answered."""
    _check_answerable(row, row.request)


def answer_message(outcome: Outcome) -> str:
    """A one-line thank-you for the answer just given."""
    name = outcome.request.requester.name
    if outcome.choice == "decline":
        return f"Thank you for answering. {name} will not be told who declined."
    if outcome.pair is None:
        return (
            f"Thank you! You and {name} already have a pair: "
            f"bring {outcome.request.topic} to your next check-in."
        )
    return (
        f"You are {name}'s micro-mentor on {outcome.request.topic}. "
        "We e-mailed you both an introduction and a calendar invite."
    )


def _check_answerable(row: MentorSuggestion, request: MentorRequest) -> None:
    """Raise AskError (409) unless ``row`` may still be answered."""
    if row.status == "accepted":
        raise AskError("You already accepted this ask. Thank you!", status=409)
    if row.status == "declined":
        raise AskError("You already declined this ask.", status=409)
    if request.status == "matched":
        raise AskError(
            "Someone else has already taken this on. Thank you for considering it!",
            status=409,
        )
    if request.status == "closed":
        raise AskError(
            f"{request.requester.name} withdrew this ask; there is nothing to do.",
            status=409,
        )
    if row.status != PENDING or _lapsed(row):
        raise AskError(
            f"This ask lapsed after {ANSWER_DAYS} days without an answer.", status=409
        )
    for person in (request.requester, row.candidate):
        if not person.is_active_account or not _is_member(person.id, request.org_id):
            raise AskError(
                "This ask cannot go ahead: one of you is no longer in "
                "the organization.",
                status=409,
            )


def _is_member(user_id: int, org_id: int) -> bool:
    """Whether the person still belongs to the organization."""
    return (
        db.session.scalar(
            select(Membership.id).where(
                Membership.user_id == user_id, Membership.org_id == org_id
            )
        )
        is not None
    )


def _lapsed(row: MentorSuggestion) -> bool:
    """Whether the ask's answer time ran out (also before the job has run)."""
    return (
        row.asked_at is not None
        and row.asked_at + timedelta(days=ANSWER_DAYS) <= clock.now()
    )


def _make_pair(request: MentorRequest, mentor: User) -> PairT | None:
    """The mentoring pair of the ask; None if the two already had one open."""
    from mixer.pairs.lifecycle import create_pair

    pair = create_pair(
        org_of(request),
        mentor,
        request.requester,
        kind="mentoring",
        mentor=mentor,
        source="request",
        topic=request.topic,
        request_id=request.id,
    )
    if pair is None:
        # They became a pair some other way since the ask: no second pair, but
        # both hear that the topic can go to their next check-in.
        for person, other in ((request.requester, mentor), (mentor, request.requester)):
            queue_mail(
                person.email,
                f"{mentor.name} will help with {request.topic}",
                "ask_already_paired",
                {"request": request, "mentor": mentor, "other": other},
                user=person,
                org=request.org,
                kind="asks",
                dedupe_key=f"asks:paired:{request.id}:{person.id}",
            )
    return pair


def _mail_taken(row: MentorSuggestion) -> None:
    """Thank someone asked whose answer is no longer needed."""
    queue_mail(
        row.candidate.email,
        f"Thank you — the ask on {row.request.topic} is already matched",
        "ask_taken",
        {"request": row.request, "suggestion": row},
        user=row.candidate,
        preference=PREFERENCE,
        org=row.request.org,
        dedupe_key=f"asks:taken:{row.id}",
    )


def _after_round(request: MentorRequest) -> None:
    """When nobody asked is left to answer, tell the requester once, without names."""
    if request.status != "open" or is_waiting(request):
        return
    people = asked(request)
    if not people:
        return
    fresh = suggest(request)
    queue_mail(
        request.requester.email,
        f"Your ask on {request.topic}: nobody asked could take it on right now",
        "ask_nobody",
        {
            "request": request,
            "count": len(people),
            "more": len(fresh),
            "url": absolute_url("asks.show", request_id=request.id),
        },
        user=request.requester,
        org=request.org,
        kind="asks",
        # One per round: the key counts everyone asked so far.
        dedupe_key=f"asks:nobody:{request.id}:{len(people)}",
    )


def expire(suggestion_id: int) -> bool:
    """Let an unanswered ask lapse after its days; True if it did (idempotent)."""
    row = db.session.get(MentorSuggestion, suggestion_id)
    if row is None:
        return False
    request = lock_request(row.request_id)
    db.session.refresh(row)
    if row.status != PENDING or not _lapsed(row):
        return False
    row.status = "withdrawn"  # answered_at stays empty: nobody answered
    db.session.flush()
    _after_round(request)
    return True


# ---------------------------------------------------------------------------
# Organizers


def _organizer_key(request: MentorRequest) -> str:
    """The prefix of the dedupe keys of one ask's mail to organizers."""
    return f"asks:organizers:{request.id}:"


def organizers_told(request: MentorRequest) -> bool:
    """Whether the requester already passed this ask on to the organizers."""
    return request.organizers_told_at is not None


def tell_organizers(request: MentorRequest, by: User) -> int:
    """Pass an ask nobody offers on to the organizers (once); how many were told."""
    request = _own_open(request, by)
    if organizers_told(request):
        raise AskError("The organizers already have this ask.", status=409)
    organizers = organizers_of(request.org_id, exclude=by.id)
    if not organizers:
        raise AskError("This organization has no organizers to tell.", status=409)
    for person in organizers:
        queue_mail(
            person.email,
            f"{by.name} is looking for a micro-mentor on {request.topic}",
            "ask_organizers",
            {
                "request": request,
                "department": _department_name(by.id, request.org_id),
                "nearby": nearby_topics(org_of(request), request.topic),
            },
            user=person,
            org=request.org,
            kind="asks",
            reply_to=by.email,
            dedupe_key=f"{_organizer_key(request)}{person.id}",
        )
    request.organizers_told_at = clock.now()
    db.session.flush()
    return len(organizers)


# ---------------------------------------------------------------------------
# Pages


def request_for(request_id: int, user: User) -> MentorRequest | None:
    """The ask, for the person who wrote it; None for everyone else."""
    request = db.session.get(MentorRequest, request_id)
    if request is None or request.requester_id != user.id:
        return None
    return request


def my_requests(user: User) -> list[MentorRequest]:
    """Everything the person asked, open first, newest first."""
    return list(
        db.session.scalars(
            select(MentorRequest)
            .where(MentorRequest.requester_id == user.id)
            .order_by(
                (MentorRequest.status != "open"),
                MentorRequest.created_at.desc(),
                MentorRequest.id.desc(),
            )
        )
    )


def asks_of(user: User, recent: int = 20) -> tuple[list, list]:
    """Asks waiting for the person's answer, and their recent answered ones."""
    rows = db.session.scalars(
        select(MentorSuggestion)
        .where(
            MentorSuggestion.candidate_id == user.id,
            MentorSuggestion.asked_at.is_not(None),
        )
        .order_by(MentorSuggestion.asked_at.desc(), MentorSuggestion.id.desc())
        .limit(100)
    ).all()
    waiting = [
        s
        for s in rows
        if s.status == PENDING and s.request.status == "open" and not _lapsed(s)
    ]
    done = [s for s in rows if s not in waiting][:recent]
    return waiting, done


def pair_of(request: MentorRequest) -> PairT | None:
    """The pair a matched ask became, if any."""
    return db.session.scalar(
        select(Pair).where(Pair.request_id == request.id).order_by(Pair.id)
    )


def expires_at(row: MentorSuggestion) -> datetime | None:
    """When an asked person's answer time runs out."""
    return row.asked_at + timedelta(days=ANSWER_DAYS) if row.asked_at else None
