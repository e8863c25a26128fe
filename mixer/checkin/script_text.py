"""The words of the door's scripts (scan.js) and the helper that hands a plural
to a script (docs/i18n.md, "JavaScript strings").

A script gets its words as a JSON catalogue in a data attribute, rendered in the
page's language. ``{name}`` marks what the script fills in (the server's
``%(name)s``); a plural is an object of CLDR categories (``one``, ``few``,
``other``…) that the script picks from with ``Intl.PluralRules`` of the page's
``lang``, each with ``{num}`` for the count.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from babel import Locale
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _


def plural(forms: Callable[..., str]) -> dict[str, str]:
    """Every plural form of a message in the current language, keyed by CLDR
    category: ``forms(n)`` calls ``ngettext`` for a count ``n`` of that category,
    and the count in its text becomes the script's ``{num}`` (so the message
    must hold no other digits)."""
    locale = get_locale() or Locale("en")
    samples: dict[str, int] = {}
    for n in range(0, 200):
        samples.setdefault(locale.plural_form(n), n)
    return {
        category: re.sub(rf"(?<!\d){n}(?!\d)", "{num}", forms(n))
        for category, n in samples.items()
    }


def scan_messages() -> dict[str, object]:
    """The words of static/js/scan.js in the page's language."""
    return {
        "badge": _("Badge"),
        "undo": _("Undo"),
        "undoOf": _("Undo the check-in of %(name)s", name="{name}"),
        "busy": _("Busy, retrying…"),
        "checkedInName": _("Checked in: %(name)s", name="{name}"),
        "checkedIn": _("Checked in"),
        "alreadyIn": _("Already checked in"),
        "alreadyInAt": _(
            "%(name)s: already checked in at %(time)s", name="{name}", time="{time}"
        ),
        "signedOut": _("You are signed out: sign in again to check people in."),
        "notRegistered": _("Not registered for this event."),
        "notCheckedIn": _("Not checked in: %(message)s", message="{message}"),
        "signedOutQueue": _(
            "You are signed out: sign in again to send the saved scans."
        ),
        "onWaitlist": _(
            "%(name)s is on the waitlist, without a seat: not checked in.",
            name="{name}",
        ),
        "unconfirmed": _(
            "%(name)s has not confirmed their e-mail address: not checked in.",
            name="{name}",
        ),
        "cancelled": _(
            "%(name)s's registration was cancelled: not checked in.", name="{name}"
        ),
        "otherStatus": _(
            "%(name)s: %(status)s, not checked in.", name="{name}", status="{status}"
        ),
        "notBadge": _(
            "That is not a Mixer badge code: expected a link ending in /c/<code>."
        ),
        "otherEvent": _(
            "Not for this event: this badge is for “%(title)s”.", title="{title}"
        ),
        "thisBadge": _("This badge"),
        "alreadySaved": _(
            "%(name)s is already saved: it will sync when the connection returns.",
            name="{name}",
        ),
        "savedName": _("%(name)s — saved, will sync", name="{name}"),
        "savedBadge": _(
            "Badge saved — will sync (its name is not on this device's list)"
        ),
        "saved": _("Saved — will sync"),
        "cameraBlocked": _(
            "The camera is blocked for this page. Allow it in the browser's site "
            "settings and tap “Start the camera”, or find people by name below."
        ),
        "noCamera": _("No camera was found on this device. Find people by name below."),
        "cameraBusy": _(
            "Another app is using the camera. Close it and tap “Start the camera”, "
            "or find people by name below."
        ),
        "insecure": _(
            "This browser cannot open the camera here (it needs HTTPS). "
            "Find people by name below."
        ),
        "cameraFailed": _(
            "The camera could not be opened (%(error)s). Find people by name below.",
            error="{error}",
        ),
        "inAt": _("In at %(time)s", time="{time}"),
        "giveSeat": _("Give a seat and check in"),
        "checkedInUndo": _("Checked in · Undo"),
        "checkIn": _("Check in"),
        "checkedInAt": _("Checked in at %(time)s", time="{time}"),
        "alreadyInAtTime": _("Already checked in at %(time)s", time="{time}"),
        "undoFailed": _("Undo failed."),
        "undone": _("Check-in undone"),
        "undoneName": _("Check-in undone: %(name)s", name="{name}"),
        "undoOffline": _("Undo needs the connection."),
        "full": _("The event is full."),
        "seatOffline": _("Giving a seat needs the connection."),
        "seatOver": _("Yes, give a seat over capacity"),
        "cancel": _("Cancel"),
        "confirmSeat": _(
            "%(message)s Confirm to give a seat over capacity.", message="{message}"
        ),
        "noSeat": _("No seat given."),
        "searchOffline": _("Searching needs the connection."),
        "nobody": _("Nobody matches “%(query)s”.", query="{query}"),
        "searchFailed": _("The search did not answer. Try again."),
        "enterName": _("Enter the person's name."),
        "walkinOffline": _("Adding a walk-in needs the connection."),
        "walkinRetry": _("The walk-in could not be added. Try again."),
        "badgeFor": _("Badge (PDF) for %(name)s", name="{name}"),
        "walkinFailed": _("The walk-in could not be added."),
        "addOver": _("Yes, add %(name)s over capacity", name="{name}"),
        "sending": plural(
            lambda n: ngettext(
                "Sending %(num)d saved scan…",
                "Sending %(num)d saved scans…",
                n,
            )
        ),
        "waiting": plural(
            lambda n: ngettext(
                "%(num)d scan waiting for the connection",
                "%(num)d scans waiting for the connection",
                n,
            )
        ),
        "offlineReady": plural(
            lambda n: ngettext(
                "Ready to scan offline: %(num)d person on this device.",
                "Ready to scan offline: %(num)d people on this device.",
                n,
            )
        ),
    }
