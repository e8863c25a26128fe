"""The links Mixer sends people about an event and their place, and reading them.

* the event page (:func:`event_url`), with the share key for guests;
* a guest's confirmation link (:func:`guest_confirm_url`; single use, valid for
  ``GUEST_CONFIRM_DAYS``);
* the cancel link in every registration e-mail (:func:`cancel_url`; it does not
  expire, and names the moment of registering so that it cannot cancel a later
  sign-up of the same person);
* the attendee's own badge PDF (:func:`badge_download_url`): a signed key, not the
  badge token, which anyone who scans the badge learns. The badges feature serves
  the PDF and checks the key with :func:`download_key_valid`.

A link that cannot be used is a ``LinkError``, answered with
``templates/events/link_problem.html``. These pages have answered 400 to every
unusable link (expired and used ones too) since before ``LinkError`` had statuses
of its own, and 409 when the event refuses a sound link now (registration closed,
event over); :func:`unusable` and :func:`refused` keep those statuses.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from mixer import clock, tokens
from mixer.errors import LinkError
from mixer.events.models import Event, Registration, RegistrationStatus, Visibility
from mixer.extensions import db
from mixer.urls import absolute_url

GUEST_PURPOSE = "event-guest"
CANCEL_PURPOSE = "event-cancel"
BADGE_PURPOSE = "badge-pdf"
GUEST_CONFIRM_DAYS = 3
LINK_STATUS = 400


def event_url(event: Event, guest: bool = False) -> str:
    """The absolute address of the event page (with the share key for guests)."""
    if guest and event.visibility == Visibility.LINK:
        return absolute_url("events.show", event_id=event.id, key=event.share_key)
    return absolute_url("events.show", event_id=event.id)


def unusable(reason: str, message: str) -> LinkError:
    """An events link that cannot be used ("invalid", "expired", "used"): 400."""
    return LinkError(reason, message, status=LINK_STATUS)


def refused(message: str) -> LinkError:
    """A sound link the event refuses now (registration closed, event over): 409,
    on the same page as a broken link."""
    return LinkError("other", message, status=409)


def _read(purpose: str, token: str, max_age: int | None = None) -> dict[str, Any]:
    try:
        return tokens.read(purpose, token, max_age)
    except LinkError as exc:  # the same problem, with the events pages' status
        raise unusable(exc.reason, exc.message) from exc


# ---------------------------------------------------------------------------
# A guest's confirmation link


def guest_confirm_url(reg: Registration) -> str:
    """A fresh single-use link that turns ``reg`` (pending) into a place."""
    token = tokens.make(GUEST_PURPOSE, {"rid": reg.id}, single_use=True)
    return absolute_url("events.confirm_guest", event_id=reg.event_id, token=token)


def read_guest_token(token: str, event_id: int | None = None) -> Registration:
    """The pending registration behind a guest's confirmation link (of the event
    ``event_id``, when given)."""
    reg, _data = guest_link(token)
    if reg.status != RegistrationStatus.PENDING:
        raise unusable("used", _("This link has already been used."))
    if event_id is not None and reg.event_id != event_id:
        raise unusable("invalid", _("This link is not valid."))
    return reg


def guest_link(token: str) -> tuple[Registration, dict[str, Any]]:
    """The registration behind a guest's confirmation link (any status), and the
    link's data (to :func:`spend_guest_link` it)."""
    data = _read(GUEST_PURPOSE, token, max_age=GUEST_CONFIRM_DAYS * 86400)
    reg = db.session.get(Registration, data.get("rid"))
    if reg is None:
        raise unusable("invalid", _("This link is not valid."))
    return reg, data


def spend_guest_link(data: dict[str, Any]) -> None:
    """Mark a guest's confirmation link used (a second use, even racing, fails)."""
    try:
        tokens.spend(GUEST_PURPOSE, data)
    except LinkError as exc:  # the same problem, with the events pages' status
        raise unusable(exc.reason, exc.message) from exc


# ---------------------------------------------------------------------------
# The cancel link


def cancel_token(reg: Registration) -> str:
    """The secret in a registration's cancel link (e-mails); it does not expire.

    It names the moment of registering, so a link from an earlier sign-up does
    not cancel a later one of the same person.
    """
    return tokens.make(
        CANCEL_PURPOSE, {"rid": reg.id, "at": clock.stamp(reg.created_at)}
    )


def cancel_url(reg: Registration) -> str:
    """The absolute cancel link of ``reg`` (in every registration e-mail)."""
    return absolute_url(
        "events.cancel_link", event_id=reg.event_id, token=cancel_token(reg)
    )


def registration_from_cancel_token(
    token: str, event_id: int | None = None
) -> Registration:
    """The registration a cancel link points at (of the event ``event_id``, when
    given)."""
    data = _read(CANCEL_PURPOSE, token)
    reg = db.session.get(Registration, data.get("rid"))
    if reg is None or data.get("at") != clock.stamp(reg.created_at):
        raise unusable("invalid", _("This link belongs to an earlier registration."))
    if event_id is not None and reg.event_id != event_id:
        raise unusable("invalid", _("This link is not valid."))
    return reg


# ---------------------------------------------------------------------------
# The attendee's badge


def badge_download_url(reg: Registration) -> str:
    """The attendee's own link to their badge PDF (e-mails, "My events", the API).

    It carries a signed key, not the badge token: someone who scans a badge learns
    the token but must not be able to download its owner's details.
    """
    key = tokens.make(BADGE_PURPOSE, {"rid": reg.id})
    return absolute_url(
        "badges.attendee_badge", event_id=reg.event_id, registration_id=reg.id, key=key
    )


def download_key_valid(reg: Registration, key: str | None) -> bool:
    """Whether ``key`` is the signed download key of ``reg``'s badge."""
    if not key:
        return False
    try:
        data = tokens.read(BADGE_PURPOSE, key)
    except LinkError:
        return False  # not a key: the badge page asks the person to sign in
    return data.get("rid") == reg.id
