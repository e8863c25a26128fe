"""Recognition services: testimonials and the Micro-Mentor of the Month award.

Testimonials arrive from other features (``submit_testimonial``), wait for an
organizer (``moderate``) and, once approved, show on the organization's home page
and event pages. Awards: ``score_month`` (in ``scoring``) ranks candidates, an
organizer saves a draft (person + citation), reviews it and publishes it; the
person gets one e-mail and a certificate. A published month is only changed by
an admin unpublishing it first.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from mixer import clock
from mixer.accounts.models import User
from mixer.extensions import db
from mixer.jobs.services import schedule
from mixer.mail.services import queue_mail
from mixer.orgs.models import Organization
from mixer.orgs.services import organizers_of
from mixer.recognition.models import (
    TESTIMONIAL_SOURCES,
    TESTIMONIAL_STATUSES,
    Award,
    Testimonial,
)
from mixer.recognition.pdf import CertificateData, render_certificate_pdf
from mixer.recognition.scoring import (
    ITEMS,
    RULES,
    Candidate,
    candidate_for,
    date_label,
    month_label,
    month_of,
    next_month,
    parse_month,
    previous_month,
    score_month,
)
from mixer.urls import absolute_url

log = logging.getLogger(__name__)

# Long enough for a heartfelt paragraph, short enough to show on a home page.
MAX_BODY = 2000
MAX_AUTHOR = 120
# The source_key of words their author took back (see withdraw_testimonial).
WITHDRAWN_PREFIX = "withdrawn:"


def submit_testimonial(
    org_id: int,
    *,
    body: str,
    author_name: str,
    author_id: int | None = None,
    source: str = "prompt",
    source_key: str,
    event_id: int | None = None,
    pair_id: int | None = None,
) -> Testimonial | None:
    """Add a testimonial its author consented to publish, pending moderation.

    Idempotent on source_key: a second call with other words updates them
    (see ``_resubmit``) and returns the testimonial; returns None for an empty
    body. Only flushes.
    """
    if source not in TESTIMONIAL_SOURCES:
        raise ValueError(f"unknown testimonial source {source!r}")
    # One kind of line break (browsers send CRLF), so paragraphs show as such and
    # a re-save of the same words is seen to be the same.
    body = _normal(body)[:MAX_BODY].strip()
    if not body:
        return None
    author_name = (author_name or "").strip()[:MAX_AUTHOR] or "A member"
    found = testimonial_by_source(source_key)
    if found is not None:
        return _resubmit(found, body, author_name)
    try:
        with db.session.begin_nested():
            testimonial = Testimonial(
                org_id=org_id,
                body=body,
                author_name=author_name,
                author_id=author_id,
                source=source,
                source_key=source_key,
                event_id=event_id,
                pair_id=pair_id,
                status="pending",
            )
            db.session.add(testimonial)
    except IntegrityError:  # the same source was submitted concurrently
        found = testimonial_by_source(source_key)
        if found is None:
            raise
        return _resubmit(found, body, author_name)
    return testimonial


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
    if testimonial.status == "hidden":
        return testimonial
    if (testimonial.body, testimonial.author_name) == (body, author_name):
        return testimonial
    testimonial.body = body
    testimonial.author_name = author_name
    if testimonial.status == "approved":
        testimonial.status = "pending"
        testimonial.moderated_by_id = None
        testimonial.moderated_at = None
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
    if found.status == "pending":
        db.session.delete(found)
    else:
        if found.status == "approved":
            found.status = "hidden"
            found.moderated_at = clock.now()
        found.source_key = f"{WITHDRAWN_PREFIX}{found.id}"
    db.session.flush()
    return True


# ---------------------------------------------------------------------------
# Moderation

MODERATION_ACTIONS = {"approve": "approved", "hide": "hidden", "pending": "pending"}
# Pending first: that is the moderator's work; then what is public, then hidden.
_STATUS_ORDER = case(
    (Testimonial.status == "pending", 0),
    (Testimonial.status == "approved", 1),
    else_=2,
)


def testimonial_counts(org: Organization) -> dict[str, int]:
    """How many testimonials of ``org`` are pending, approved and hidden."""
    rows = db.session.execute(
        select(Testimonial.status, func.count())
        .where(Testimonial.org_id == org.id)
        .group_by(Testimonial.status)
    ).all()
    counts = dict.fromkeys(TESTIMONIAL_STATUSES, 0)
    counts.update(dict(rows))
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
    testimonial: Testimonial, action: str, by: User, seen: str | None = None
) -> Testimonial:
    """Approve, hide or return a testimonial to pending; remembers who and when.

    ``seen`` is the ``words_key`` of the words the moderator read. The author may
    change pending words at any moment, so approving checks them: words changed
    since they were read (on the page, or between this read and the write) are
    not approved unread (RecognitionError, 409).
    """
    try:
        status = MODERATION_ACTIONS[action]
    except KeyError:
        raise ValueError(f"unknown moderation action {action!r}") from None
    if taken_back(testimonial) and status != "hidden":
        raise RecognitionError(
            f"{testimonial.author_name} took these words back, so they cannot be "
            "shown again.",
            409,
        )
    stale = RecognitionError(
        f"{testimonial.author_name} changed these words since you read them. "
        "Read them again, then approve.",
        409,
    )
    if status == "approved" and seen is not None and seen != words_key(testimonial):
        raise stale
    changed = db.session.execute(
        update(Testimonial)
        .where(
            Testimonial.id == testimonial.id,
            Testimonial.body == testimonial.body,
            Testimonial.author_name == testimonial.author_name,
        )
        .values(status=status, moderated_by_id=by.id, moderated_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        if not _exists(testimonial.id):  # the author took pending words back
            raise RecognitionError(
                f"{testimonial.author_name} took these words back meanwhile.", 409
            )
        db.session.refresh(testimonial)
        raise stale
    db.session.refresh(testimonial)
    return testimonial


def _exists(testimonial_id: int) -> bool:
    """Whether the testimonial's row is still there (asked of the database)."""
    found = db.session.scalar(
        select(Testimonial.id).where(Testimonial.id == testimonial_id)
    )
    return found is not None


def pending_count(org_id: int) -> int:
    """How many testimonials of the organization wait for a moderator."""
    return db.session.scalar(
        select(func.count())
        .select_from(Testimonial)
        .where(Testimonial.org_id == org_id, Testimonial.status == "pending")
    )


def approved_testimonials(
    org_id: int, event_id: int | None = None, limit: int = 3
) -> list[Testimonial]:
    """The newest approved testimonials of an organization, or about one event."""
    stmt = (
        select(Testimonial)
        .where(Testimonial.org_id == org_id, Testimonial.status == "approved")
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


# ---------------------------------------------------------------------------
# Micro-Mentor of the Month

CITATION_MAX = 400
DRAFT_JOB = "recognition.draft_ready"
DRAFT_HOUR = 9  # UTC on the 1st: the reminder arrives in the working morning


class RecognitionError(ValueError):
    """An award request that cannot be met; the message is for people."""

    def __init__(self, message: str, status: int = 422, field: str | None = None):
        """Keep the message, the HTTP status and the form field it belongs to."""
        super().__init__(message)
        self.status = status
        self.field = field


def default_month() -> str:
    """The month organizers most likely want to award: last month."""
    return previous_month(month_of(clock.now()))


def check_month(month: str) -> str:
    """ "YYYY-MM" unchanged, or RecognitionError (404: no such page)."""
    try:
        parse_month(month)
    except ValueError as exc:
        raise RecognitionError(str(exc), 404, "month") from None
    return month


def month_is_over(month: str) -> bool:
    """Whether every check-in of the month could have been reported by now."""
    return parse_month(month)[1] <= clock.now()


def award_for(org: Organization, month: str) -> Award | None:
    """The award (draft or published) of ``org`` for ``month``."""
    return db.session.scalar(
        select(Award)
        .where(Award.org_id == org.id, Award.month == month)
        .options(joinedload(Award.user))
    )


def published_award(org: Organization, month: str) -> Award | None:
    """The published award of ``month`` (None for drafts: nobody sees those)."""
    award = award_for(org, month)
    return award if award is not None and award.status == "published" else None


def published_awards(org_id: int, limit: int | None = None) -> list[Award]:
    """The organization's published awards, newest month first."""
    stmt = (
        select(Award)
        .where(Award.org_id == org_id, Award.status == "published")
        .options(joinedload(Award.user))
        .order_by(Award.month.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def recognition_page(org: Organization, month: str) -> dict[str, Any]:
    """Everything the organizer page shows for ``month``."""
    candidates = score_month(org, month)
    award = award_for(org, month)
    by_id = {c.user_id: c for c in candidates}
    selected = award.user_id if award is not None else None
    if selected not in by_id:
        selected = candidates[0].user_id if candidates else None
    confirmed_by = (
        db.session.get(User, award.confirmed_by_id)
        if award is not None and award.confirmed_by_id
        else None
    )
    return {
        "month": month,
        "month_label": month_label(month),
        "previous_month": previous_month(month),
        "next_month": next_month(month),
        "is_over": month_is_over(month),
        "opens_on": date_label(parse_month(month)[1]),
        "candidates": candidates,
        "top_score": max((c.score for c in candidates), default=0),
        "award": award,
        "award_candidate": by_id.get(award.user_id) if award is not None else None,
        "confirmed_by": confirmed_by,
        "selected": selected,
        "rules": RULES,
        "items": ITEMS,
    }


def suggested_citation(candidate: Candidate, month: str) -> str:
    """A first draft of the citation, from what counted (organizers edit it)."""
    parts = []
    held = candidate.count("mentor_checkins")
    if held:
        parts.append(f"{held} mentoring check-in{'s' if held != 1 else ''}")
    peers = candidate.count("peer_checkins")
    if peers:
        parts.append(f"{peers} check-in{'s' if peers != 1 else ''} with peers")
    what = " and ".join(parts) or "the time given to others"
    text = f"For {what} in {month_label(month)}"
    if candidate.count("mentee_notes") or candidate.count("mentee_helped"):
        text += ", and for the difference their mentees say it made"
    return text + "."


def clean_citation(citation: str | None) -> str:
    """The citation without surrounding blanks; RecognitionError when unusable."""
    text = _normal(citation)
    if not text:
        raise RecognitionError("Write a short citation.", 422, "citation")
    if len(text) > CITATION_MAX:
        raise RecognitionError(
            f"Keep the citation under {CITATION_MAX} characters.", 422, "citation"
        )
    return text


def _normal(text: str | None) -> str:
    """Browsers send line breaks as CRLF; we keep LF, without surrounding blanks."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def save_draft(
    org: Organization, month: str, user_id: int, citation: str, by: User
) -> Award:
    """Choose who gets ``month``'s award and the citation, before publishing.

    An empty citation becomes a suggestion from what counted. A published month
    is never replaced here: an admin unpublishes it first.
    """
    check_month(month)
    if not month_is_over(month):
        opens = parse_month(month)[1]
        raise RecognitionError(
            f"{month_label(month)} is not over yet: it can be awarded from "
            f"{opens.day} {month_label(next_month(month))}.",
            409,
        )
    candidate = candidate_for(org, month, user_id)
    if candidate is None:
        raise RecognitionError(
            "Choose one of the ranked candidates of the month.", 422, "user_id"
        )
    citation = clean_citation(citation or suggested_citation(candidate, month))
    award = award_for(org, month)
    if award is None:
        try:
            with db.session.begin_nested():
                award = Award(org_id=org.id, month=month, user_id=user_id)
                db.session.add(award)
        except IntegrityError:  # another organizer started the same month
            award = award_for(org, month)
            if award is None:
                raise
    # Compare-and-set on the status: an organizer publishing this month at the
    # same moment must not have the person or words changed under them.
    changed = db.session.execute(
        update(Award)
        .where(Award.id == award.id, Award.status == "draft")
        .values(
            user_id=user_id,
            score=candidate.score,
            breakdown=candidate.breakdown,
            citation=citation,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(award)
    if not changed:
        raise RecognitionError(
            f"{month_label(month)} is already published. An admin can unpublish "
            "it first if it must change.",
            409,
        )
    return award


def publish(
    org: Organization, month: str, by: User, *, user_id: int, citation: str
) -> Award:
    """Publish the reviewed draft of ``month`` and tell the person.

    ``user_id`` and ``citation`` are what the organizer saw when confirming: if
    another organizer changed the draft meanwhile, nothing is published.
    Publishing the same draft twice (a double click) changes nothing.
    """
    check_month(month)
    award = award_for(org, month)
    if award is None:
        raise RecognitionError(
            f"There is no draft for {month_label(month)}: choose someone first.", 409
        )
    seen_citation = _normal(citation)
    seen = award.user_id == user_id and _normal(award.citation) == seen_citation
    if award.status == "published":
        if seen:
            return award
        raise RecognitionError(f"{month_label(month)} is already published.", 409)
    if not seen:
        raise RecognitionError(
            "The draft changed since you reviewed it (another organizer may have "
            "edited it). Check it again, then publish.",
            409,
        )
    candidate = candidate_for(org, month, award.user_id)
    if candidate is None:
        raise RecognitionError(
            "This person is no longer a candidate (did they leave the "
            "organization?). Choose someone else.",
            409,
        )
    # Compare-and-set: of two organizers confirming at once, one publishes; and
    # a draft changed since it was read here (another organizer saving at this
    # moment) is not published under the name of the one seen.
    changed = db.session.execute(
        update(Award)
        .where(
            Award.id == award.id,
            Award.status == "draft",
            Award.user_id == award.user_id,
            Award.citation == award.citation,
        )
        .values(
            status="published",
            published_at=clock.now(),
            confirmed_by_id=by.id,
            score=candidate.score,
            breakdown=candidate.breakdown,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(award)
    if changed:
        _notify_winner(org, award)
        schedule_draft_reminder(org, month_of(clock.now()))
    elif award.status == "draft":
        raise RecognitionError(
            "The draft changed since you reviewed it (another organizer may have "
            "edited it). Check it again, then publish.",
            409,
        )
    elif not (award.user_id == user_id and _normal(award.citation) == seen_citation):
        raise RecognitionError(f"{month_label(month)} is already published.", 409)
    return award


def unpublish(org: Organization, month: str, by: User) -> Award:
    """Take a published award back to draft (admins only: see the views)."""
    check_month(month)
    award = award_for(org, month)
    if award is None or award.status != "published":
        raise RecognitionError(f"{month_label(month)} is not published.", 409)
    # The award keeps no history, so the log says who took it back and from whom.
    log.info(
        "award %s of org %s unpublished by user %s (was user %s)",
        month,
        org.id,
        by.id,
        award.user_id,
    )
    award.status = "draft"
    award.published_at = None
    award.confirmed_by_id = None
    db.session.flush()
    return award


def award_links(org: Organization, award: Award) -> dict[str, str]:
    """Absolute links to the award page and its certificate (for e-mails)."""
    return {
        "award_url": absolute_url(
            "recognition.award", slug=org.slug, month=award.month
        ),
        "certificate_url": absolute_url(
            "recognition.certificate", slug=org.slug, month=award.month
        ),
    }


def _notify_winner(org: Organization, award: Award) -> None:
    """One e-mail to the person, ever, for this organization's month."""
    person = award.user
    if not person.is_active:
        return
    label = month_label(award.month)
    queue_mail(
        person.email,
        f"You are {org.name}'s Micro-Mentor of the Month for {label}",
        "recognition_award",
        {"award": award, "month_label": label, **award_links(org, award)},
        user=person,
        org=org,
        dedupe_key=f"recognition.award:{org.id}:{award.month}:{person.id}",
    )


def certificate_pdf(org: Organization, award: Award) -> bytes:
    """The award's certificate as PDF bytes (A4 landscape)."""
    return render_certificate_pdf(
        CertificateData(
            name=award.user.name,
            organization=org.name,
            month=month_label(award.month),
            citation=award.citation or "",
            awarded_on=date_label(award.published_at or clock.now()),
        )
    )


# ---------------------------------------------------------------------------
# "The draft is ready" on the 1st of each month


def schedule_draft_reminder(org: Organization, month: str) -> None:
    """Tell organizers on the 1st after ``month`` that its candidates are ready.

    Scheduled once per organization and month; each reminder schedules the next,
    so an organization that published an award once is reminded every month.
    """
    run_at = parse_month(month)[1].replace(hour=DRAFT_HOUR)
    schedule(
        DRAFT_JOB,
        {"org_id": org.id, "month": month},
        run_at=run_at,
        dedupe_key=f"{DRAFT_JOB}:{org.id}:{month}",
        org_id=org.id,
    )


def send_draft_ready(org_id: int, month: str) -> dict[str, int]:
    """E-mail the organizers that ``month`` has candidates (idempotent)."""
    org = db.session.get(Organization, org_id)
    if org is None:
        return {"sent": 0}
    schedule_draft_reminder(org, next_month(month))
    stale = parse_month(next_month(month))[1] <= clock.now()  # the worker was away
    if stale or published_award(org, month) is not None:
        return {"sent": 0}
    candidates = score_month(org, month)
    if not candidates:
        return {"sent": 0}
    page = absolute_url("recognition.recognition", slug=org.slug, month=month)
    sent = 0
    for person in _organizers(org):
        queued = queue_mail(
            person.email,
            f"Micro-Mentor of the Month: {month_label(month)} is ready to review",
            "recognition_draft_ready",
            {
                "month_label": month_label(month),
                "candidates": candidates[:3],
                "count": len(candidates),
                "page_url": page,
            },
            user=person,
            preference="digest",
            org=org,
            dedupe_key=f"{DRAFT_JOB}:{org.id}:{month}:{person.id}",
        )
        sent += queued is not None
    return {"sent": sent}


def _organizers(org: Organization) -> list[User]:
    """The organization's active organizers and admins, by account id."""
    return organizers_of(org.id)
