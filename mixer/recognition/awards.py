"""The Micro-Mentor of the Month: drafting, publishing, the certificate and the
monthly reminder.

``scoring.score_month`` ranks the month's candidates; an organizer saves a draft
(person + citation), reviews it and publishes it; the person gets one e-mail and
a certificate. A published month is only changed by an admin unpublishing it
first. Saving and publishing are compare-and-set writes, so two organizers at
once never publish a draft neither of them reviewed.
"""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from mixer import clock
from mixer.accounts.models import User
from mixer.audit.services import record
from mixer.concurrency import changed_rows, insert_once
from mixer.extensions import db
from mixer.i18n import recipient_locale
from mixer.jobs.services import schedule
from mixer.mail.services import queue_mail
from mixer.orgs.models import Organization
from mixer.orgs.services import organizers_of
from mixer.recognition import RecognitionError
from mixer.recognition.models import Award, AwardStatus, stored_text
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

CITATION_MAX = 400
TOP = 10  # candidates shown first, each with what counted
MORE_PER_PAGE = 50  # the others, one page at a time
QUERY_MAX = 100  # characters of a search kept
DRAFT_JOB = "recognition.draft_ready"
DRAFT_HOUR = 9  # UTC on the 1st: the reminder arrives in the working morning
CHANGED = _l(
    "The draft changed since you reviewed it (another organizer may have "
    "edited it). Check it again, then publish."
)


def default_month() -> str:
    """The month organizers most likely want to award: last month."""
    return previous_month(month_of(clock.now()))


def month_problem(month: str) -> str | None:
    """Why ``month`` is no "YYYY-MM" (for the month picker), or None."""
    try:
        parse_month(month)
    except ValueError as exc:
        return str(exc)
    return None


def check_month(month: str) -> str:
    """ "YYYY-MM" unchanged, or RecognitionError (404: no such page)."""
    problem = month_problem(month)
    if problem is not None:
        raise RecognitionError(problem, field="month", status=404)
    return month


def month_is_over(month: str) -> bool:
    """Whether every meeting of the month could have been reported by now."""
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
    if award is None or award.status != AwardStatus.PUBLISHED:
        return None
    return award


def published_awards(org_id: int, limit: int | None = None) -> list[Award]:
    """The organization's published awards, newest month first."""
    stmt = (
        select(Award)
        .where(Award.org_id == org_id, Award.status == AwardStatus.PUBLISHED)
        .options(joinedload(Award.user))
        .order_by(Award.month.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def find_candidates(candidates: list[Candidate], query: str) -> list[Candidate]:
    """The candidates whose name or e-mail contains ``query`` (any case), ranked."""
    needle = query.casefold()
    return [c for c in candidates if needle in c.name.casefold() or needle in c.email]


def recognition_page(
    org: Organization,
    month: str,
    *,
    page: int = 1,
    query: str = "",
    chosen: int | None = None,
) -> dict[str, Any]:
    """Everything the organizer page shows for ``month``.

    The page stays small however many candidates there are: the ``TOP`` first
    with what counted, then one page of ``MORE_PER_PAGE`` of the others in rank
    order, or of those whose name or e-mail contains ``query``. The person
    chosen (``chosen``, else the draft's, else the first) is always shown, so
    the draft form keeps its choice.
    """
    candidates = score_month(org, month)
    award = award_for(org, month)
    by_id = {c.user_id: c for c in candidates}
    selected = next(
        (
            uid
            for uid in (chosen, award.user_id if award is not None else None)
            if uid in by_id
        ),
        candidates[0].user_id if candidates else None,
    )
    top = candidates[:TOP]
    query = query.strip()[:QUERY_MAX]
    found = find_candidates(candidates, query) if query else []
    others = [c for c in found if c.rank > TOP] if query else candidates[TOP:]
    pages = max(1, -(-len(others) // MORE_PER_PAGE))
    page = min(max(page, 1), pages)
    more = others[(page - 1) * MORE_PER_PAGE : page * MORE_PER_PAGE]
    shown = {c.user_id for c in top} | {c.user_id for c in more}
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
        "total": len(candidates),
        "top": top,
        "more": more,
        "more_total": len(others),
        "more_page": page,
        "more_pages": pages,
        "more_per_page": MORE_PER_PAGE,
        "query": query,
        "found_in_top": [c for c in found if c.rank <= TOP],
        # The chosen one when it is neither in the top nor on this page.
        "pinned": by_id[selected]
        if selected is not None and selected not in shown
        else None,
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
    held = candidate.count("mentor_checkins")
    peers = candidate.count("peer_checkins")
    label = month_label(month)
    mentoring = ngettext(
        "%(num)d mentoring check-in", "%(num)d mentoring check-ins", held
    )
    with_peers = ngettext(
        "%(num)d check-in with peers", "%(num)d check-ins with peers", peers
    )
    if held and peers:
        what = _("%(mentoring)s and %(peers)s", mentoring=mentoring, peers=with_peers)
    else:
        what = mentoring if held else with_peers if peers else ""
    if candidate.count("mentee_notes") or candidate.count("mentee_helped"):
        if what:
            return _(
                "For %(what)s in %(month)s, and for the difference their "
                "mentees say it made.",
                what=what,
                month=label,
            )
        return _(
            "For the time given to others in %(month)s, and for the difference "
            "their mentees say it made.",
            month=label,
        )
    if what:
        return _("For %(what)s in %(month)s.", what=what, month=label)
    return _("For the time given to others in %(month)s.", month=label)


def clean_citation(citation: str | None) -> str:
    """The citation without surrounding blanks; RecognitionError when unusable."""
    text = stored_text(citation)
    if not text:
        raise RecognitionError(_("Write a short citation."), field="citation")
    if len(text) > CITATION_MAX:
        raise RecognitionError(
            _("Keep the citation under %(num)d characters.", num=CITATION_MAX),
            field="citation",
        )
    return text


def save_draft(
    org: Organization, month: str, user_id: int, citation: str | None, by: User
) -> Award:
    """Choose who gets ``month``'s award and the citation, before publishing.

    An empty citation becomes a suggestion from what counted. A published month
    is never replaced here: an admin unpublishes it first. Two organizers
    starting the same month at once share one award (``insert_once``).
    """
    check_month(month)
    if not month_is_over(month):
        raise RecognitionError(
            _(
                "%(month)s is not over yet: it can be awarded from %(day)s.",
                month=month_label(month),
                day=date_label(parse_month(month)[1]),
            ),
            field="user_id",
            status=409,
        )
    candidate = candidate_for(org, month, user_id)
    if candidate is None:
        raise RecognitionError(
            _("Choose one of the ranked candidates of the month."), field="user_id"
        )
    citation = clean_citation(citation or suggested_citation(candidate, month))
    award = award_for(org, month)
    if award is None:
        # Another organizer may start the same month at this instant: one row.
        insert_once(
            Award,
            {"org_id": org.id, "month": month, "user_id": user_id},
            unique=("org_id", "month"),
        )
        award = award_for(org, month)
        if award is None:  # pragma: no cover - inserted, or the other one's
            raise RuntimeError(f"the award of {month} vanished")
    # Compare-and-set on the status: an organizer publishing this month at the
    # same moment must not have the person or words changed under them.
    changed = changed_rows(
        update(Award)
        .where(Award.id == award.id, Award.status == AwardStatus.DRAFT)
        .values(
            user_id=user_id,
            score=candidate.score,
            breakdown=candidate.breakdown,
            citation=citation,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(award)
    if not changed:
        raise RecognitionError(
            _(
                "%(month)s is already published. An admin can unpublish it first "
                "if it must change.",
                month=month_label(month),
            ),
            field="user_id",
            status=409,
        )
    return award


def publish(
    org: Organization,
    month: str,
    by: User,
    *,
    user_id: int | None,
    citation: str | None,
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
            _(
                "There is no draft for %(month)s: choose someone first.",
                month=month_label(month),
            ),
            status=409,
        )
    seen_citation = stored_text(citation)
    seen = award.user_id == user_id and stored_text(award.citation) == seen_citation
    if award.status == AwardStatus.PUBLISHED:
        if seen:
            return award
        raise RecognitionError(
            _("%(month)s is already published.", month=month_label(month)),
            status=409,
        )
    if not seen:
        raise RecognitionError(str(CHANGED), status=409)
    candidate = candidate_for(org, month, award.user_id)
    if candidate is None:
        raise RecognitionError(
            _(
                "This person is no longer a candidate (did they leave the "
                "organization?). Choose someone else."
            ),
            status=409,
        )
    # Compare-and-set: of two organizers confirming at once, one publishes; and
    # a draft changed since it was read here (another organizer saving at this
    # moment) is not published under the name of the one seen.
    changed = changed_rows(
        update(Award)
        .where(
            Award.id == award.id,
            Award.status == AwardStatus.DRAFT,
            Award.user_id == award.user_id,
            Award.citation == award.citation,
        )
        .values(
            **Award.state_values(AwardStatus.PUBLISHED, by, clock.now()),
            score=candidate.score,
            breakdown=candidate.breakdown,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(award)
    if changed:
        _notify_winner(org, award)
        schedule_draft_reminder(org, month_of(clock.now()))
        record(
            org.id,
            "award.published",
            f"Published the award of {_english_month(month)} to {award.user.name}",
            subject=("award", award.id),
            details={"month": month, "user_id": award.user_id},
            actor=by,
        )
    elif award.status == AwardStatus.DRAFT:
        raise RecognitionError(str(CHANGED), status=409)
    elif not (
        award.user_id == user_id and stored_text(award.citation) == seen_citation
    ):
        raise RecognitionError(
            _("%(month)s is already published.", month=month_label(month)),
            status=409,
        )
    return award


def unpublish(org: Organization, month: str, by: User) -> Award:
    """Take a published award back to draft (admins only: see the views)."""
    check_month(month)
    award = award_for(org, month)
    if award is None or award.status != AwardStatus.PUBLISHED:
        raise RecognitionError(
            _("%(month)s is not published.", month=month_label(month)), status=409
        )
    # The award keeps no history, so the log says who took it back and from whom.
    log.info(
        "award %s of org %s unpublished by user %s (was user %s)",
        month,
        org.id,
        by.id,
        award.user_id,
    )
    award.update_state(AwardStatus.DRAFT)
    db.session.flush()
    record(
        org.id,
        "award.unpublished",
        f"Unpublished the award of {_english_month(month)} to {award.user.name}",
        subject=("award", award.id),
        details={"month": month, "user_id": award.user_id},
        actor=by,
    )
    return award


def _english_month(month: str) -> str:
    """ "March 2026" in English: the audit trail is written once, in English."""
    with force_locale("en"):
        return month_label(month)


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
    locale = recipient_locale(person, org)
    with force_locale(locale):  # the subject and month in their language
        label = month_label(award.month)
        subject = _(
            "You are %(org)s's Micro-Mentor of the Month for %(month)s",
            org=org.name,
            month=label,
        )
    queue_mail(
        person.email,
        subject,
        "recognition_award",
        {"award": award, "month_label": label, **award_links(org, award)},
        user=person,
        org=org,
        dedupe_key=f"recognition.award:{org.id}:{award.month}:{person.id}",
        locale=locale,
    )


def certificate_pdf(org: Organization, award: Award) -> bytes:
    """The award's certificate as PDF bytes (A4 landscape), in the language of
    the person awarded (their setting, else the organization's default)."""
    with force_locale(recipient_locale(award.user, org)):
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
    for person in organizers_of(org.id):
        locale = recipient_locale(person, org)
        with force_locale(locale):
            label = month_label(month)
            subject = _(
                "Micro-Mentor of the Month: %(month)s is ready to review", month=label
            )
        queued = queue_mail(
            person.email,
            subject,
            "recognition_draft_ready",
            {
                "month_label": label,
                "candidates": candidates[:3],
                "count": len(candidates),
                "page_url": page,
            },
            user=person,
            preference="digest",
            org=org,
            dedupe_key=f"{DRAFT_JOB}:{org.id}:{month}:{person.id}",
            locale=locale,
        )
        sent += queued is not None
    return {"sent": sent}
