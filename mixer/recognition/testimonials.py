"""Testimonials: words people agreed to publish, moderated before anyone sees them.

They arrive from other features (``submit_testimonial``: the follow-up prompt,
and a pair's end-of-term feedback through ``mixer.recognition.listeners``), wait
for an organizer (``moderate``) and, once approved, show on the organization's
home page and event pages. Their authors may take them back
(``withdraw_testimonial``).
"""

from __future__ import annotations

import hashlib

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import joinedload

from mixer import clock, signals
from mixer.accounts.models import User
from mixer.audit.services import record
from mixer.concurrency import changed_rows, insert_once
from mixer.extensions import db
from mixer.orgs.models import Organization
from mixer.recognition import RecognitionError
from mixer.recognition.models import (
    TESTIMONIAL_SOURCES,
    TESTIMONIAL_STATUSES,
    Testimonial,
    TestimonialSource,
    TestimonialStatus,
    stored_text,
)

# Long enough for a heartfelt paragraph, short enough to show on a home page.
MAX_BODY = 2000
MAX_AUTHOR = 120
# The source_key of words their author took back (see withdraw_testimonial).
WITHDRAWN_PREFIX = "withdrawn:"


def submit_testimonial(
    org_id: int,
    *,
    body: str | None,
    author_name: str,
    author_id: int | None = None,
    source: str = TestimonialSource.PROMPT,
    source_key: str,
    event_id: int | None = None,
    pair_id: int | None = None,
) -> Testimonial | None:
    """Add a testimonial its author consented to publish, pending moderation.

    Idempotent on source_key: a second call with other words updates them
    (see ``_resubmit``) and returns the testimonial; returns None for an empty
    body. Two calls at once with one key make one row (``insert_once``). Only
    flushes.
    """
    if source not in TESTIMONIAL_SOURCES:
        raise ValueError(f"unknown testimonial source {source!r}")
    body = stored_text(body)[:MAX_BODY].strip()
    if not body:
        return None
    author_name = (author_name or "").strip()[:MAX_AUTHOR] or "A member"
    found = testimonial_by_source(source_key)
    if found is None:
        values = {
            "org_id": org_id,
            "body": body,
            "author_name": author_name,
            "author_id": author_id,
            "source": TestimonialSource(source),
            "source_key": source_key,
            "event_id": event_id,
            "pair_id": pair_id,
            "status": TestimonialStatus.PENDING,
        }
        new_id = insert_once(Testimonial, values, unique=("source_key",))
        if new_id is not None:
            return db.session.get_one(Testimonial, new_id)
        # The same source was submitted concurrently: theirs stands, with our words.
        found = testimonial_by_source(source_key)
        if found is None:  # pragma: no cover - the key was taken, so a row exists
            raise RuntimeError(f"testimonial {source_key!r} vanished")
    return _resubmit(found, body, author_name)


def testimonial_by_source(source_key: str) -> Testimonial | None:
    """The testimonial that came from ``source_key`` ("prompt:12"), if any."""
    return db.session.scalar(
        select(Testimonial).where(Testimonial.source_key == source_key)
    )


def _resubmit(testimonial: Testimonial, body: str, author_name: str) -> Testimonial:
    """The author sent their words again, perhaps changed.

    Pending words are simply replaced. Approved words that changed go back to
    pending (and off every page) until an organizer reads them: publishing text
    nobody reviewed is as wrong as silently dropping the author's correction.
    Hidden words stay as the moderator left them.
    """
    if testimonial.status == TestimonialStatus.HIDDEN:
        return testimonial
    if (testimonial.body, testimonial.author_name) == (body, author_name):
        return testimonial
    testimonial.body = body
    testimonial.author_name = author_name
    if testimonial.status == TestimonialStatus.APPROVED:
        testimonial.update_state(TestimonialStatus.PENDING)
        signals.testimonial_unpublished.send(testimonial.org_id)
    db.session.flush()
    return testimonial


def taken_back(testimonial: Testimonial) -> bool:
    """Whether the author took these words back: hidden for good, whatever a
    moderator might want (their consent is gone)."""
    return testimonial.source_key.startswith(WITHDRAWN_PREFIX)


def withdraw_testimonial(source_key: str) -> bool:
    """The author took their words (or their consent) back: nobody sees them again.

    Pending words are deleted; words already moderated are hidden, keeping the
    moderator's record, and let go of their source, so that the author's form no
    longer shows them as given and new words later start afresh as pending.
    True when something changed.
    """
    found = testimonial_by_source(source_key)
    if found is None:
        return False
    if found.status == TestimonialStatus.PENDING:
        db.session.delete(found)
    else:
        if found.status == TestimonialStatus.APPROVED:
            found.update_state(TestimonialStatus.HIDDEN)
            signals.testimonial_unpublished.send(found.org_id)
        found.source_key = f"{WITHDRAWN_PREFIX}{found.id}"
    db.session.flush()
    return True


# ---------------------------------------------------------------------------
# Moderation

MODERATION_ACTIONS = {
    "approve": TestimonialStatus.APPROVED,
    "hide": TestimonialStatus.HIDDEN,
    "pending": TestimonialStatus.PENDING,
}
# The audit trail's action and words for each outcome of moderation.
MODERATION_AUDIT = {
    TestimonialStatus.APPROVED: ("testimonial.approved", "Approved {author}'s words"),
    TestimonialStatus.HIDDEN: ("testimonial.hidden", "Hid {author}'s words"),
    TestimonialStatus.PENDING: (
        "testimonial.returned",
        "Returned {author}'s words to moderation",
    ),
}
# Pending first: that is the moderator's work; then what is public, then hidden.
_STATUS_ORDER = case(
    (Testimonial.status == TestimonialStatus.PENDING, 0),
    (Testimonial.status == TestimonialStatus.APPROVED, 1),
    else_=2,
)


def testimonial_counts(org: Organization) -> dict[str, int]:
    """How many testimonials of ``org`` are pending, approved and hidden."""
    rows = db.session.execute(
        select(Testimonial.status, func.count())
        .where(Testimonial.org_id == org.id)
        .group_by(Testimonial.status)
    ).all()
    counts: dict[str, int] = dict.fromkeys(TESTIMONIAL_STATUSES, 0)
    counts.update(rows)
    return counts


def list_testimonials(
    org: Organization, status: str | None = None, page: int = 1, per_page: int = 25
) -> Pagination:
    """One page of ``org``'s testimonials: pending first, newest first within."""
    stmt = (
        select(Testimonial)
        .where(Testimonial.org_id == org.id)
        .options(joinedload(Testimonial.event), joinedload(Testimonial.author))
        .order_by(_STATUS_ORDER, Testimonial.created_at.desc(), Testimonial.id.desc())
    )
    if status in TESTIMONIAL_STATUSES:
        stmt = stmt.where(Testimonial.status == status)
    return db.paginate(
        stmt, page=max(page, 1), per_page=per_page, max_per_page=100, error_out=False
    )


def get_testimonial(org: Organization, testimonial_id: int) -> Testimonial | None:
    """A testimonial of ``org`` (None for another organization's)."""
    return db.session.scalar(
        select(Testimonial).where(
            Testimonial.id == testimonial_id, Testimonial.org_id == org.id
        )
    )


def words_key(testimonial: Testimonial) -> str:
    """A short fingerprint of the words and name a moderator is shown."""
    text = f"{testimonial.author_name}\n{testimonial.body}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def moderate(
    testimonial: Testimonial, action: str | None, by: User, seen: str | None = None
) -> Testimonial:
    """Approve, hide or return a testimonial to pending; remembers who and when.

    ``seen`` is the ``words_key`` of the words the moderator read. The author may
    change pending words at any moment, so approving checks them: words changed
    since they were read (on the page, or between this read and the write) are
    not approved unread (RecognitionError, 409).
    """
    status = MODERATION_ACTIONS.get(action or "")
    if status is None:
        raise ValueError(f"unknown moderation action {action!r}")
    if taken_back(testimonial) and status != TestimonialStatus.HIDDEN:
        raise RecognitionError(
            _(
                "%(name)s took these words back, so they cannot be shown again.",
                name=testimonial.author_name,
            ),
            status=409,
        )
    stale = RecognitionError(
        _(
            "%(name)s changed these words since you read them. Read them again, "
            "then approve.",
            name=testimonial.author_name,
        ),
        status=409,
    )
    if (
        status == TestimonialStatus.APPROVED
        and seen is not None
        and seen != words_key(testimonial)
    ):
        raise stale
    # Compare-and-set on the words read: the author may change them meanwhile.
    changed = changed_rows(
        update(Testimonial)
        .where(
            Testimonial.id == testimonial.id,
            Testimonial.body == testimonial.body,
            Testimonial.author_name == testimonial.author_name,
        )
        .values(**Testimonial.state_values(status, by, clock.now()))
        .execution_options(synchronize_session=False)
    )
    if not changed:
        if not _exists(testimonial.id):  # the author took pending words back
            raise RecognitionError(
                _(
                    "%(name)s took these words back meanwhile.",
                    name=testimonial.author_name,
                ),
                status=409,
            )
        db.session.refresh(testimonial)
        raise stale
    before = testimonial.status
    db.session.refresh(testimonial)
    if before == TestimonialStatus.APPROVED and status != before:
        signals.testimonial_unpublished.send(testimonial.org_id)
    if before != status:
        audit_action, verb = MODERATION_AUDIT[status]
        record(
            testimonial.org_id,
            audit_action,
            verb.format(author=testimonial.author_name),
            subject=("testimonial", testimonial.id),
            details={"changes": {"status": [before, status]}},
            actor=by,
        )
    return testimonial


def _exists(testimonial_id: int) -> bool:
    """Whether the testimonial's row is still there (asked of the database)."""
    found = db.session.scalar(
        select(Testimonial.id).where(Testimonial.id == testimonial_id)
    )
    return found is not None


def pending_count(org_id: int) -> int:
    """How many testimonials of the organization wait for a moderator."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Testimonial)
            .where(
                Testimonial.org_id == org_id,
                Testimonial.status == TestimonialStatus.PENDING,
            )
        )
        or 0
    )


def approved_testimonials(
    org_id: int, event_id: int | None = None, limit: int = 3
) -> list[Testimonial]:
    """The newest approved testimonials of an organization, or about one event."""
    stmt = (
        select(Testimonial)
        .where(
            Testimonial.org_id == org_id,
            Testimonial.status == TestimonialStatus.APPROVED,
        )
        .options(joinedload(Testimonial.event))
        .order_by(
            Testimonial.moderated_at.desc(),
            Testimonial.created_at.desc(),
            Testimonial.id.desc(),
        )
        .limit(max(1, min(limit, 20)))
    )
    if event_id is not None:
        stmt = stmt.where(Testimonial.event_id == event_id)
    return list(db.session.scalars(stmt))
