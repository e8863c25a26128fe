"""The gentle nudge: a keeper who has not checked in with a student for two
periods of the list's cadence gets one e-mail about that student.

One spell without a check-in gets at most one nudge: the job and the mail both
carry a key naming the entry, the spell's start (the last check-in, else when
the student was added) and the cadence, so several workers, a retry or a
second scheduling send it once. A check-in starts a new spell (and plans its
nudge); a changed cadence plans a nudge for the new cadence, and the old job
finds its cadence stale and sends nothing.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from mixer import clock
from mixer.extensions import db
from mixer.i18n import recipient_locale
from mixer.mail.services import queue_mail
from mixer.roster.models import RosterEntry
from mixer.urls import absolute_url


def send_nudge(payload: dict[str, Any]) -> str:
    """Nudge the keeper about one student if the spell is still on; what happened."""
    entry = db.session.get(RosterEntry, payload["entry_id"])
    if entry is None:
        return "gone"
    roster_list = entry.roster_list
    if clock.stamp(entry.since) != payload["since"]:
        return "checked in since"
    if str(roster_list.cadence) != payload["cadence"]:
        return "cadence changed"
    now = clock.now()
    if now < entry.nudge_at():
        return "not yet"
    keeper = roster_list.owner
    org = keeper.org
    student = entry.student.user
    days = (now - entry.since).days
    queued = queue_mail(
        keeper.user.email,
        _l("A check-in with %(name)s is overdue", name=student.name),
        "roster_nudge",
        {
            "org": org,
            "keeper": keeper.user,
            "student": student,
            "roster_list": roster_list,
            "days": days,
            "link": absolute_url("roster.index", slug=org.slug),
        },
        user=keeper.user,
        preference="pair_checkins",
        org=org,
        kind="roster.nudge",
        dedupe_key=f"roster.nudge:{entry.id}:{payload['since']}:{payload['cadence']}",
        locale=recipient_locale(keeper.user, org),
    )
    return "sent" if queued is not None else "not sent"
