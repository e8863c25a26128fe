"""API: the mentoring pairs of the token's organization (organizers).

Another organization's pairs do not exist for a token (404). The private parts of
a pair (e-mail addresses, "what helped" notes, feedback) are not in the API.

The API speaks of a pair's meetings as "check-ins" (``checkins``,
``next_checkin_at``, ``checkin_minutes``, the ``PairCheckin`` schema), as its
clients have always read them.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mixer.accounts.api_auth import token_required
from mixer.api import Schema, api_abort, blueprint
from mixer.extensions import db
from mixer.pairs.models import (
    MEETING_STATUSES,
    PAIR_KINDS,
    PAIR_SOURCES,
    PAIR_STATUSES,
    Pair,
)
from mixer.pairs.queries import org_pairs_query
from mixer.urls import absolute_url

blp = blueprint("pairs_api", __name__, "Pairs.")


def as_dict(pair: Pair) -> dict[str, Any]:
    """A pair as the API shows it."""
    return {
        "id": pair.id,
        "kind": pair.kind,
        "status": pair.status,
        "source": pair.source,
        "topic": pair.topic,
        "event_id": pair.event_id,
        "people": [
            {"id": u.id, "name": u.name, "role": pair.role_of(u.id)}
            for u in pair.people
        ],
        "cadence_days": pair.cadence_days,
        "checkin_minutes": pair.meeting_minutes,
        "started_at": pair.started_at,
        "term_ends_at": pair.term_ends_at,
        "ended_at": pair.ended_at,
        "next_checkin_at": pair.next_meeting_at,
        "checkins_held": pair.meetings_held,
        "checkins_missed": pair.meetings_missed,
        "renewed_from_id": pair.renewed_from_id,
    }


def as_detail(pair: Pair) -> dict[str, Any]:
    """A pair with its meeting history (notes stay private to the two)."""
    return {
        **as_dict(pair),
        "checkins": [
            {
                "number": m.number,
                "due_at": m.due_at,
                "status": m.status,
                "reported_at": m.reported_at,
            }
            for m in pair.meetings
        ],
    }


class PairPersonSchema(Schema):
    """One of the two, and their role in the pair."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    role = ma.fields.String(
        required=True, metadata={"enum": ["mentor", "mentee", "peer"]}
    )


class PairCheckinSchema(Schema):
    """One check-in (meeting) of a pair (the two's notes stay private)."""

    number = ma.fields.Integer(required=True)
    due_at = ma.fields.AwareDateTime(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(MEETING_STATUSES)})
    reported_at = ma.fields.AwareDateTime(allow_none=True)


class PairSchema(Schema):
    """A pair as the API shows it."""

    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(PAIR_KINDS)})
    status = ma.fields.String(required=True, metadata={"enum": list(PAIR_STATUSES)})
    source = ma.fields.String(required=True, metadata={"enum": list(PAIR_SOURCES)})
    topic = ma.fields.String(allow_none=True)
    event_id = ma.fields.Integer(allow_none=True)
    renewed_from_id = ma.fields.Integer(allow_none=True)
    people = ma.fields.List(ma.fields.Nested(PairPersonSchema), required=True)
    cadence_days = ma.fields.Integer(
        required=True, metadata={"description": "Days between check-ins."}
    )
    checkin_minutes = ma.fields.Integer(required=True)
    started_at = ma.fields.AwareDateTime(required=True)
    term_ends_at = ma.fields.AwareDateTime(required=True)
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    next_checkin_at = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "Null when paused, over, or no check-in is left."},
    )
    checkins_held = ma.fields.Integer(required=True)
    checkins_missed = ma.fields.Integer(
        required=True, metadata={"description": "Missed or skipped."}
    )
    url = ma.fields.String(required=True, metadata={"format": "uri"})

    @ma.pre_dump
    def _values(self, pair: Pair, **_kwargs) -> dict:
        """The pair's values as the API shows them."""
        return {
            **as_dict(pair),
            "url": absolute_url("pairs.show", pair_id=pair.id),
        }


class PairDetailSchema(PairSchema):
    """A pair with its check-in history."""

    checkins = ma.fields.List(ma.fields.Nested(PairCheckinSchema), required=True)

    @ma.pre_dump
    def _values(self, pair: Pair, **_kwargs) -> dict:
        """The pair's values as the API shows them."""
        return {
            **as_detail(pair),
            "url": absolute_url("pairs.show", pair_id=pair.id),
        }


@blp.route("/pairs", methods=["GET"])
@token_required("organizer")
@blp.paginated(PairSchema)
def list_pairs():
    """The organization's pairs, newest first."""
    return org_pairs_query(g.org).options(
        selectinload(Pair.a), selectinload(Pair.b), selectinload(Pair.meetings)
    )


@blp.route("/pairs/<int:pair_id>", methods=["GET"])
@token_required("organizer")
@blp.response(200, PairDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_pair(pair_id: int):
    """One pair with its check-ins."""
    pair = db.session.scalar(
        select(Pair).where(Pair.id == pair_id, Pair.org_id == g.org_id)
    )
    if pair is None:
        api_abort(404, f"No pair {pair_id} in this organization.")
    return pair
