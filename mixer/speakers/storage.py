"""Where uploaded bytes live, behind one small interface.

``Storage.save`` streams a file into place while hashing it and returns
``(key, size, sha256)``; ``open`` and ``delete`` take that key. ``LocalStorage``
keeps files under ``instance/uploads/`` with random names. An S3-compatible backend
would implement the same three methods (``save``: stream to a temporary file while
hashing, then ``upload_fileobj`` under a random key; ``open``: ``get_object`` body;
``delete``: ``delete_object``) and be returned by :func:`get_storage` when
``UPLOAD_BACKEND`` says so (see ``docs/speakers.md``).

Files follow the database transaction: a file saved for a row that is then rolled
back is removed again (:func:`remove_on_rollback`), and the file of a deleted row
goes only once the deletion is committed (:func:`remove_on_commit`).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import IO, Protocol

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from mixer.extensions import db

CHUNK = 64 * 1024
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}(\.[a-z0-9]{1,5})?$")


class TooLarge(Exception):
    """The stream went past the allowed size; nothing was kept."""


class Storage(Protocol):
    """What the material feature needs from a place that keeps files."""

    def save(
        self, stream: IO[bytes], max_size: int | None = None, suffix: str = ""
    ) -> tuple[str, int, str]:
        """Store the whole stream; return (key, size in bytes, SHA-256 hex)."""
        ...

    def open(self, key: str) -> IO[bytes]:
        """The stored bytes of ``key`` for reading."""
        ...

    def path(self, key: str) -> Path | None:
        """A local path for ``key`` when the backend has one (for ``send_file``)."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        ...


class LocalStorage:
    """Files in one folder, named by random keys; temp files in its ``tmp/``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.tmp = self.root / "tmp"

    def _path(self, key: str) -> Path:
        if not KEY_RE.match(key):  # keys are ours; anything else is an attack
            raise ValueError(f"bad storage key {key!r}")
        return self.root / key[:2] / key

    def save(
        self, stream: IO[bytes], max_size: int | None = None, suffix: str = ""
    ) -> tuple[str, int, str]:
        """Copy to a temp file while hashing and counting, then move into place."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="up-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise TooLarge(size)
                    digest.update(chunk)
                    out.write(chunk)
            key = secrets.token_urlsafe(24) + suffix
            final = self._path(key)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, final)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return key, size, digest.hexdigest()

    def open(self, key: str) -> IO[bytes]:
        """The file of ``key``, opened for binary reading."""
        return self._path(key).open("rb")

    def path(self, key: str) -> Path | None:
        """The local file of ``key``."""
        return self._path(key)

    def delete(self, key: str) -> None:
        """Remove the file of ``key`` if it is there."""
        self._path(key).unlink(missing_ok=True)


def get_storage() -> Storage:
    """The app's storage (local files under ``UPLOAD_FOLDER``)."""
    return LocalStorage(current_app.config["UPLOAD_FOLDER"])


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
