"""The kinds of e-mail a person may turn off, and the one-click link that does it.

``queue_mail(..., user=..., preference=kind)`` checks the person's choice and
puts the link in the message (``List-Unsubscribe``, RFC 8058); the page behind the
link is ``accounts.unsubscribe``, which reads it with :data:`PURPOSE`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from mixer import tokens
from mixer.urls import absolute_url

NOTIFICATION_KINDS = (
    "event_reminders",
    "followup_prompts",
    "pair_checkins",
    "mentor_asks",
    "digest",
)
NOTIFICATION_LABELS = {
    "event_reminders": _l("Reminders before events I registered for"),
    "followup_prompts": _l("Follow-up prompts after events"),
    "pair_checkins": _l("Check-ins with my mentoring pairs"),
    "mentor_asks": _l("Asks to be someone's micro-mentor"),
    "digest": _l("The occasional digest of what is coming up"),
}
PURPOSE = "unsubscribe"  # the token purpose of the one-click links


def notification_label(kind: str) -> str:
    """A human name for a kind of e-mail (kinds added later fall back to their
    key); lazy, so a form label made at import is said in each page's language."""
    return NOTIFICATION_LABELS.get(kind) or kind.replace("_", " ").capitalize()


def default_notifications() -> dict[str, bool]:
    """Every kind of mail on until the person says otherwise."""
    return dict.fromkeys(NOTIFICATION_KINDS, True)


def unsubscribe_url(user_id: int, kind: str) -> str:
    """A one-click link that turns off one kind of e-mail for this person."""
    token = tokens.make(PURPOSE, {"uid": user_id, "kind": kind})
    return absolute_url("accounts.unsubscribe", token=token)
