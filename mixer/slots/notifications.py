"""The e-mails of a booking: the invite to both (new, moved, cancelled, each with
its calendar file), the reminder before it and, afterwards, "did it help?" to
the guest. Each in the recipient's language, each once (a dedupe key)."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from mixer import tokens
from mixer.accounts.models import User
from mixer.clock import stamp
from mixer.i18n import recipient_locale
from mixer.mail.services import Attachment, queue_mail
from mixer.slots import ics
from mixer.slots.models import SlotBooking
from mixer.urls import absolute_url

HELPED_PURPOSE = "slots.helped"
HELPED_DAYS = 14  # how long the "did it help?" link works

SUBJECTS = {
    "booked": _l("Booked: five minutes with %(name)s"),
    "moved": _l("Moved: five minutes with %(name)s"),
    "cancelled": _l("Cancelled: five minutes with %(name)s"),
}
REMINDER_SUBJECT = _l("Soon: five minutes with %(name)s")
HELPED_SUBJECT = _l("Did your five minutes with %(name)s help?")
KEEP_SUBJECT = _l("%(name)s would like to keep talking every two weeks")


class _Subject:
    """A lazy subject with the other person's name, translated by queue_mail."""

    def __init__(self, text: Any, name: str) -> None:
        self.text, self.name = text, name

    def __str__(self) -> str:
        return str(self.text) % {"name": self.name}


def invite(booking: SlotBooking, method: str) -> Attachment:
    """The booking as an .ics attachment (REQUEST or CANCEL)."""
    return Attachment(
        "invite.ics" if method == "REQUEST" else "cancel.ics",
        ics.booking_ics(booking, method),
        f"text/calendar; method={method}; charset=utf-8",
    )


def _context(booking: SlotBooking, user: User) -> dict[str, Any]:
    other = booking.guest if user.id == booking.host_id else booking.host
    return {
        "booking": booking,
        "me": user,
        "other": other,
        "hosting": user.id == booking.host_id,
        "tz": booking.offer.timezone,
        "week_link": absolute_url("slots.week", slug=booking.offer.org.slug),
    }


def _send(
    booking: SlotBooking,
    user: User,
    template: str,
    subject: Any,
    key: str,
    extra: dict[str, Any] | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> bool:
    ctx = _context(booking, user)
    return (
        queue_mail(
            user.email,
            _Subject(subject, ctx["other"].name),
            template,
            {**ctx, **(extra or {})},
            user=user,
            org=booking.offer.org,
            kind=f"slots.{template.removeprefix('slots_')}",
            dedupe_key=key,
            attachments=attachments,
            locale=recipient_locale(user, booking.offer.org),
        )
        is not None
    )


def send_invites(booking: SlotBooking, change: str) -> None:
    """Tell both people: ``change`` is "booked", "moved" or "cancelled"."""
    method = "CANCEL" if change == "cancelled" else "REQUEST"
    for user in (booking.host, booking.guest):
        # Each person's calendar file in their language (its title is words).
        with force_locale(recipient_locale(user, booking.offer.org)):
            attachment = invite(booking, method)
        _send(
            booking,
            user,
            "slots_invite",
            SUBJECTS[change],
            f"slots.invite:{booking.id}:{booking.ics_sequence}:{user.id}",
            {"change": change},
            (attachment,),
        )


def send_reminders(booking: SlotBooking) -> int:
    """The reminder to both, once per start time; how many were queued."""
    sent = 0
    for user in (booking.host, booking.guest):
        key = f"slots.remind:{booking.id}:{stamp(booking.starts_at)}:{user.id}"
        sent += _send(booking, user, "slots_reminder", REMINDER_SUBJECT, key)
    return sent


def helped_link(booking: SlotBooking, answer: str | None = None) -> str:
    """The guest's "did it help?" page (works until it expires, may be reused)."""
    token = tokens.make(HELPED_PURPOSE, {"b": booking.id})
    values = {"answer": answer} if answer else {}
    return absolute_url("slots.helped_link", token=token, **values)


def send_helped_question(booking: SlotBooking) -> bool:
    """ "Did it help?" to the guest, once per booking."""
    links = {a: helped_link(booking, a) for a in ("yes", "somewhat", "no")}
    return _send(
        booking,
        booking.guest,
        "slots_helped",
        HELPED_SUBJECT,
        f"slots.helped:{booking.id}",
        {"links": links},
    )


def send_keep_proposal(booking: SlotBooking, by: User) -> bool:
    """Tell the other side that ``by`` proposed to keep talking, once."""
    other = booking.guest if by.id == booking.host_id else booking.host
    return _send(
        booking,
        other,
        "slots_keep",
        KEEP_SUBJECT,
        f"slots.keep:{booking.id}:{other.id}",
    )
