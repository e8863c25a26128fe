"""API: a Mentor Mixer's rotation plan — make it, read it, re-plan what is left.

Refusals are 400s (409 once rounds have been held) whose message says what would
work instead; ``fields`` names the input at fault.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g

from mixer.accounts.api_auth import token_required
from mixer.api import Schema, api_abort, blueprint
from mixer.events.access import org_event
from mixer.extensions import db
from mixer.rotations import services
from mixer.rotations.memory import MAX_LOOKBACK_MONTHS
from mixer.rotations.models import (
    DEFAULT_LOOKBACK_MONTHS,
    LOCATION_PREFERENCES,
    PLAN_MODES,
    PairingMode,
)
from mixer.rotations.planner import GROUP_SIZES, MAX_ROUNDS
from mixer.rotations.services import MAX_LEVEL_GAP, MAX_MINUTES, MAX_SEED, Settings

V = ma.validate

blp = blueprint("rotations_api", __name__, "Mentor Mixer rotations.")

DEFAULT_MINUTES = 7


class RotationInputSchema(Schema):
    """How to plan the rounds (every field optional; the body may be left out)."""

    rounds = ma.fields.Integer(
        strict=True,
        validate=V.Range(1, MAX_ROUNDS),
        metadata={"description": "Rounds in all (default: the event's)."},
    )
    minutes = ma.fields.Integer(
        strict=True,
        validate=V.Range(1, MAX_MINUTES),
        metadata={"description": "Minutes per round (default: the event's)."},
    )
    mode = ma.fields.String(
        load_default=PairingMode.MENTOR_MENTEE.value,
        validate=V.OneOf(PLAN_MODES),
        metadata={"description": f"Pairing mode: {', '.join(PLAN_MODES)}."},
    )
    group_size = ma.fields.Integer(
        strict=True,
        load_default=2,
        validate=V.OneOf(GROUP_SIZES),
        metadata={"description": "2 (pairs) or 3."},
    )
    seed = ma.fields.Integer(
        strict=True,
        load_default=0,
        validate=V.Range(0, MAX_SEED),
        metadata={"description": "Another number gives another plan."},
    )
    min_level_gap = ma.fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=V.Range(0, MAX_LEVEL_GAP),
        metadata={
            "description": "School mode (`mentor_mentee` only): mentor at least N "
            "levels above."
        },
    )
    lookback_months = ma.fields.Integer(
        strict=True,
        allow_none=True,
        load_default=DEFAULT_LOOKBACK_MONTHS,
        validate=V.Range(0, MAX_LOOKBACK_MONTHS),
        metadata={
            "description": "Keep apart people who met at the organization's events "
            "of the last N months (0: don't look back; null: any time). People in "
            "an open pair are kept apart whatever this says."
        },
    )
    location_preference = ma.fields.String(
        load_default="any",
        validate=V.OneOf(LOCATION_PREFERENCES),
        metadata={
            "description": "Tables of one location (`same`), across locations "
            "(`different`), or ignore where people work (`any`)."
        },
    )


class TableSchema(Schema):
    table = ma.fields.Integer()
    members = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "Registration ids."}
    )


class RoundSchema(Schema):
    round = ma.fields.Integer()
    tables = ma.fields.List(ma.fields.Nested(TableSchema))
    byes = ma.fields.List(ma.fields.Integer())


class BecauseSchema(Schema):
    id = ma.fields.Integer(metadata={"description": "Registration id."})
    meets = ma.fields.Integer(metadata={"description": "People they sit with."})
    new_to_them = ma.fields.Integer(
        metadata={"description": "People they may sit with whom they don't know."}
    )


class EarlierSchema(Schema):
    repeated = ma.fields.Integer(
        metadata={
            "description": "Meetings of people who met at an earlier event "
            "(within the look-back) or are in an open pair."
        }
    )
    open_pairs_seated = ma.fields.Integer()
    known_pairs = ma.fields.Integer(
        metadata={"description": "Pairs in the room who know each other."}
    )
    avoided = ma.fields.Integer(
        metadata={"description": "Such pairs who could have sat together but don't."}
    )
    unavoidable = ma.fields.Integer(
        metadata={
            "description": "How many of `repeated` no plan could avoid (a "
            "proven minimum)."
        }
    )
    because = ma.fields.List(ma.fields.Nested(BecauseSchema))


class QualitySchema(Schema):
    repeats = ma.fields.Integer()
    cross_department_share = ma.fields.Float(allow_none=True)
    mean_interest_match = ma.fields.Float()
    max_byes = ma.fields.Integer()
    byes = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    meetings = ma.fields.Integer()
    earlier = ma.fields.Nested(EarlierSchema, allow_none=True)
    no_shared_language = ma.fields.Integer(allow_none=True)


class RotationPlanSchema(Schema):
    rounds = ma.fields.List(ma.fields.Nested(RoundSchema))
    quality = ma.fields.Nested(QualitySchema)
    settings = ma.fields.Dict()
    method = ma.fields.String()
    current_round = ma.fields.Integer(metadata={"description": "0: not started."})
    round_started_at = ma.fields.DateTime(allow_none=True)
    round_ends_at = ma.fields.DateTime(allow_none=True)


@blp.route("/events/<int:event_id>/rotations", methods=["POST"])
@token_required("organizer")
@blp.arguments(RotationInputSchema, required=False)
@blp.response(201, RotationPlanSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def create_rotations(data: dict[str, Any], event_id: int):
    """Plan every round for the people checked in (or all registered before anybody
    is checked in), replacing a plan whose first round has not started."""
    event = org_event(g.org_id, event_id)
    data.setdefault("rounds", event.rounds or 0)
    data.setdefault("minutes", event.minutes_per_round or DEFAULT_MINUTES)
    plan = services.create_plan(event, Settings(**data))
    db.session.commit()
    return services.plan_data(plan)


@blp.route("/events/<int:event_id>/rotations", methods=["GET"])
@token_required("organizer")
@blp.response(200, RotationPlanSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_rotations(event_id: int):
    """The event's current plan and how far the room has got."""
    plan = services.plan_for(org_event(g.org_id, event_id))
    if plan is None:
        api_abort(
            404,
            f"No rotations have been planned for event {event_id} yet; "
            "POST to this URL to plan them.",
            code="not_found",
        )
    return services.plan_data(plan)


@blp.route("/events/<int:event_id>/rotations/replan", methods=["POST"])
@token_required("organizer")
@blp.response(200, RotationPlanSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def replan_rotations(event_id: int):
    """Re-plan the rounds not yet held for the people present now; held rounds stay."""
    event = org_event(g.org_id, event_id)
    plan = services.replan_remaining(event)
    db.session.commit()
    return services.plan_data(plan)
