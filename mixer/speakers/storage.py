"""Where uploaded bytes live: the ``uploads/`` part of Mixer's store.

``UploadStorage.save`` streams a file into place while hashing it and returns
``(key, size, sha256)``; ``open``, ``send`` and ``delete`` take that key. A key is
random (``KEY_RE``) and is kept under ``uploads/<first two characters>/<key>`` in
the app's store (:mod:`mixer.storage`): the instance folder, or S3-compatible
object storage when ``STORAGE_URL`` says so (``docs/deployment.md``).

Files follow the database transaction: a file saved for a row that is then rolled
back is removed again (:func:`remove_on_rollback`), and the file of a deleted row
goes only once the deletion is committed (:func:`remove_on_commit`).
"""

from __future__ import annotations

import re
import secrets
from typing import IO

from flask import Response
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from mixer import storage
from mixer.extensions import db
from mixer.storage import NotFound, TooLarge

__all__ = ["KEY_RE", "NotFound", "TooLarge", "UploadStorage", "get_storage"]

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}(\.[a-z0-9]{1,5})?$")


class UploadStorage:
    """Uploads in the app's store, named by random keys."""

    def __init__(self, store: storage.Store):
        self.store = store

    @staticmethod
    def name(key: str) -> str:
        """The store key of an upload key (which is ours: anything else is refused)."""
        if not KEY_RE.match(key):
            raise ValueError(f"bad upload key {key!r}")
        return f"uploads/{key[:2]}/{key}"

    def save(
        self, stream: IO[bytes], max_size: int | None = None, suffix: str = ""
    ) -> tuple[str, int, str]:
        """Store the stream under a new random key; (key, size, SHA-256 hex)."""
        key = secrets.token_urlsafe(24) + suffix
        size, digest = self.store.save(self.name(key), stream, max_size)
        return key, size, digest

    def open(self, key: str) -> IO[bytes]:
        """The stored bytes of ``key`` for reading (NotFound when missing)."""
        return self.store.open(self.name(key))

    def send(self, key: str, **options) -> Response:
        """A response streaming the file (:func:`mixer.storage.send`)."""
        return storage.send(self.name(key), **options)

    def delete(self, key: str) -> None:
        """Remove the file of ``key`` if it is there."""
        self.store.delete(self.name(key))


def get_storage() -> UploadStorage:
    """The app's upload storage."""
    return UploadStorage(storage.get_store())


# ---------------------------------------------------------------------------
# Files that follow the transaction


def remove_on_rollback(key: str) -> None:
    """``key`` was just saved for a row of this transaction: remove the file if
    the transaction rolls back (nothing will refer to it)."""
    _pending("new").append(key)


def remove_on_commit(key: str) -> None:
    """``key``'s row is deleted (or replaced) in this transaction: remove the file
    once that is committed (a rollback keeps it)."""
    _pending("delete").append(key)


def _pending(kind: str) -> list[str]:
    return db.session.info.setdefault(f"speakers.{kind}", [])


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    keys = session.info.pop("speakers.delete", [])
    session.info.pop("speakers.new", None)
    if keys:
        storage = get_storage()
        for key in keys:
            storage.delete(key)


@sa_event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.nested or previous_transaction.parent is not None:
        return
    session.info.pop("speakers.delete", None)
    keys = session.info.pop("speakers.new", [])
    if keys:
        storage = get_storage()
        for key in keys:
            storage.delete(key)
