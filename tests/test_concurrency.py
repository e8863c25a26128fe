"""``mixer.concurrency`` under real races: threads, each with its own session and
connection, against the real database (SQLite here, PostgreSQL in the second run
of ``make test``).

A read-modify-write done by eight threads at once loses updates unless they take
turns; the first test shows that it does without the lock (so the lock test can
fail), the second that ``lock_row`` keeps every update.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from mixer.concurrency import changed_rows, insert_once, lock_row, lock_where
from mixer.extensions import db
from mixer.orgs.models import Organization
from mixer.tokens.models import UsedToken

THREADS = 8


def _race(app, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in THREADS threads released together; their results."""
    barrier = threading.Barrier(THREADS)

    def one(_: int) -> Any:
        with app.app_context():
            barrier.wait()
            try:
                return work()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def _count_of(org_id: int) -> int:
    db.session.expire_all()
    return int(db.session.get(Organization, org_id).charter)


@pytest.fixture
def counter(org) -> int:
    """An organization whose charter holds a number the threads add one to."""
    org.charter = "0"
    db.session.commit()
    return org.id


def _add_one(org: Organization) -> None:
    value = int(org.charter)
    time.sleep(0.05)  # everyone has read before anyone writes
    org.charter = str(value + 1)
    db.session.commit()


def test_without_taking_turns_updates_are_lost(app, counter):
    _race(app, lambda: _add_one(db.session.get(Organization, counter)))
    assert _count_of(counter) < THREADS


def test_lock_row_makes_them_take_turns(app, counter):
    _race(app, lambda: _add_one(lock_row(Organization, counter)))
    assert _count_of(counter) == THREADS


def test_lock_where_makes_them_take_turns(app, counter):
    def work() -> None:
        lock_where(Organization, Organization.id == counter)
        _add_one(db.session.get(Organization, counter))

    _race(app, work)
    assert _count_of(counter) == THREADS


def test_lock_row_of_a_missing_row_is_none(app):
    assert lock_row(Organization, 999_999) is None


def test_insert_once_writes_one_row_and_tells_the_others(app):
    def work() -> Any:
        key = insert_once(
            UsedToken, {"jti": "the-one", "purpose": "race"}, unique=("jti",)
        )
        db.session.commit()
        return key

    keys = _race(app, work)
    assert keys.count("the-one") == 1 and keys.count(None) == THREADS - 1
    count = select(func.count()).select_from(UsedToken)
    assert db.session.scalar(count) == 1


def test_changed_rows_lets_one_compare_and_set_win(app, counter):
    def work() -> int:
        won = changed_rows(
            Organization.__table__.update()
            .where(Organization.id == counter, Organization.charter == "0")
            .values(charter="won")
        )
        db.session.commit()
        return won

    assert sorted(_race(app, work)) == [0] * (THREADS - 1) + [1]


def test_get_or_create_user_makes_one_person_when_asked_at_once(app):
    """Two sign-in links of a guest confirmed together, or two registrations:
    one person, and every caller gets that person."""
    from mixer.accounts.models import User
    from mixer.accounts.services import get_or_create_user

    def work() -> Any:
        user, created = get_or_create_user("Race@Example.org", "Rae Race")
        db.session.commit()
        return user.id, created

    results = _race(app, work)
    assert len({user_id for user_id, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
