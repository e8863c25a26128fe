"""What people hear about an event, and the jobs that run at its times.

One e-mail to one registrant (:func:`mail_registrant`, with a calendar invitation
or cancellation attached), a guest's confirmation request, the job that tells
everyone about a change or a cancellation (:func:`queue_notice`, run as
``events.notify`` by :func:`notify_registrants`), the day-before reminder
(:func:`send_reminders`) and the end of an event (:func:`finish_event`). The
handlers are in ``mixer.events.jobs``; ``mixer.events.lifecycle`` schedules them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mixer import clock, signals
from mixer.events import ics
from mixer.events.links import (
    GUEST_CONFIRM_DAYS,
    cancel_url,
    event_url,
    guest_confirm_url,
)
from mixer.events.models import (
    ACTIVE_STATUSES,
    Event,
    EventStatus,
    Registration,
    RegistrationSource,
    RegistrationStatus,
)
from mixer.events.rules import PLACE_FIELDS, TIME_FIELDS
from mixer.extensions import db
from mixer.i18n import current_locale, recipient_locale
from mixer.jobs import services as jobs
from mixer.mail.models import OutboxMessage
from mixer.mail.services import Attachment, queue_mail
from mixer.urls import absolute_url

NOTIFY_JOB = "events.notify"


def _changed_subject(changed: list[str], title: str) -> Any:
    """The subject of a change notice: what changed ("time", "place"), as a whole
    sentence per case so each language words it its own way."""
    if "time" in changed and "place" in changed:
        return _l("Changed time and place: %(title)s", title=title)
    if "time" in changed:
        return _l("Changed time: %(title)s", title=title)
    if "place" in changed:
        return _l("Changed place: %(title)s", title=title)
    return _l("Changed details: %(title)s", title=title)


def mail_registrant(
    reg: Registration,
    template: str,
    subject: Any,
    method: str | None = None,
    extra: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """E-mail one registrant, with an .ics invitation (REQUEST) or cancellation
    (nothing for a walk-in registered without an address), in their language:
    ``subject`` is a lazy string, translated there."""
    if not reg.has_email:
        return None
    event = reg.event
    attachments = []
    if method:
        attachments.append(
            Attachment(
                "invite.ics" if method == "REQUEST" else "cancel.ics",
                ics.event_ics(event, method=method, attendee=reg),
                f"text/calendar; method={method}; charset=utf-8",
            )
        )
    user = reg.user
    # Reminders are the one kind of event mail people may turn off.
    preference = "event_reminders" if template == "event_reminder" and user else None
    guest = (
        reg.source == RegistrationSource.GUEST
        or user is None
        or user.membership_in(event.org) is None
    )
    context = {
        "org": event.org,
        "event": event,
        "registration": reg,
        "event_link": event_url(event, guest=guest),
        "cancel_link": cancel_url(reg),
        "calendar_link": absolute_url("events.calendar", event_id=event.id),
        **(extra or {}),
    }
    return queue_mail(
        reg.email,
        subject,
        template,
        context,
        user=user if preference else None,
        preference=preference,
        org=event.org,
        kind=f"events.{template.removeprefix('event_')}",
        attachments=attachments,
        dedupe_key=dedupe_key,
        locale=recipient_locale(user, event.org),
    )


def send_guest_confirmation(reg: Registration) -> None:
    """E-mail a guest the link that confirms their pending place (in the language
    of the page they registered on: a guest has no setting of their own)."""
    queue_mail(
        reg.email,
        _l("Confirm your place: %(title)s", title=reg.event.title),
        "event_guest_confirm",
        {
            "org": reg.event.org,
            "event": reg.event,
            "registration": reg,
            "link": guest_confirm_url(reg),
            "days": GUEST_CONFIRM_DAYS,
        },
        org=reg.event.org,
        kind="auth",
        locale=current_locale(),
    )


def queue_notice(event: Event, what: str, changed: Iterable[str] = ()) -> None:
    """Queue the job that tells everyone signed up that the event changed
    (``what="updated"``, with the fields that ``changed``) or was cancelled.

    A job (written in this transaction) rather than mail in the request: a big
    event's thousands of messages must not hold up the organizer's click.
    """
    what_changed = set(changed)
    kinds = []
    if what_changed & set(TIME_FIELDS):
        kinds.append("time")
    if what_changed & set(PLACE_FIELDS):
        kinds.append("place")
    jobs.schedule(
        NOTIFY_JOB,
        {
            "event_id": event.id,
            "what": what,
            "sequence": event.sequence,
            "changed": kinds,
        },
        dedupe_key=f"{NOTIFY_JOB}:{event.id}:{event.sequence}",
        org_id=event.org_id,
    )


def notify_registrants(
    event_id: int, what: str, sequence: int, changed: list[str]
) -> dict[str, int]:
    """E-mail everyone signed up about a cancellation or a new time or place.

    Each message has a dedupe key, so a job that runs again sends nothing twice;
    a notice already superseded by a newer change (higher SEQUENCE) is skipped.
    """
    event = db.session.get(Event, event_id)
    if event is None or event.sequence != sequence:
        return {"sent": 0, "superseded": 1}
    statuses: tuple[RegistrationStatus, ...] = ACTIVE_STATUSES
    if what == "cancelled":
        statuses = (RegistrationStatus.PENDING, *ACTIVE_STATUSES)
    people = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status.in_(statuses))
        .order_by(Registration.id)
    ).all()
    for reg in people:
        key = f"{NOTIFY_JOB}:{event.id}:{sequence}:{reg.id}"
        if what == "cancelled":
            mail_registrant(
                reg,
                "event_cancelled",
                _l("Cancelled: %(title)s", title=event.title),
                method="CANCEL" if reg.holds_seat else None,
                dedupe_key=key,
            )
        else:
            mail_registrant(
                reg,
                "event_updated",
                _changed_subject(changed, event.title),
                method="REQUEST" if reg.holds_seat else None,
                extra={"changed": changed},
                dedupe_key=key,
            )
    return {"sent": len(people)}


def send_reminders(event_id: int, starts_at: str) -> dict[str, int]:
    """E-mail everyone registered the day before (once each, whatever happens)."""
    event = db.session.get(Event, event_id)
    if (
        event is None
        or event.status != EventStatus.PUBLISHED
        or clock.stamp(event.starts_at) != starts_at
    ):
        return {"sent": 0, "skipped": 1}
    sent = 0
    people = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.holds_seat)
        .order_by(Registration.id)
    ).all()
    for reg in people:
        queued = mail_registrant(
            reg,
            "event_reminder",
            _l("Tomorrow: %(title)s", title=event.title),
            dedupe_key=f"events.reminder:{event.id}:{reg.id}:{starts_at}",
        )
        sent += queued is not None
    return {"sent": sent}


def finish_event(event_id: int, ends_at: str) -> dict[str, int]:
    """Mark a published event ended once its end has passed."""
    event = db.session.get(Event, event_id)
    if (
        event is not None
        and event.status == EventStatus.PUBLISHED
        and clock.stamp(event.ends_at) == ends_at
        and event.ends_at <= clock.now()
    ):
        event.status = EventStatus.ENDED
        db.session.flush()
        signals.event_closed.send(event, closed_by="schedule")
        return {"ended": 1}
    return {"ended": 0}
