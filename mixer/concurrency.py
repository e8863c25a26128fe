"""One way to take turns and one way to write something once, on both databases.

**Taking turns** (:func:`lock_row`, :func:`lock_where`). Two requests that must
not interleave (the last seat of an event, the first answer to an ask, two ticks
of one pair) lock the row they are both about, first thing, and read everything
that depends on the lock *after* taking it.

* PostgreSQL: ``SELECT … FOR UPDATE``. The second transaction waits there; under
  READ COMMITTED its next statements see what the first committed, and the row
  itself is read afresh (``populate_existing``).
* SQLite: the database has one writer at a time, so the lock is a no-op
  ``UPDATE`` of the row (a column no foreign key refers to, so no key checks
  run). It takes the database's write lock as the transaction's first write and
  holds it to the end; the pysqlite driver begins the transaction only there,
  so the transaction's reads after it are current. ``busy_timeout`` (30 s, set in
  ``create_app``) makes the second writer wait instead of failing.

**Writing once** (:func:`insert_once`). A row guarded by a unique key (a job's
or a message's ``dedupe_key``, a pair's ``open_key``, a nonce) is inserted with
``INSERT … ON CONFLICT DO NOTHING``: no savepoint, and the caller's transaction
is never aborted, even when another transaction inserts the same key first. It
returns the new row's id, or None when the key existed. :func:`upsert` is its
sibling for a row whose latest version wins (who checked a registration in):
``INSERT … ON CONFLICT … DO UPDATE``, one statement, built once per shape.

``tests/test_concurrency.py`` races all three on real threads against each
database.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    bindparam,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ColumnProperty
from sqlalchemy.orm.interfaces import LoaderOption

from mixer.extensions import db

M = TypeVar("M")


def lock_row(
    model: type[M],
    row_id: int,
    *,
    options: Sequence[LoaderOption] = (),
    expire_all: bool = False,
) -> M | None:
    """Lock the row ``model.id == row_id`` until the transaction ends; read it afresh.

    Returns None when there is no such row. ``options`` load related rows in the
    same round trip (``joinedload``; only ``model``'s row is locked).
    ``expire_all`` also forgets everything else this session has read, for
    callers that read before locking and must not trust it.
    """
    pk = model.id  # type: ignore[attr-defined]
    _take_turn(model, pk == row_id, expire_all=expire_all)
    return db.session.scalar(
        select(model)
        .where(pk == row_id)
        .options(*options)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    )


def lock_where(
    model: type, *where: ColumnElement[bool], expire_all: bool = True
) -> None:
    """Lock every row of ``model`` that ``where`` selects (e.g. one membership by
    organization and person). What was read before is expired by default."""
    _take_turn(model, *where, expire_all=expire_all)
    db.session.execute(
        select(model.id).where(*where).with_for_update()  # type: ignore[attr-defined]
    )


def _take_turn(model: type, *where: ColumnElement[bool], expire_all: bool) -> None:
    db.session.flush()
    if db.session.get_bind().dialect.name == "sqlite":
        column = _untouchable_column(model)
        # Columns with an ``onupdate`` (``updated_at``) are written to themselves
        # too: a lock is not a change, and PostgreSQL's lock writes nothing.
        table = model.__table__  # type: ignore[attr-defined]
        same = {c: c for c in table.columns if c.onupdate is not None}
        db.session.execute(
            update(model)
            .where(*where)
            .values({column: column, **same})
            .execution_options(synchronize_session=False)
        )
    if expire_all:
        db.session.expire_all()


def _untouchable_column(model: type) -> Any:
    """A column of ``model`` that no key, foreign key or unique rule involves, so
    writing it to itself checks nothing (the first one, in declaration order)."""
    table = model.__table__  # type: ignore[attr-defined]
    guarded = {c.name for c in table.primary_key.columns}
    for constraint in table.constraints:
        guarded.update(getattr(constraint, "column_keys", ()) or ())
        guarded.update(c.name for c in getattr(constraint, "columns", ()))
    for index in table.indexes:
        if index.unique:
            guarded.update(c.name for c in index.columns)
    for prop in model.__mapper__.column_attrs:  # type: ignore[attr-defined]
        if not isinstance(prop, ColumnProperty) or len(prop.columns) != 1:
            continue
        column = prop.columns[0]
        if column.table is table and column.name not in guarded:
            if not column.foreign_keys:
                return getattr(model, prop.key)
    raise TypeError(f"{model.__name__} has no column that a no-op write can touch")


def insert_once(
    model: type,
    values: dict[str, Any],
    *,
    unique: Iterable[str] = ("dedupe_key",),
) -> Any:
    """Insert a row unless one with the same ``unique`` columns exists.

    Returns the new row's primary key, or None when the key was already taken (by
    a row committed before, or by another transaction that commits first).
    """
    db.session.flush()
    stmt = (
        _insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(*model.__table__.primary_key.columns)  # type: ignore[attr-defined]
    )
    return db.session.execute(stmt).scalar()


def upsert(model: type, values: dict[str, Any], *, unique: Iterable[str]) -> None:
    """Insert a row, or overwrite the one with the same ``unique`` columns, in one
    statement (``INSERT … ON CONFLICT … DO UPDATE``), whoever commits first."""
    db.session.flush()
    dialect = db.session.get_bind().dialect.name
    stmt = _upsert_statement(dialect, model, tuple(values), tuple(unique))
    db.session.connection().execute(stmt, values)


@functools.cache
def _upsert_statement(
    dialect: str, model: type, keys: tuple[str, ...], unique: tuple[str, ...]
) -> Any:
    """Built once per shape: a check-in runs it on every scan."""
    table = model.__table__  # type: ignore[attr-defined]
    stmt = _insert(model, dialect).values(
        {k: bindparam(k, type_=table.c[k].type) for k in keys}
    )
    changes = {k: stmt.excluded[k] for k in keys if k not in unique}
    return stmt.on_conflict_do_update(index_elements=list(unique), set_=changes)


def _insert(model: type, dialect: str | None = None) -> Any:
    """The database's own INSERT construct (both have ON CONFLICT)."""
    dialect = dialect or db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"unsupported database {dialect!r}")  # pragma: no cover


def changed_rows(stmt: Executable) -> int:
    """Run an ``UPDATE`` or ``DELETE`` in the session; how many rows it changed.

    A compare-and-set (``UPDATE … WHERE status = 'queued'``) reads its answer
    here: 1 when this transaction won, 0 when the row had moved on.
    """
    result = db.session.execute(stmt)
    return cast("CursorResult[Any]", result).rowcount
