"""API: the mentoring pairs of the token's organization (organizers).

Another organization's pairs do not exist for a token (404). The private parts of
a pair (e-mail addresses, "what helped" notes, feedback) are not in the API.
"""

from __future__ import annotations

import marshmallow as ma
from flask import g
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mixer.accounts.api_auth import token_required
from mixer.api import Schema, api_abort, blueprint
from mixer.extensions import db
from mixer.pairs import services
from mixer.pairs.models import (
    CHECKIN_STATUSES,
    PAIR_KINDS,
    PAIR_SOURCES,
    PAIR_STATUSES,
    Pair,
)
from mixer.urls import absolute_url

blp = blueprint("pairs_api", __name__, "Pairs.")


class PairPersonSchema(Schema):
    """One of the two, and their role in the pair."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    role = ma.fields.String(
        required=True, metadata={"enum": ["mentor", "mentee", "peer"]}
    )


class PairCheckinSchema(Schema):
    """One check-in of a pair (the two's notes stay private)."""

    number = ma.fields.Integer(required=True)
    due_at = ma.fields.AwareDateTime(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(CHECKIN_STATUSES)})
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
            **services.as_dict(pair),
            "url": absolute_url("pairs.show", pair_id=pair.id),
        }


class PairDetailSchema(PairSchema):
    """A pair with its check-in history."""

    checkins = ma.fields.List(ma.fields.Nested(PairCheckinSchema), required=True)

    @ma.pre_dump
    def _values(self, pair: Pair, **_kwargs) -> dict:
        """The pair's values as the API shows them."""
        return {
            **services.as_detail(pair),
            "url": absolute_url("pairs.show", pair_id=pair.id),
        }


@blp.route("/pairs", methods=["GET"])
@token_required("organizer")
@blp.paginated(PairSchema)
def list_pairs():
    """The organization's pairs, newest first."""
    return services.org_pairs_query(g.org).options(
        selectinload(Pair.a), selectinload(Pair.b), selectinload(Pair.checkins)
    )


@blp.route("/pairs/<int:pair_id>", methods=["GET"])
@token_required("organizer")
@blp.response(200, PairDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_pair(pair_id: int):
    """One pair with its check-ins."""
    pair = db.session.scalar(
        select(Pair).where(Pair.id == pair_id, Pair.org_id == g.org.id)
    )
    if pair is None:
        api_abort(404, f"No pair {pair_id} in this organization.")
    return pair
