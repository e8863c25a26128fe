"""The signed answer links in the e-mail to a person asked.

One token per person asked (purpose ``asks.answer``; data: the suggestion and the
person; single use; it works as long as the ask waits for an answer, 14 days),
used by both the accept and the decline link, so answering spends both. A link
only works for the person it was sent to.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mixer import tokens
from mixer.accounts.models import User
from mixer.asks.models import ANSWER_DAYS, AskSuggestion
from mixer.errors import LinkError
from mixer.extensions import db

ANSWER_PURPOSE = "asks.answer"
# The title of the page for an answer link that cannot be used.
LINK_TITLE = _l("This answer link cannot be used")


def answer_token(row: AskSuggestion) -> str:
    """A new single-use secret for the answer links of the person ``row`` asks."""
    return tokens.make(
        ANSWER_PURPOSE, {"s": row.id, "u": row.candidate_id}, single_use=True
    )


def read_answer_token(
    token: str, viewer: User | None = None
) -> tuple[AskSuggestion, dict[str, Any]]:
    """The suggestion a valid answer link is for and its data, or ``LinkError``.

    A link only works for the person it was sent to: someone else signed in
    (a forwarded mail, a shared computer) is refused and nothing changes.
    """
    data = tokens.read(
        ANSWER_PURPOSE, token, max_age=ANSWER_DAYS * 86400, title=LINK_TITLE
    )
    row = db.session.get(AskSuggestion, data.get("s") or 0)
    if row is None or row.candidate_id != data.get("u"):
        raise LinkError("invalid", _("This link is not valid."), title=LINK_TITLE)
    if viewer is not None and viewer.is_authenticated and viewer.id != row.candidate_id:
        raise LinkError(
            "invalid",
            _(
                "This link was sent to someone else. Sign out, or open it from "
                "that person's e-mail."
            ),
            title=LINK_TITLE,
        )
    return row, data


def spend(data: dict[str, Any]) -> None:
    """Spend an answer link (``LinkError`` when it was spent meanwhile)."""
    tokens.spend(ANSWER_PURPOSE, data, title=LINK_TITLE)
