"""The e-mail after the event: each attendee gets links to the material they may see.

Adding material schedules one job per event end time (it moves with the event);
the job mails every registered attendee with an account once ever, respecting
their ``followup_prompts`` preference.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mixer import clock
from mixer.events.models import Event, EventStatus, Registration
from mixer.extensions import db
from mixer.i18n import recipient_locale
from mixer.jobs.services import schedule
from mixer.mail.services import queue_mail
from mixer.speakers.visibility import Viewer, download_url, grouped, materials

MAIL_JOB = "speakers.material_mail"


def schedule_material_mail(event: Event) -> None:
    """Once per event end time: a job that mails attendees the material."""
    ends_at = clock.stamp(event.ends_at)
    schedule(
        MAIL_JOB,
        {"event_id": event.id, "ends_at": ends_at},
        run_at=max(event.ends_at, clock.now()) + timedelta(minutes=5),
        dedupe_key=f"{MAIL_JOB}:{event.id}:{ends_at}",
        org_id=event.org_id,
    )


def send_material_mail(event_id: int, ends_at: str) -> dict[str, int]:
    """E-mail each registered attendee (with an account) links to what they may see.

    Respects the ``followup_prompts`` preference; each person gets it once ever.
    """
    event = db.session.get(Event, event_id)
    if event is None or event.status in (EventStatus.DRAFT, EventStatus.CANCELLED):
        return {"sent": 0}
    if clock.stamp(event.ends_at) != ends_at:
        schedule_material_mail(event)  # the event moved: go at its new end
        return {"sent": 0, "moved": 1}
    regs = db.session.scalars(
        select(Registration).where(
            Registration.event_id == event.id,
            Registration.holds_seat,
            Registration.user_id.is_not(None),
        )
    )
    sent = 0
    for reg in regs:
        user = reg.user
        if user is None:  # filtered out above; said again for the type checker
            continue
        items = [m for m, _ in grouped(materials(event, Viewer(event, user)))]
        if not items:
            continue
        links = [(m, download_url(m)) for m in items]
        message = queue_mail(
            user.email,
            _l("Slides and material from %(title)s", title=event.title),
            "material_after_event",
            {"event": event, "links": links},
            user=user,
            preference="followup_prompts",
            org=event.org,
            dedupe_key=f"{MAIL_JOB}:{event.id}:{user.id}",
            locale=recipient_locale(user, event.org),
        )
        sent += message is not None
    return {"sent": sent}
