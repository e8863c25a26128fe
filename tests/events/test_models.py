"""Rules that live on the event models: a registration's state changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import mixer.models  # noqa: F401  (every model, so relationships resolve)
from mixer.events.models import Registration, RegistrationStatus

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PENDING, REGISTERED, WAITLISTED, CANCELLED = (
    RegistrationStatus.PENDING,
    RegistrationStatus.REGISTERED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.CANCELLED,
)


def _moved(*steps: tuple[RegistrationStatus, int | None]) -> Registration:
    reg = Registration(status=PENDING)
    for minute, (status, position) in enumerate(steps):
        reg.update_state(status, T + timedelta(minutes=minute), position=position)
    return reg


def test_a_confirmed_place_remembers_when_and_holds_a_seat():
    reg = _moved((PENDING, None), (REGISTERED, None))
    assert (reg.status, reg.waitlist_position) == (REGISTERED, None)
    assert reg.confirmed_at == T + timedelta(minutes=1)
    assert reg.promoted_at is None and reg.cancelled_at is None
    assert reg.holds_seat and reg.is_active


def test_a_promotion_from_the_waitlist_is_stamped_and_leaves_the_queue():
    reg = _moved((PENDING, None), (WAITLISTED, 3), (REGISTERED, None))
    assert reg.confirmed_at == T + timedelta(minutes=1)  # when it joined the queue
    assert reg.promoted_at == T + timedelta(minutes=2)
    assert reg.waitlist_position is None


def test_moving_within_the_queue_or_to_it_is_no_promotion():
    reg = _moved((PENDING, None), (REGISTERED, None), (WAITLISTED, 1), (WAITLISTED, 4))
    assert (reg.status, reg.waitlist_position) == (WAITLISTED, 4)
    assert reg.promoted_at is None


def test_cancelling_and_signing_up_again_start_afresh():
    reg = _moved(
        (PENDING, None), (WAITLISTED, 2), (REGISTERED, None), (CANCELLED, None)
    )
    assert (reg.status, reg.waitlist_position) == (CANCELLED, None)
    assert reg.cancelled_at == T + timedelta(minutes=3)
    reg.update_state(PENDING, T + timedelta(minutes=9))
    assert (reg.confirmed_at, reg.promoted_at, reg.cancelled_at) == (None, None, None)
    assert not reg.is_active


def test_the_queue_position_goes_with_the_waitlist_only():
    reg = Registration(status=PENDING)
    with pytest.raises(ValueError, match="waitlisted place needs a position"):
        reg.update_state(WAITLISTED, T)
    with pytest.raises(ValueError, match="registered place has no waitlist position"):
        reg.update_state(REGISTERED, T, position=2)
    assert reg.status == PENDING
