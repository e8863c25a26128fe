"""Events test helpers: a frozen clock at a known Monday."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mixer import clock
from tests.helpers import bearer  # noqa: F401  (re-exported for events tests)

# Tests travel in time from this instant (a Monday), so dates are predictable.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen(app):
    """Freeze the clock at ``NOW`` for the test."""
    clock.freeze(NOW)
    yield NOW
    clock.reset()
