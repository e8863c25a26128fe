"""The e-mails of an ask, each sent once (its dedupe key says so).

* ``ask_received``: the one e-mail a person asked gets, with accept and decline
  links (kept off by the ``mentor_asks`` preference; the ask still waits in their
  inbox on ``/asks``).
* ``ask_taken``: thanks to someone asked whose answer is no longer needed.
* ``ask_nobody``: to the person asking, once per round, when nobody asked could
  take it on; it never names who declined.
* ``ask_already_paired``: to both, when the two had become a pair meanwhile.
* ``ask_organizers``: an ask nobody offers, passed on to the organizers.

Templates get the ask as ``ask``.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from mixer.accounts.models import User
from mixer.asks.links import answer_token
from mixer.asks.matching import best_tag, department_name, nearby_topics
from mixer.asks.models import ANSWER_DAYS, Ask, AskSuggestion
from mixer.i18n import recipient_locale
from mixer.mail.services import queue_mail
from mixer.urls import absolute_url

# Mail asking someone to help goes to people who keep mentoring mail on.
PREFERENCE = "mentor_asks"


def mail_ask(row: AskSuggestion) -> None:
    """The one e-mail an asked person gets, with one-tap accept and decline."""
    ask = row.ask
    token = answer_token(row)
    queue_mail(
        row.candidate.email,
        _l(
            "Would you be %(name)s's micro-mentor on %(topic)s?",
            name=ask.requester.name,
            topic=ask.topic,
        ),
        "ask_received",
        {
            "ask": ask,
            "suggestion": row,
            "department": department_name(ask.requester_id, ask.org_id),
            "tag": (best_tag(ask.topic, row.candidate.offers) or (ask.topic,))[0],
            "cadence": _cadence(),
            "accept_url": absolute_url(
                "asks.answer_link", token=token, choice="accept"
            ),
            "decline_url": absolute_url(
                "asks.answer_link", token=token, choice="decline"
            ),
            "inbox_url": absolute_url("asks.index"),
            "days": ANSWER_DAYS,
        },
        user=row.candidate,
        preference=PREFERENCE,
        org=ask.org,
        dedupe_key=f"asks:ask:{row.id}",
        locale=recipient_locale(row.candidate, ask.org),
    )


def _cadence() -> dict[str, int]:
    """The default rhythm of a new pair, to tell people what they agree to."""
    cfg = current_app.config
    return {
        "days": int(cfg["PAIR_CADENCE_DAYS"]),
        "minutes": int(cfg["PAIR_CHECKIN_MINUTES"]),
        "weeks": round(int(cfg["PAIR_TERM_DAYS"]) / 7),
    }


def mail_taken(row: AskSuggestion) -> None:
    """Thank someone asked whose answer is no longer needed."""
    queue_mail(
        row.candidate.email,
        _l(
            "Thank you — the ask on %(topic)s is already matched",
            topic=row.ask.topic,
        ),
        "ask_taken",
        {"ask": row.ask, "suggestion": row},
        user=row.candidate,
        preference=PREFERENCE,
        org=row.ask.org,
        dedupe_key=f"asks:taken:{row.id}",
        locale=recipient_locale(row.candidate, row.ask.org),
    )


def mail_nobody(ask: Ask, asked: int, more: int) -> None:
    """Tell the person asking that nobody of the ``asked`` could take it on; ``more``
    other people offer the topic. One e-mail per round, without names."""
    queue_mail(
        ask.requester.email,
        _l(
            "Your ask on %(topic)s: nobody asked could take it on right now",
            topic=ask.topic,
        ),
        "ask_nobody",
        {
            "ask": ask,
            "count": asked,
            "more": more,
            "url": absolute_url("asks.show", ask_id=ask.id),
        },
        user=ask.requester,
        org=ask.org,
        kind="asks",
        # One per round: the key counts everyone asked so far.
        dedupe_key=f"asks:nobody:{ask.id}:{asked}",
        locale=recipient_locale(ask.requester, ask.org),
    )


def mail_already_paired(ask: Ask, mentor: User) -> None:
    """Both hear that the topic can go to their next check-in (no second pair)."""
    for person, other in ((ask.requester, mentor), (mentor, ask.requester)):
        queue_mail(
            person.email,
            _l("%(name)s will help with %(topic)s", name=mentor.name, topic=ask.topic),
            "ask_already_paired",
            {"ask": ask, "mentor": mentor, "other": other},
            user=person,
            org=ask.org,
            kind="asks",
            dedupe_key=f"asks:paired:{ask.id}:{person.id}",
            locale=recipient_locale(person, ask.org),
        )


def mail_organizers(ask: Ask, by: User, organizers: list[User]) -> None:
    """Pass an ask nobody offers on to each organizer (replies go to ``by``)."""
    department = department_name(by.id, ask.org_id)
    nearby = nearby_topics(ask.org, ask.topic)
    for person in organizers:
        queue_mail(
            person.email,
            _l(
                "%(name)s is looking for a micro-mentor on %(topic)s",
                name=by.name,
                topic=ask.topic,
            ),
            "ask_organizers",
            {"ask": ask, "department": department, "nearby": nearby},
            user=person,
            org=ask.org,
            kind="asks",
            reply_to=by.email,
            dedupe_key=f"asks:organizers:{ask.id}:{person.id}",
            locale=recipient_locale(person, ask.org),
        )
