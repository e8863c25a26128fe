"""Recording administrative actions (``record``) and reading them back (``entries``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import g, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, func, or_, select, update

from mixer import clock
from mixer.audit.models import AuditEntry
from mixer.extensions import db

SYSTEM = "Mixer"  # the actor's name when no person acted (jobs, commands)
# An erased person: the actor's name (as their emptied account is named), and
# the words that replace their name and address in summaries.
FORMER_ACTOR = "Former member"
FORMER = "a former member"
PER_PAGE = 50

# Every action Mixer records, with the words people read (the filter's choices;
# lazy, so they are said in the page's language).
# A feature that records a new action adds it here.
ACTIONS: dict[str, Any] = {
    # the organization
    "org.settings_changed": _l("Changed the organization's settings"),
    "org.language_changed": _l("Changed the organization's language"),
    "department.added": _l("Added a department"),
    "department.renamed": _l("Renamed a department"),
    # members
    "member.role_changed": _l("Changed a member's role"),
    "member.updated": _l("Changed a member's details"),
    "member.removed": _l("Removed a member"),
    "members.imported": _l("Imported members from a CSV file"),
    "invitation.sent": _l("Sent an invitation"),
    "invitation.resent": _l("Sent an invitation again"),
    "invitation.revoked": _l("Withdrew an invitation"),
    # accounts
    "account.deactivated": _l("Deactivated an account"),
    "account.reactivated": _l("Reactivated an account"),
    "api_token.created": _l("Created an API token"),
    "api_token.revoked": _l("Revoked an API token"),
    # events
    "event.published": _l("Published an event"),
    "event.cancelled": _l("Cancelled an event"),
    "registration.moved": _l("Moved someone on or off the waitlist"),
    "registration.seat_given": _l("Gave someone a seat at the door"),
    "registration.removed": _l("Took someone off an event"),
    # the door
    "checkin.undone": _l("Undid a check-in"),
    "door.helper_added": _l("Made someone a door helper"),
    "door.helper_removed": _l("Removed a door helper"),
    "door.link_created": _l("Created a door link"),
    "door.link_revoked": _l("Revoked a door link"),
    # recognition
    "testimonial.approved": _l("Approved a testimonial"),
    "testimonial.hidden": _l("Hid a testimonial"),
    "testimonial.returned": _l("Returned a testimonial to moderation"),
    "award.published": _l("Published an award"),
    "award.unpublished": _l("Unpublished an award"),
    # the charter and schools' check-in lists
    "charter.changed": _l("Changed the mentoring charter"),
    "roster.mentor_named": _l("Named a student mentor"),
    "roster.mentor_removed": _l("Took back a student mentor role"),
    # data leaving Mixer
    "export.attendees": _l("Downloaded an event's attendee list"),
    "export.insights": _l("Downloaded an insights export"),
    "export.report": _l("Opened a report PDF"),
    # recorded by single sign-on, data rights and webhooks (issue 18)
    "sso.settings_changed": _l("Changed the single sign-on settings"),
    "sso.member_joined": _l("Someone joined through single sign-on"),
    "person.erased": _l("Erased a person"),
    "retention.changed": _l("Changed how long personal details are kept"),
    "retention.applied": _l("Removed personal details past the retention period"),
    "webhook.endpoint_added": _l("Added a webhook endpoint"),
    "webhook.endpoint_changed": _l("Changed a webhook endpoint"),
    "webhook.secret_rotated": _l("Gave a webhook endpoint a new secret"),
    "webhook.endpoint_removed": _l("Removed a webhook endpoint"),
    "webhook.endpoint_switched_off": _l("Switched off a failing webhook endpoint"),
}


# What a subject is, in words (the page shows "Member #12").
SUBJECTS: dict[str, Any] = {
    "organization": _l("Organization"),
    "department": _l("Department"),
    "membership": _l("Member"),
    "invitation": _l("Invitation"),
    "user": _l("Account"),
    "api_token": _l("API token"),
    "event": _l("Event"),
    "registration": _l("Registration"),
    "door_helper": _l("Door helper"),
    "door_link": _l("Door link"),
    "testimonial": _l("Testimonial"),
    "award": _l("Award"),
}


def subject_label(entry: AuditEntry) -> str:
    """The entry's subject in words and its stable reference: "Member #12"."""
    if entry.subject_type is None:
        return ""
    kind = SUBJECTS.get(entry.subject_type)
    kind = str(kind) if kind is not None else entry.subject_type.replace("_", " ")
    return f"{kind} #{entry.subject_id}" if entry.subject_id is not None else kind


def label(action: str) -> str:
    """The words people read for ``action`` (its own name when not listed)."""
    return str(ACTIONS.get(action, action))


def _request_actor() -> Any:
    """Who acts in this request: the signed-in person, else an API token's owner."""
    if not has_request_context():
        return None
    if current_user.is_authenticated:
        return current_user._get_current_object()
    if "api_token_id" in g:  # set by the API's token check
        return g.get("user")
    return None


def record(
    org_id: int | None,
    action: str,
    summary: str,
    *,
    subject: tuple[str, int | None] | None = None,
    details: dict[str, Any] | None = None,
    actor: Any = None,
    actor_name: str | None = None,
) -> AuditEntry:
    """Add an entry for an action done now (committed with the action).

    ``actor`` defaults to the signed-in person of the request (or the owner of
    the API token it carries), else Mixer itself; ``actor_name`` names an actor
    without an account instead (a door link). ``ip`` is the client's address as the
    proxy settings make it (``MIXER_PROXY_HOPS``). ``subject`` is
    ("membership", 12) or similar. ``details`` never holds secrets or private
    notes; before/after values go in ``details["changes"]`` as
    ``{field: [before, after]}``.
    """
    if actor is None and actor_name is None:
        actor = _request_actor()
    details = dict(details or {})
    if has_request_context() and "api_token_id" in g:
        details.setdefault("api_token_id", g.api_token_id)
    if actor is not None:
        name = actor.name
    else:
        name = actor_name or SYSTEM
    entry = AuditEntry(
        org_id=org_id,
        actor_id=actor.id if actor is not None else None,
        actor_name=name[:120],
        action=action,
        subject_type=subject[0] if subject else None,
        subject_id=subject[1] if subject else None,
        summary=summary[:500],
        details=details,
        ip=request.remote_addr if has_request_context() else None,
        created_at=clock.now(),  # when it was done, not when the session flushes
    )
    db.session.add(entry)
    return entry


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields whose value differs, as ``{field: [before, after]}``."""
    return {
        key: [before.get(key), value]
        for key, value in after.items()
        if before.get(key) != value
    }


def day_range(
    since: date | None, until: date | None
) -> tuple[datetime | None, datetime | None]:
    """The instants a range of days (UTC, both inclusive) starts and ends before."""
    start = datetime.combine(since, time(), UTC) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), UTC) if until else None
    return start, end


def entries(
    org_id: int,
    *,
    action: str | None = None,
    actor: int | None = None,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Pagination:
    """One page of the organization's entries, newest first, filtered by action,
    by the acting account's id and by days (UTC, inclusive): two statements
    (the count and the page) whatever the page holds."""
    stmt = select(AuditEntry).where(AuditEntry.org_id == org_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor)
    start, end = day_range(since, until)
    if start is not None:
        stmt = stmt.where(AuditEntry.created_at >= start)
    if end is not None:
        stmt = stmt.where(AuditEntry.created_at < end)
    stmt = stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    return db.paginate(
        stmt, page=max(page, 1), per_page=per_page, max_per_page=100, error_out=False
    )


def actors(org_id: int) -> list[tuple[int, str]]:
    """The accounts that acted in the organization, (id, latest name) by name."""
    latest = (
        select(func.max(AuditEntry.id))
        .where(AuditEntry.org_id == org_id, AuditEntry.actor_id.is_not(None))
        .group_by(AuditEntry.actor_id)
    )
    rows = db.session.execute(
        select(AuditEntry.actor_id, AuditEntry.actor_name).where(
            AuditEntry.id.in_(latest)
        )
    ).all()
    found = [(actor_id, name) for actor_id, name in rows if actor_id is not None]
    return sorted(found, key=lambda pair: (pair[1].lower(), pair[0]))


def forget_actor(
    user_id: int, texts: Iterable[str] = (), *, org_id: int | None = None
) -> int:
    """Erasure: an erased person's entries say "Former member" did it, and
    ``texts`` (their name, their e-mail) become "a former member" in every
    summary; ``org_id``: in that organization's trail only (an admin erased
    their data there). Call it while the account's id is still on its entries.

    The one change the application ever makes to an entry (the append-only
    test allows exactly this statement); returns how many entries changed.
    """
    words = [t for t in {" ".join(t.split()) for t in texts} if len(t) >= 3]
    summary: Any = AuditEntry.summary
    for text in sorted(words, key=len, reverse=True):  # "Ada Lovelace" before "Ada"
        summary = func.replace(summary, text, FORMER)
    mentions = [AuditEntry.summary.contains(t, autoescape=True) for t in words]
    scope = [] if org_id is None else [AuditEntry.org_id == org_id]
    result = db.session.execute(
        update(AuditEntry)
        .where(or_(AuditEntry.actor_id == user_id, *mentions), *scope)
        .values(
            actor_name=case(
                (AuditEntry.actor_id == user_id, FORMER_ACTOR),
                else_=AuditEntry.actor_name,
            ),
            summary=summary,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
