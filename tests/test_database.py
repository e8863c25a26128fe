"""The database layer keeps its promises on both SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from mixer.extensions import db
from mixer.tokens.models import UsedToken


def test_a_savepoint_as_first_write_is_undone_by_rollback(app):
    # On SQLite the driver opens no transaction before a SAVEPOINT; without our
    # hook its RELEASE committed the row for good and rollback() missed it.
    db.session.execute(select(1))
    with db.session.begin_nested():
        db.session.add(UsedToken(jti="first-write", purpose="test"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(UsedToken)) == 0


def test_a_savepoint_rolled_back_keeps_the_outer_work(app):
    db.session.add(UsedToken(jti="outer", purpose="test"))
    db.session.flush()
    try:
        with db.session.begin_nested():
            db.session.add(UsedToken(jti="outer", purpose="test"))  # duplicate key
    except Exception:  # noqa: BLE001 - the IntegrityError rolls back the savepoint
        pass
    db.session.commit()
    assert db.session.scalars(select(UsedToken.jti)).all() == ["outer"]
