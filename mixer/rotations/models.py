"""A Mentor Mixer's stored rotation plan and the seats it gives, round by round.

One ``RotationPlan`` per event holds the settings, the quality report and how far the
room has got (``current_round``: 0 before the first round starts). Each person's
place in each round is a ``RotationSeat`` row, so "my table in round r" and "who sits
with me" are two indexed look-ups.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mixer import clock
from mixer.db_types import StrEnumType, UTCDateTime
from mixer.extensions import Model

if TYPE_CHECKING:
    from mixer.events.models import Event, Registration


class PairingMode(StrEnum):
    """Who may sit together: a mentor with a mentee at every table, or anyone."""

    MENTOR_MENTEE = "mentor_mentee"
    PEER = "peer"


PLAN_MODES = tuple(m.value for m in PairingMode)
# Tables prefer people from one location, avoid it, or ignore where people work.
LOCATION_PREFERENCES = ("any", "same", "different")
DEFAULT_LOOKBACK_MONTHS = 12


class RotationPlan(Model):
    """The rounds planned for one Mentor Mixer, its settings and the room's progress."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), unique=True
    )
    rounds: Mapped[int]
    minutes: Mapped[int]
    mode: Mapped[PairingMode] = mapped_column(StrEnumType(PairingMode, 16))
    group_size: Mapped[int]
    seed: Mapped[int] = mapped_column(default=0)
    min_level_gap: Mapped[int | None]
    # How far back earlier meetings count: months, 0 for not at all, None for any
    # time; and whether tables prefer ("same"), avoid ("different") or ignore
    # ("any") people from one location. Store "any time" as ``null()``: a plain
    # None takes the default.
    lookback_months: Mapped[int | None] = mapped_column(
        default=DEFAULT_LOOKBACK_MONTHS, server_default=str(DEFAULT_LOOKBACK_MONTHS)
    )
    location_preference: Mapped[str] = mapped_column(
        String(10), default="any", server_default="any"
    )
    method: Mapped[str] = mapped_column(String(20))  # the engine's method
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Everyone the plan knows (registration ids) and, in mentor_mentee mode, the
    # side each person was put on: a re-plan rebuilds the engine's Plan from these.
    participant_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    sides: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # People the organizer marked as gone: left out of every re-plan.
    left_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    current_round: Mapped[int] = mapped_column(default=0)  # 0: not started
    round_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while the organizer has paused the round's clock; resuming moves
    # ``round_started_at`` on by the pause, so the round keeps its length.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=clock.now, onupdate=clock.now
    )

    event: Mapped[Event] = relationship()
    seats: Mapped[list[RotationSeat]] = relationship(
        back_populates="plan",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(RotationSeat.round_number, RotationSeat.table_number, "
        "RotationSeat.id)",
    )

    __table_args__ = (
        CheckConstraint("rounds > 0 AND rounds <= 50", name="rounds"),
        CheckConstraint("minutes > 0 AND minutes <= 120", name="minutes"),
        CheckConstraint(f"mode IN {PLAN_MODES!r}", name="mode"),
        CheckConstraint("group_size IN (2, 3)", name="group_size"),
        CheckConstraint(
            f"location_preference IN {LOCATION_PREFERENCES!r}",
            name="location_preference",
        ),
        CheckConstraint(
            "lookback_months IS NULL OR lookback_months >= 0", name="lookback_months"
        ),
        CheckConstraint(
            "current_round >= 0 AND current_round <= rounds", name="current_round"
        ),
    )

    @property
    def started(self) -> bool:
        """The first round has started: the plan can no longer be made afresh."""
        return self.current_round > 0

    @property
    def over(self) -> bool:
        """Every round has been started: nothing is left to re-plan or start."""
        return self.current_round >= self.rounds

    @property
    def round_ends_at(self) -> datetime | None:
        """When the round being held is over (None before the first round)."""
        if not self.started or self.round_started_at is None:
            return None
        return self.round_started_at + timedelta(minutes=self.minutes)

    @property
    def paused(self) -> bool:
        """The round's clock is stopped (by the organizer's Pause)."""
        return self.paused_at is not None

    def seconds_left(self, now: datetime) -> int | None:
        """Whole seconds left in the round being held at ``now`` (frozen while
        paused; None before the first round)."""
        ends_at = self.round_ends_at
        if ends_at is None:
            return None
        left = (ends_at - (self.paused_at or now)).total_seconds()
        return max(0, math.ceil(left))

    def __repr__(self) -> str:
        return (
            f"<RotationPlan event={self.event_id} {self.current_round}/{self.rounds}>"
        )


class RotationSeat(Model):
    """Where one person sits in one round (``table_number`` None: sitting out)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("rotation_plan.id", ondelete="CASCADE")
    )
    round_number: Mapped[int]
    table_number: Mapped[int | None]
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )

    plan: Mapped[RotationPlan] = relationship(back_populates="seats")
    registration: Mapped[Registration] = relationship()

    __table_args__ = (
        UniqueConstraint("plan_id", "round_number", "registration_id"),
        CheckConstraint("round_number > 0", name="round_number"),
        CheckConstraint(
            "table_number IS NULL OR table_number > 0", name="table_number"
        ),
        Index(
            "ix_rotation_seat_plan_round_table",
            "plan_id",
            "round_number",
            "table_number",
        ),
    )

    def __repr__(self) -> str:
        return (
            f"<RotationSeat plan={self.plan_id} r{self.round_number} "
            f"t{self.table_number} reg={self.registration_id}>"
        )
