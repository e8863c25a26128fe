"""The life of an ask: open it, ask people, their answers, lapses, withdrawal, and
passing it on to the organizers.

A member opens an ask on a topic (``create_ask``); ``mixer.asks.matching`` ranks
who could help. The person asking picks up to three (``ask_people``); each gets
one e-mail with accept and decline links (``mixer.asks.notifications``,
``mixer.asks.links``). The first acceptance becomes a mentoring pair
(``mixer.pairs.lifecycle.create_pair``); everyone else asked is thanked and
released. A decline stays private: the person asking only ever learns that
*nobody asked* could take it on, never who said no.

Taking turns: everything that changes an ask locks its row first and checks its
state after the lock (``mixer.concurrency.lock_row``), so two acceptances make
one pair and a withdrawal never races an acceptance into a withdrawn ask with a
pair. Opening an ask locks the asker's membership row, so a double click opens
one ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from mixer import clock
from mixer.accounts.models import User
from mixer.asks.links import read_answer_token, spend
from mixer.asks.matching import normalise_topic, rank, suggest
from mixer.asks.models import (
    ANSWER_DAYS,
    IN_PLAY,
    Ask,
    AskStatus,
    AskSuggestion,
    SuggestionStatus,
)
from mixer.asks.notifications import (
    mail_already_paired,
    mail_ask,
    mail_nobody,
    mail_organizers,
    mail_taken,
)
from mixer.concurrency import lock_row, lock_where
from mixer.errors import DomainError
from mixer.extensions import db
from mixer.jobs.services import cancel, schedule
from mixer.orgs.models import Membership, Organization
from mixer.orgs.services import organizers_of
from mixer.pairs.capacity import Hold, count_words, day_text, hold_for
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair, PairSource

EXPIRE_JOB = "asks.expire"
MAX_OPEN_ASKS = 3  # open asks per person and organization
MAX_PICKS = 3  # people asked at once
MAX_ASKED = 12  # people asked over an ask's whole life: no spraying the org
TOPIC_MIN, TOPIC_MAX = 2, 80
NOTE_MAX = 1000


class AnswerChoice(StrEnum):
    """What a person asked answers."""

    ACCEPT = "accept"
    DECLINE = "decline"


CHOICES = tuple(c.value for c in AnswerChoice)


class AskError(DomainError):
    """An ask or answer that cannot go ahead; the message is safe to show.

    422 for bad input (on the form field it names), 409 when the ask moved on
    meanwhile, 404 for an ask that is not this person's.
    """

    status = 422


@dataclass(frozen=True)
class Outcome:
    """What an answer did: the choice, the ask and (on acceptance) the pair."""

    choice: AnswerChoice
    ask: Ask
    pair: Pair | None = None


def _expire_key(row: AskSuggestion) -> str:
    """The dedupe key of the job that lets one person's ask lapse."""
    return f"{EXPIRE_JOB}:{row.id}"


# ---------------------------------------------------------------------------
# Opening an ask


def _check_topic(topic: str) -> str:
    """The normalised topic, or AskError if it is too short or too long."""
    topic = normalise_topic(topic)
    if len(topic) < TOPIC_MIN:
        raise AskError(_("Name the topic in a word or two."), field="topic")
    if len(topic) > TOPIC_MAX:
        raise AskError(
            _(
                "Keep the topic under %(max)d characters; say more in the note.",
                max=TOPIC_MAX,
            ),
            field="topic",
        )
    return topic


def open_asks(user: User, org: Organization) -> list[Ask]:
    """The person's open asks in ``org``, oldest first."""
    return list(
        db.session.scalars(
            select(Ask)
            .where(
                Ask.org_id == org.id,
                Ask.requester_id == user.id,
                Ask.status == AskStatus.OPEN,
            )
            .order_by(Ask.id)
        )
    )


def create_ask(
    org: Organization, requester: User, topic: str, note: str | None = None
) -> Ask:
    """Open an ask on ``topic`` and rank the first suggestions for it."""
    topic = _check_topic(topic)
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        raise AskError(
            _("Keep the note under %(max)d characters.", max=NOTE_MAX), field="note"
        )
    _lock_asker(org.id, requester.id)
    mine = open_asks(requester, org)
    if any(a.topic == topic for a in mine):
        raise AskError(_("You already have an open ask on this topic."), field="topic")
    if len(mine) >= MAX_OPEN_ASKS:
        raise AskError(
            ngettext(
                "You have %(num)d open ask, the most at once. Withdraw one "
                "or wait for a match before asking again.",
                "You have %(num)d open asks, the most at once. Withdraw one "
                "or wait for a match before asking again.",
                len(mine),
            ),
            field="topic",
        )
    ask = Ask(org_id=org.id, requester=requester, topic=topic, note=note)
    db.session.add(ask)
    db.session.flush()
    suggest(ask)
    return ask


def _lock_asker(org_id: int, user_id: int) -> None:
    """Take turns on one person's asks in one organization (their membership
    row), so a double click cannot open two asks on a topic or a fourth ask."""
    lock_where(Membership, Membership.org_id == org_id, Membership.user_id == user_id)


# ---------------------------------------------------------------------------
# The asker's own actions


def _locked(ask_id: int) -> Ask:
    """The ask, locked until the transaction ends and read afresh.

    Whatever this session read before may be stale, so all of it is expired.
    """
    ask = lock_row(Ask, ask_id, expire_all=True)
    if ask is None:
        raise AskError(_("This ask no longer exists."), status=404)
    return ask


def _own(ask: Ask, by: User) -> Ask:
    """The ask, locked and freshly read; AskError (404) unless ``by`` wrote it."""
    if ask.requester_id != by.id:
        raise AskError(_("Only the person asking can do that."), status=404)
    return _locked(ask.id)


def _own_open(ask: Ask, by: User) -> Ask:
    """The ask, locked and freshly read; AskError unless ``by`` wrote it and it
    is still open.

    The lock comes before the check: an acceptance committed meanwhile would
    otherwise be overwritten (a withdrawn ask with a pair, a second round of
    asks while the first is still out).
    """
    ask = _own(ask, by)
    if not ask.is_open:
        raise AskError(
            _("This ask is matched already.")
            if ask.status == AskStatus.MATCHED
            else _("This ask was withdrawn."),
            status=409,
        )
    return ask


def change_topic(ask: Ask, by: User, topic: str) -> Ask:
    """Change the topic before anyone was asked (e.g. to a nearby offered one)."""
    ask = _own_open(ask, by)
    if ask.asked:
        raise AskError(
            _("People were already asked about this topic."),
            field="topic",
            status=409,
        )
    topic = _check_topic(topic)
    _lock_asker(ask.org_id, by.id)
    if any(a.topic == topic and a.id != ask.id for a in open_asks(by, ask.org)):
        raise AskError(_("You already have an open ask on this topic."), field="topic")
    ask.topic = topic
    suggest(ask)
    return ask


def refresh(ask: Ask, by: User) -> list[AskSuggestion]:
    """Rank the suggestions of one's own ask again; nothing to do once it ended."""
    ask = _own(ask, by)
    return suggest(ask) if ask.is_open else []


def ask_people(ask: Ask, by: User, candidate_ids: Sequence[int]) -> list[AskSuggestion]:
    """Ask up to three suggested people; each gets one e-mail with answer links."""
    ask = _own_open(ask, by)
    picked = list(dict.fromkeys(int(c) for c in candidate_ids))
    if not picked:
        raise AskError(_("Pick at least one person to ask."), field="people")
    if len(picked) > MAX_PICKS:
        raise AskError(
            ngettext(
                "Pick at most %(num)d person at once.",
                "Pick at most %(num)d people at once.",
                MAX_PICKS,
            ),
            field="people",
        )
    if ask.is_waiting:
        # One round at a time: asking more while some are pending would tell the
        # asker, by the room left, that someone declined.
        raise AskError(
            _("You are still waiting for answers; we will e-mail you."),
            field="people",
            status=409,
        )
    if len(ask.asked) + len(picked) > MAX_ASKED:
        raise AskError(
            ngettext(
                "An ask goes to at most %(num)d person. Tell the organizers instead.",
                "An ask goes to at most %(num)d people. Tell the organizers instead.",
                MAX_ASKED,
            ),
            field="people",
        )
    rows = {s.candidate_id: s for s in ask.suggested}
    eligible = {r.user_id for r in rank(ask, limit=None)}
    chosen = []
    for candidate_id in picked:
        row = rows.get(candidate_id)
        if row is None or candidate_id not in eligible:
            raise AskError(
                _("Someone you picked can no longer be asked. The list is updated."),
                field="people",
                status=409,
            )
        chosen.append(row)
    now = clock.now()
    for row in chosen:
        row.update_state(SuggestionStatus.ASKED, now)
        db.session.flush()
        mail_ask(row)
        schedule(
            EXPIRE_JOB,
            {"suggestion_id": row.id},
            run_at=now + timedelta(days=ANSWER_DAYS),
            dedupe_key=_expire_key(row),
            org_id=ask.org_id,
        )
    return chosen


def withdraw(ask: Ask, by: User) -> Ask:
    """Close an open ask: pending asks are withdrawn quietly, no more mail."""
    ask = _own_open(ask, by)
    now = clock.now()
    ask.update_state(AskStatus.CLOSED, now)
    for s in ask.suggestions:
        if s.status in IN_PLAY:
            if s.status == SuggestionStatus.ASKED:
                cancel(_expire_key(s))
            s.update_state(SuggestionStatus.WITHDRAWN, now)
    db.session.flush()
    return ask


def tell_organizers(ask: Ask, by: User) -> int:
    """Pass an ask nobody offers on to the organizers (once); how many were told."""
    ask = _own_open(ask, by)
    if ask.organizers_told_at is not None:
        raise AskError(_("The organizers already have this ask."), status=409)
    organizers = organizers_of(ask.org_id, exclude=by.id)
    if not organizers:
        raise AskError(_("This organization has no organizers to tell."), status=409)
    mail_organizers(ask, by, organizers)
    ask.organizers_told_at = clock.now()
    db.session.flush()
    return len(organizers)


# ---------------------------------------------------------------------------
# Answers


def answer_by_token(
    token: str, choice: str | None, viewer: User | None = None
) -> Outcome:
    """Record an answer given through an e-mailed link (spends the link)."""
    row, data = read_answer_token(token, viewer)
    _locked(row.ask_id)  # before the spend: the first write takes the lock
    spend(data)
    return answer(row.id, row.candidate, choice)


def answer(suggestion_id: int, candidate: User, choice: str | None) -> Outcome:
    """Accept or decline an ask; the first acceptance makes the pair.

    Race-safe: the ask's row is locked before its state is read, so of two
    people accepting at once the second finds the ask matched.
    """
    if choice not in CHOICES:
        raise AskError(_("Choose accept or decline."), field="choice")
    row = db.session.get(AskSuggestion, suggestion_id)
    if row is None or row.candidate_id != candidate.id:
        raise AskError(_("There is no such ask for you."), status=404)
    ask = _locked(row.ask_id)
    db.session.refresh(row)
    check_answerable(row)
    now = clock.now()
    cancel(_expire_key(row))
    if choice == AnswerChoice.DECLINE:
        row.update_state(SuggestionStatus.DECLINED, now)
        db.session.flush()
        _after_round(ask)
        return Outcome(AnswerChoice.DECLINE, ask)
    check_room(row)
    ask.update_state(AskStatus.MATCHED, now)
    row.update_state(SuggestionStatus.ACCEPTED, now)
    pair = _make_pair(ask, candidate)
    for other in ask.suggestions:
        if other.id == row.id or other.status not in IN_PLAY:
            continue
        was_asked = other.status == SuggestionStatus.ASKED
        other.update_state(SuggestionStatus.WITHDRAWN, now)
        if was_asked:
            cancel(_expire_key(other))
            mail_taken(other)
    db.session.flush()
    return Outcome(AnswerChoice.ACCEPT, ask, pair)


def check_answerable(row: AskSuggestion) -> None:
    """Raise AskError (409) with a plain explanation unless ``row`` may still be
    answered."""
    ask = row.ask
    if row.status == SuggestionStatus.ACCEPTED:
        raise AskError(_("You already accepted this ask. Thank you!"), status=409)
    if row.status == SuggestionStatus.DECLINED:
        raise AskError(_("You already declined this ask."), status=409)
    if ask.status == AskStatus.MATCHED:
        raise AskError(
            _("Someone else has already taken this on. Thank you for considering it!"),
            status=409,
        )
    if ask.status == AskStatus.CLOSED:
        raise AskError(
            _(
                "%(name)s withdrew this ask; there is nothing to do.",
                name=ask.requester.name,
            ),
            status=409,
        )
    if not row.is_waited_for:
        raise AskError(
            ngettext(
                "This ask lapsed after %(num)d day without an answer.",
                "This ask lapsed after %(num)d days without an answer.",
                ANSWER_DAYS,
            ),
            status=409,
        )
    for person in (ask.requester, row.candidate):
        if not person.is_active_account or person.membership_in(ask.org) is None:
            raise AskError(
                _(
                    "This ask cannot go ahead: one of you is no longer in "
                    "the organization."
                ),
                status=409,
            )


def check_room(row: AskSuggestion) -> None:
    """Raise AskError (409) when the person asked has no room to mentor now:
    their capacity or "not before" date changed since the ask went out."""
    ask = row.ask
    place = row.candidate.membership_in(ask.org)
    hold = place and hold_for(place, as_mentor=True, name="", you=True)
    if hold:
        raise AskError(_no_room(hold, ask.requester.name), status=409)


def _no_room(hold: Hold, name: str) -> str:
    """Why the person asked cannot take on ``name`` now, as whole sentences."""
    if hold.until is not None:
        return _(
            "You are not taking on new pairs before %(date)s, so this ask cannot go "
            "ahead. Change it on your profile to take on %(name)s.",
            date=day_text(hold.until),
            name=name,
        )
    if not hold.load:
        return _(
            "You are not taking on mentees at the moment, so this ask cannot go "
            "ahead. Change it on your profile to take on %(name)s.",
            name=name,
        )
    return ngettext(
        "You are mentoring %(count)s person already, so this ask cannot go "
        "ahead. Change it on your profile to take on %(name)s.",
        "You are mentoring %(count)s people already, so this ask cannot go "
        "ahead. Change it on your profile to take on %(name)s.",
        hold.load,
        count=count_words(hold.load),
        name=name,
    )


def answer_message(outcome: Outcome) -> str:
    """A one-line thank-you for the answer just given."""
    name = outcome.ask.requester.name
    if outcome.choice == AnswerChoice.DECLINE:
        return _(
            "Thank you for answering. %(name)s will not be told who declined.",
            name=name,
        )
    if outcome.pair is None:
        return _(
            "Thank you! You and %(name)s already have a pair: "
            "bring %(topic)s to your next check-in.",
            name=name,
            topic=outcome.ask.topic,
        )
    return _(
        "You are %(name)s's micro-mentor on %(topic)s. "
        "We e-mailed you both an introduction and a calendar invite.",
        name=name,
        topic=outcome.ask.topic,
    )


def _make_pair(ask: Ask, mentor: User) -> Pair | None:
    """The mentoring pair of the ask; None if the two already had one open."""
    pair = create_pair(
        ask.org,
        mentor,
        ask.requester,
        kind="mentoring",
        mentor=mentor,
        source=PairSource.ASK,
        topic=ask.topic,
        ask_id=ask.id,
    )
    if pair is None:
        # They became a pair some other way since the ask: no second pair, but
        # both hear that the topic can go to their next check-in.
        mail_already_paired(ask, mentor)
    return pair


def _after_round(ask: Ask) -> None:
    """When nobody asked is left to answer, tell the asker once, without names."""
    if not ask.is_open or ask.is_waiting:
        return
    people = ask.asked
    if not people:
        return
    fresh = suggest(ask)
    mail_nobody(ask, asked=len(people), more=len(fresh))


def expire(suggestion_id: int) -> bool:
    """Let an unanswered ask lapse after its days; True if it did (idempotent)."""
    row = db.session.get(AskSuggestion, suggestion_id)
    if row is None:
        return False
    ask = _locked(row.ask_id)
    db.session.refresh(row)
    if row.status != SuggestionStatus.ASKED or not row.has_lapsed:
        return False
    row.update_state(SuggestionStatus.WITHDRAWN, clock.now())  # nobody answered
    db.session.flush()
    _after_round(ask)
    return True


# ---------------------------------------------------------------------------
# Pages


def ask_for(ask_id: int, user: User) -> Ask | None:
    """The ask, for the person who wrote it; None for everyone else."""
    ask = db.session.get(Ask, ask_id)
    if ask is None or ask.requester_id != user.id:
        return None
    return ask


def my_asks(user: User) -> list[Ask]:
    """Everything the person asked, open first, newest first."""
    return list(
        db.session.scalars(
            select(Ask)
            .where(Ask.requester_id == user.id)
            .order_by(
                (Ask.status != AskStatus.OPEN),
                Ask.created_at.desc(),
                Ask.id.desc(),
            )
        )
    )


def asks_of(
    user: User, recent: int = 20
) -> tuple[list[AskSuggestion], list[AskSuggestion]]:
    """Asks waiting for the person's answer, and their recent answered ones."""
    rows = db.session.scalars(
        select(AskSuggestion)
        .where(
            AskSuggestion.candidate_id == user.id,
            AskSuggestion.asked_at.is_not(None),
        )
        .order_by(AskSuggestion.asked_at.desc(), AskSuggestion.id.desc())
        .limit(100)
    ).all()
    waiting = [s for s in rows if s.is_waited_for and s.ask.is_open]
    done = [s for s in rows if s not in waiting][:recent]
    return waiting, done


def pair_of(ask: Ask) -> Pair | None:
    """The pair a matched ask became, if any."""
    return db.session.scalar(
        select(Pair).where(Pair.ask_id == ask.id).order_by(Pair.id)
    )
