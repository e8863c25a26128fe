"""Where Mixer keeps files: one interface, two backends chosen by ``STORAGE_URL``.

Everything Mixer keeps as files goes through :func:`get_store`: speakers' uploads
(``uploads/<ab>/<random key>``), badge sheets (``badges/event-<id>/...pdf``) and
rotation printouts (``rotations/event-<id>/...pdf``). A key is a relative path that
Mixer builds itself (:func:`check_key` refuses anything else: no ``..``, no leading
``/``, no empty part), never a name a user typed.

- :class:`LocalStore` (``STORAGE_URL`` unset, the default): files under the
  instance folder, laid out exactly as before this module existed. One host only.
- :class:`S3Store` (``STORAGE_URL=s3://bucket/prefix``): objects in an
  S3-compatible store (AWS S3, MinIO, Ceph, R2 ...) through boto3, with
  ``STORAGE_ENDPOINT_URL``, ``STORAGE_ACCESS_KEY_ID``, ``STORAGE_SECRET_ACCESS_KEY``
  and ``STORAGE_REGION``. Every web host and job worker sees the same files.

Writes are atomic from a reader's point of view: the local backend writes a
``.part`` file beside the target and renames it into place; an S3 object becomes
visible only once its upload has completed. Downloads are streamed through Mixer
(:func:`send`) so the views keep their access checks and their headers
(Content-Disposition, ``nosniff``, the uploads' CSP); an S3 object is read in
chunks, with conditional and range requests answered as for a local file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Any, Protocol, cast
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request, send_file

CHUNK = 64 * 1024
# One part of a key: starts with a letter, digit, "_" or "-" (never ".": no "."
# or "..", no hidden names), then letters, digits, "_", "-" and ".". Upload keys
# are secrets.token_urlsafe, whose alphabet has "-" and "_" anywhere.
_PART = r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}"
KEY_RE = re.compile(rf"^{_PART}(/{_PART}){{0,7}}$")
PART_SUFFIX = ".part"  # an unfinished local write; never a key


class NotFound(FileNotFoundError):
    """No file is stored under that key."""


class TooLarge(Exception):
    """The stream went past the allowed size; nothing was kept."""


def check_key(key: str) -> str:
    """``key`` if it is a relative path Mixer could have built, else ValueError."""
    if not isinstance(key, str) or not KEY_RE.match(key) or key.endswith(PART_SUFFIX):
        raise ValueError(f"bad storage key {key!r}")
    return key


class Store(Protocol):
    """What Mixer needs from a place that keeps files (keys: :func:`check_key`)."""

    def save(
        self, key: str, stream: IO[bytes], max_size: int | None = None
    ) -> tuple[int, str]:
        """Store the whole stream under ``key`` atomically (TooLarge past
        ``max_size`` bytes, nothing kept); return (size, SHA-256 hex)."""
        ...

    def write(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically (replacing what was there)."""
        ...

    def open(self, key: str) -> IO[bytes]:
        """The stored bytes of ``key`` for reading (NotFound when missing)."""
        ...

    def read(self, key: str) -> bytes:
        """All the stored bytes of ``key`` (NotFound when missing)."""
        ...

    def size(self, key: str) -> int:
        """The size of ``key`` in bytes (NotFound when missing)."""
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        ...

    def list(self, prefix: str) -> list[str]:
        """The keys in the folder ``prefix`` and below it, sorted."""
        ...

    def path(self, key: str) -> Path | None:
        """A local file for ``key`` when the backend has one (else None)."""
        ...

    def check(self) -> None:
        """Raise if the store cannot be reached (for health checks)."""
        ...


# ---------------------------------------------------------------------------
# Local folder


class LocalStore:
    """Files under one folder (the instance folder), written via ``.part`` files."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(
        self, key: str, stream: IO[bytes], max_size: int | None = None
    ) -> tuple[int, str]:
        """Copy to a ``.part`` file beside the target while hashing, then rename."""
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            dir=final.parent, prefix=".", suffix=PART_SUFFIX
        )
        try:
            with os.fdopen(fd, "wb") as out:
                size, digest = _copy(stream, out, max_size)
            os.replace(tmp_name, final)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return size, digest

    def write(self, key: str, data: bytes) -> None:
        """Write ``data`` to a ``.part`` file and rename it into place."""
        self.save(key, io.BytesIO(data))

    def open(self, key: str) -> IO[bytes]:
        """The file of ``key``, opened for binary reading."""
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise NotFound(key) from exc

    def read(self, key: str) -> bytes:
        """The file's bytes."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(key) from exc

    def size(self, key: str) -> int:
        """The file's size."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as exc:
            raise NotFound(key) from exc

    def exists(self, key: str) -> bool:
        """Whether the file is there."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the file of ``key`` if it is there."""
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> list[str]:
        """Files under the folder ``prefix`` (unfinished ``.part`` files left out)."""
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and not p.name.endswith(PART_SUFFIX)
        )

    def path(self, key: str) -> Path | None:
        """The local file of ``key``."""
        return self._path(key)

    def check(self) -> None:
        """The folder exists and is writable."""
        if not os.access(self.root, os.W_OK):
            raise OSError(f"{self.root} is not writable")


# ---------------------------------------------------------------------------
# S3-compatible object storage


class S3Store:
    """Objects under ``prefix/`` in one bucket of an S3-compatible store."""

    def __init__(self, bucket: str, prefix: str = "", **client_options: Any):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.options = {k: v for k, v in client_options.items() if v}
        self._client: Any = None
        self._pid = 0

    @property
    def client(self) -> Any:
        """This process's boto3 client (thread-safe; a forked child makes its own
        rather than share the parent's connections)."""
        if self._client is None or self._pid != os.getpid():
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "s3",
                config=Config(
                    retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=30,
                    s3={"addressing_style": "path"},
                ),
                **self.options,
            )
            self._pid = os.getpid()
        return self._client

    def __repr__(self) -> str:
        return f"S3Store(s3://{self.bucket}/{self.prefix})"

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _missing(self, exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        return code in ("404", "NoSuchKey", "NotFound")

    def save(
        self, key: str, stream: IO[bytes], max_size: int | None = None
    ) -> tuple[int, str]:
        """Spool to a temporary file while hashing, then upload: the object
        appears only once the upload is complete."""
        name = self._key(key)
        with tempfile.TemporaryFile() as spool:
            size, digest = _copy(stream, spool, max_size)
            spool.seek(0)
            self.client.upload_fileobj(spool, self.bucket, name)
        return size, digest

    def write(self, key: str, data: bytes) -> None:
        """One PUT (atomic: readers see the old object or the new one)."""
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def open(self, key: str) -> IO[bytes]:
        """A seekable reader that fetches the object in ranges as it is read."""
        reader = ObjectReader(self, self._key(key), self.size(key))
        return cast(IO[bytes], reader)

    def read(self, key: str) -> bytes:
        """The whole object."""
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._missing(exc):
                raise NotFound(key) from exc
            raise
        with answer["Body"] as body:
            return body.read()

    def size(self, key: str) -> int:
        """The object's size (a HEAD request)."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._missing(exc):
                raise NotFound(key) from exc
            raise
        return int(head["ContentLength"])

    def exists(self, key: str) -> bool:
        """Whether the object is there (a HEAD request)."""
        try:
            self.size(key)
        except NotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        """Remove the object (S3 answers the same when it is missing)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, prefix: str) -> list[str]:
        """The keys under the folder ``prefix``."""
        start = self._key(prefix) + "/"
        cut = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=start):
            keys += [item["Key"][cut:] for item in page.get("Contents", [])]
        return sorted(keys)

    def path(self, key: str) -> Path | None:
        """Objects have no local file."""
        check_key(key)
        return None

    def check(self) -> None:
        """The bucket answers (a HEAD request)."""
        self.client.head_bucket(Bucket=self.bucket)


class ObjectReader(io.RawIOBase):
    """A seekable read-only file over one object: each run of reads is one ranged
    GET, so a download (or a range of it) streams without holding the object."""

    def __init__(self, store: S3Store, name: str, size: int):
        super().__init__()
        self.store, self.name, self.length = store, name, size
        self.pos = 0
        self.body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.length}
        target = max(0, base[whence] + offset)
        if target != self.pos:
            self._drop()
            self.pos = target
        return self.pos

    def readinto(self, buffer: Any) -> int:
        if self.pos >= self.length:
            return 0
        if self.body is None:
            self.body = self.store.client.get_object(
                Bucket=self.store.bucket, Key=self.name, Range=f"bytes={self.pos}-"
            )["Body"]
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)

    def _drop(self) -> None:
        if self.body is not None:
            self.body.close()
            self.body = None

    def close(self) -> None:
        self._drop()
        super().close()


# ---------------------------------------------------------------------------
# Choosing the backend, sending a file


def _copy(stream: IO[bytes], out: IO[bytes], max_size: int | None) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if max_size is not None and size > max_size:
            raise TooLarge(size)
        digest.update(chunk)
        out.write(chunk)
    return size, digest.hexdigest()


def from_config(app: Flask) -> Store:
    """The store ``app``'s settings describe (``STORAGE_URL``; unset: local)."""
    url = app.config.get("STORAGE_URL")
    if not url:
        return LocalStore(app.instance_path)
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise RuntimeError(
            f"STORAGE_URL {url!r}: use s3://bucket/prefix (or leave it unset for "
            "the instance folder)."
        )
    return S3Store(
        parts.netloc,
        parts.path,
        endpoint_url=app.config.get("STORAGE_ENDPOINT_URL"),
        aws_access_key_id=app.config.get("STORAGE_ACCESS_KEY_ID"),
        aws_secret_access_key=app.config.get("STORAGE_SECRET_ACCESS_KEY"),
        region_name=app.config.get("STORAGE_REGION"),
    )


def init_app(app: Flask) -> None:
    """Build the app's store once (a boto3 client is thread-safe and reused)."""
    app.extensions["mixer.storage"] = from_config(app)


def get_store() -> Store:
    """The current app's store."""
    store = current_app.extensions.get("mixer.storage")
    if store is None:
        store = current_app.extensions["mixer.storage"] = from_config(current_app)
    return store


def send(
    key: str,
    *,
    mimetype: str | None,
    download_name: str | None = None,
    as_attachment: bool = False,
    etag: str | bool = True,
    max_age: int | None = 0,
) -> Response:
    """A response streaming the file of ``key`` (NotFound when missing), with
    conditional and range requests answered. Headers beyond these (nosniff, a
    CSP, ``Cache-Control``) are the caller's, as for any response."""
    store = get_store()
    path = store.path(key)
    if path is not None:
        if not path.is_file():
            raise NotFound(key)
        return send_file(
            path,
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            conditional=True,
            etag=etag,
            max_age=max_age,
        )
    reader = store.open(key)
    size = reader.length if isinstance(reader, ObjectReader) else None
    response = send_file(
        reader,
        mimetype=mimetype,
        as_attachment=as_attachment,
        download_name=download_name,
        conditional=False,
        etag=etag,
        max_age=max_age,
    )
    if size is not None:
        response.content_length = size
    # Werkzeug answers If-None-Match with 304 and Range with 206 here; no bytes
    # are fetched before the body is iterated.
    answer = response.make_conditional(
        request, accept_ranges=True, complete_length=size
    )
    return cast(Response, answer)
