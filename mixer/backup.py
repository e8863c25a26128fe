"""Backups and restore: the database, the instance secrets and the stored files.

:func:`backup` writes one folder (or a ``.tar.gz`` of it)::

    manifest.json            what is in it: every file with its size and SHA-256,
                             the Alembic revision, the database kind, the time
    database.sqlite3         SQLite: a copy made with the online backup API
    database.dump            PostgreSQL: ``pg_dump --format=custom``
    secrets/secret_key       the instance's generated SECRET_KEY, when it has one
    secrets/config.py        ``instance/config.py``, when there is one
    files/uploads/...        the stored files (speakers' material and photos,
    files/badges/...         cached badge sheets and rotation printouts)
    files/rotations/...

:func:`restore` checks every checksum first and changes nothing when one does not
match; it refuses to replace a database that holds rows unless told to
(``force``), and leaves the database at the backup's Alembic revision
(``mixer init-db`` then brings it to this code's revision).

Stored files are listed, read and written through a :class:`FileStore`;
:func:`stored_files` gives the app's, :class:`StoreFiles` over
:mod:`mixer.storage` (the instance folder, or the bucket of ``STORAGE_URL``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

from alembic import command as alembic
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from flask import Flask
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.engine import URL

import mixer.models  # noqa: F401 - every table in the metadata
from mixer import storage
from mixer.extensions import db
from mixer.storage import Store

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
SECRETS = ("secret_key", "config.py")  # instance files that hold secrets
FILE_AREAS = ("uploads", "badges", "rotations")  # instance folders of stored files
IN_PROGRESS = "tmp"  # an area's sub-folder of unfinished uploads, never backed up
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why."""


# ---------------------------------------------------------------------------
# Stored files


class FileStore(Protocol):
    """Where Mixer's stored files live, as a backup sees them.

    Names are relative POSIX paths whose first part is the area
    (``uploads/ab/abcdef.pdf``, ``badges/event-3/a4-8-….pdf``).
    """

    def names(self) -> Iterator[str]:
        """Every stored file's name."""
        ...

    def open(self, name: str) -> IO[bytes]:
        """The bytes of ``name`` (FileNotFoundError when it went meanwhile)."""
        ...

    def write(self, name: str, stream: IO[bytes]) -> None:
        """Store ``stream`` as ``name``, replacing what was there."""
        ...


def check_name(name: str, areas: tuple[str, ...] = FILE_AREAS) -> PurePosixPath:
    """A stored file's name, refused when it could point outside its area."""
    path = PurePosixPath(name)
    if (
        path.is_absolute()
        or len(path.parts) < 2
        or path.parts[0] not in areas
        or any(part in ("", ".", "..") for part in path.parts)
        or "\\" in name
    ):
        raise BackupError(f"{name!r} is not a stored file's name.")
    return path


class StoreFiles:
    """Stored files as the app keeps them (:mod:`mixer.storage`: the instance
    folder, or an object store when ``STORAGE_URL`` names one), one key prefix
    per area."""

    def __init__(self, store: Store, areas: tuple[str, ...] = FILE_AREAS):
        self.store = store
        self.areas = areas

    def names(self) -> Iterator[str]:
        """Every stored file of the areas, without uploads in progress (an
        ``uploads/tmp/`` left by an interrupted upload, unfinished ``.part``s)."""
        for area in self.areas:
            for key in self.store.list(area):
                if key.split("/")[1] != IN_PROGRESS:
                    yield key

    def open(self, name: str) -> IO[bytes]:
        """The stored file, for binary reading."""
        return self.store.open(str(check_name(name, self.areas)))

    def write(self, name: str, stream: IO[bytes]) -> None:
        """Store ``stream`` as ``name``, atomically (the store's own guarantee)."""
        self.store.save(str(check_name(name, self.areas)), stream)


def stored_files(app: Flask) -> FileStore:
    """The app's stored files, wherever its settings keep them."""
    store = app.extensions.get("mixer.storage") or storage.from_config(app)
    return StoreFiles(store)


# ---------------------------------------------------------------------------
# Backup


@dataclass
class Summary:
    """What a backup or restore did, for the command to print."""

    path: Path
    manifest: dict[str, Any]

    @property
    def files(self) -> int:
        """Stored files (uploads and printouts) in the backup."""
        return sum(1 for f in self.manifest["files"] if f["path"].startswith("files/"))

    @property
    def size(self) -> int:
        """Bytes of everything listed in the manifest."""
        return sum(f["size"] for f in self.manifest["files"])


def backup(app: Flask, dest: str | Path, *, archive: bool = False) -> Summary:
    """Back up the app's database, instance secrets and stored files to ``dest``
    (a new folder, or with ``archive`` a ``.tar.gz`` file)."""
    dest = Path(dest)
    if archive and not dest.name.endswith((".tar.gz", ".tgz")):
        dest = dest.with_name(dest.name + ".tar.gz")
    if dest.exists() and (archive or not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists: back up to a new name.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".mixer-backup-", dir=dest.parent))
    try:
        manifest = _write_backup(app, work)
        if archive:
            _pack(work, dest)
        else:
            if dest.exists():
                dest.rmdir()
            work.rename(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Summary(dest, manifest)


def _write_backup(app: Flask, work: Path) -> dict[str, Any]:
    os.chmod(work, 0o700)  # secrets and personal data: the owner only
    engine = db.engine
    kind = engine.url.get_backend_name()
    # The database first: a file deleted while the rest is copied is then
    # missing only if its row was deleted too.
    if kind == "sqlite":
        database = _backup_sqlite(engine, work / SQLITE_FILE)
    elif kind == "postgresql":
        database = _backup_postgresql(engine, work / PG_FILE)
    else:
        raise BackupError(f"Backups of {kind} databases are not supported.")
    listed = [database.pop("path")]
    instance = Path(app.instance_path)
    for name in SECRETS:
        source = instance / name
        if source.is_file():
            target = work / "secrets" / name
            target.parent.mkdir(mode=0o700, exist_ok=True)
            shutil.copyfile(source, target)
            os.chmod(target, 0o600)
            listed.append(target)
    store = stored_files(app)
    for name in store.names():
        target = work / "files" / check_name(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with store.open(name) as stream, target.open("wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)
        except FileNotFoundError:  # removed since it was listed (a newer printout)
            target.unlink(missing_ok=True)
            continue
        listed.append(target)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "alembic_revision": database.pop("revision"),
        "database": database,
        "secret_key_in_backup": _secret_key_saved(app),
        "files": [_entry(work, path) for path in listed],
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _entry(root: Path, path: Path) -> dict[str, Any]:
    size, digest = _checksum(path)
    return {"path": path.relative_to(root).as_posix(), "size": size, "sha256": digest}


def _checksum(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def _secret_key_saved(app: Flask) -> bool:
    """Whether the SECRET_KEY in use is the instance's file (in the backup), not
    one set in the environment or elsewhere (which the operator keeps)."""
    path = Path(app.instance_path) / "secret_key"
    return path.is_file() and path.read_text().strip() == app.config.get("SECRET_KEY")


def _backup_sqlite(engine: Engine, target: Path) -> dict[str, Any]:
    """Copy the live database with SQLite's online backup API (a consistent
    snapshot while the app keeps writing)."""
    source = sqlite3.connect(_sqlite_path(engine))
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        revision = _revision_of(copy)
    finally:
        copy.close()
        source.close()
    return {"kind": "sqlite", "path": target, "revision": revision}


def _sqlite_path(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return path


def _revision_of(conn: sqlite3.Connection) -> str:
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError:
        rows = []
    if not rows:
        raise BackupError("The database has no schema yet (run mixer init-db).")
    return ",".join(sorted(row[0] for row in rows))


def _backup_postgresql(engine: Engine, target: Path) -> dict[str, Any]:
    """``pg_dump --format=custom`` of the database (one snapshot)."""
    with engine.connect() as conn:
        server = int(conn.execute(text("SHOW server_version_num")).scalar_one())
    dump_version = _client_version("pg_dump")
    if dump_version[0] < server // 10000:
        raise BackupError(
            f"pg_dump {'.'.join(map(str, dump_version))} cannot dump a PostgreSQL "
            f"{server // 10000} server: install postgresql-client-{server // 10000}."
        )
    before = _pg_revision(engine)
    url, env = _libpq(engine.url)
    _run(
        [_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={url}"],
        env,
    )
    if _pg_revision(engine) != before:
        raise BackupError("The database was migrated during the backup: run it again.")
    return {
        "kind": "postgresql",
        "path": target,
        "revision": before,
        "server_version": f"{server // 10000}.{server % 10000}",
        "pg_dump_version": ".".join(map(str, dump_version)),
    }


def _pg_revision(engine: Engine) -> str:
    revision = _revision_in(engine)
    if revision is None:
        raise BackupError("The database has no schema yet (run mixer init-db).")
    return revision


def _revision_in(engine: Engine) -> str | None:
    """The database's Alembic revision(s), comma-separated; None without a schema."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return ",".join(sorted(rows)) or None


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: postgresql-client-15).")
    return path


def _client_version(name: str) -> tuple[int, ...]:
    out = _run([_tool(name), "--version"], None)
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not match:
        raise BackupError(f"Cannot read the version of {name}: {out!r}")
    return tuple(int(part) for part in match.groups() if part is not None)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL for libpq tools, its password passed in the environment (not
    visible in the process list)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str] | None) -> str:
    result = subprocess.run(args, capture_output=True, text=True, env=env)  # noqa: S603 - our tools, no shell
    if result.returncode != 0:
        raise BackupError(
            f"{Path(args[0]).name} failed: {result.stderr.strip() or result.stdout}"
        )
    return result.stdout


def _pack(work: Path, dest: Path) -> None:
    part = dest.with_name(dest.name + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for path in sorted(work.rglob("*")):
                if path.is_file():
                    tar.add(path, arcname=path.relative_to(work).as_posix())
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


# ---------------------------------------------------------------------------
# Restore


def restore(app: Flask, src: str | Path, *, force: bool = False) -> Summary:
    """Restore the backup at ``src`` (folder or ``.tar.gz``) into the app's
    database, instance folder and stored files."""
    src = Path(src)
    if not src.exists():
        raise BackupError(f"{src} does not exist.")
    with _unpacked(src) as folder:
        manifest = verify(folder)
        kind = db.engine.url.get_backend_name()
        if manifest["database"]["kind"] != kind:
            raise BackupError(
                f"This is a backup of a {manifest['database']['kind']} database; "
                f"the app uses {kind}."
            )
        revision = manifest["alembic_revision"]
        _check_known(app, revision)
        busy = tables_with_rows(db.engine)
        if busy and not force:
            raise BackupError(
                f"The database already holds data ({len(busy)} tables with rows, "
                f"such as {busy[0]}); restoring replaces all of it. "
                "Use --force to replace it."
            )
        db.session.remove()
        if kind == "sqlite":
            _restore_sqlite(folder / SQLITE_FILE, db.engine)
        else:
            _restore_postgresql(app, folder / PG_FILE, manifest["database"], revision)
        db.engine.dispose()
        now = (
            _pg_revision(db.engine)
            if kind == "postgresql"
            else _sqlite_revision(db.engine)
        )
        if now != revision:
            raise BackupError(
                f"After the restore the database is at {now}, not {revision}."
            )
        instance = Path(app.instance_path)
        store = stored_files(app)
        for entry in manifest["files"]:
            path = PurePosixPath(entry["path"])
            if path.parts[0] == "secrets":
                _put_secret(folder / path, instance / path.parts[1])
            elif path.parts[0] == "files":
                with (folder / path).open("rb") as stream:
                    store.write(PurePosixPath(*path.parts[1:]).as_posix(), stream)
    return Summary(src, manifest)


def verify(folder: Path) -> dict[str, Any]:
    """The manifest of the backup in ``folder``, once every file in it is there
    with its size and SHA-256; BackupError naming the first one that is not."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{folder} has no {MANIFEST}: not a Mixer backup.") from exc
    except ValueError as exc:
        raise BackupError(f"{MANIFEST} cannot be read: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    database = {"sqlite": SQLITE_FILE, "postgresql": PG_FILE}.get(
        manifest["database"]["kind"], ""
    )
    names = {entry["path"] for entry in manifest["files"]}
    if not database or database not in names:
        raise BackupError(f"The manifest lists no {database}.")
    for entry in manifest["files"]:  # no name may point elsewhere; then the bytes
        _check_entry(entry["path"], database)
    for entry in manifest["files"]:
        name = entry["path"]
        path = folder / name
        if not path.is_file():
            raise BackupError(f"{name} is missing from the backup.")
        size, digest = _checksum(path)
        if size != entry["size"] or digest != entry["sha256"]:
            raise BackupError(
                f"{name} does not match its checksum in the manifest: the backup "
                "is damaged or was changed. Nothing was restored."
            )
    return manifest


def _put_secret(source: Path, target: Path) -> None:
    """Write an instance secret, readable by its owner only."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".secret-")
    try:
        with os.fdopen(fd, "wb") as out:  # mkstemp: mode 0600
            out.write(source.read_bytes())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_entry(name: str, database: str) -> None:
    path = PurePosixPath(name)
    if name == database:
        return
    if path.parts[0] == "secrets" and len(path.parts) == 2 and path.name in SECRETS:
        return
    if path.parts[0] == "files":
        check_name(PurePosixPath(*path.parts[1:]).as_posix())
        return
    raise BackupError(f"The manifest lists {name!r}, which a backup never holds.")


@contextmanager
def _unpacked(src: Path) -> Iterator[Path]:
    if src.is_dir():
        yield src
        return
    if not tarfile.is_tarfile(src):
        raise BackupError(f"{src} is neither a backup folder nor a .tar.gz backup.")
    with tempfile.TemporaryDirectory(prefix="mixer-restore-") as tmp:
        with tarfile.open(src, mode="r:*") as tar:
            tar.extractall(tmp, filter="data")  # noqa: S202 - the data filter
        yield Path(tmp)


def tables_with_rows(engine: Engine) -> list[str]:
    """The tables of the metadata that exist in the database and hold rows."""
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        return [
            table.name
            for table in db.metadata.sorted_tables
            if table.name in present
            and conn.scalar(select(func.count()).select_from(table))
        ]


def _check_known(app: Flask, revision: str) -> None:
    scripts = ScriptDirectory.from_config(_alembic_config(app))
    for rev in revision.split(","):
        try:
            known = scripts.get_revision(rev) is not None
        except (RevisionError, CommandError):
            known = False
        if not known:
            raise BackupError(
                f"The backup's schema revision {rev} is unknown to this version of "
                "Mixer: restore it with the version that made it."
            )


def code_revision(app: Flask) -> str:
    """The revision(s) this version of Mixer migrates to, comma-separated."""
    scripts = ScriptDirectory.from_config(_alembic_config(app))
    return ",".join(sorted(scripts.get_heads()))


def _alembic_config(app: Flask) -> Any:
    return app.extensions["migrate"].migrate.get_config()


def _restore_sqlite(copy: Path, engine: Engine) -> None:
    """Replace the whole database with the backup's pages (backup API)."""
    engine.dispose()
    source = sqlite3.connect(copy)
    target = sqlite3.connect(_sqlite_path(engine))
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _sqlite_revision(engine: Engine) -> str:
    conn = sqlite3.connect(_sqlite_path(engine))
    try:
        return _revision_of(conn)
    finally:
        conn.close()


def _restore_postgresql(
    app: Flask, dump: Path, database: dict[str, Any], revision: str
) -> None:
    """Bring the target's schema to the backup's revision, then ``pg_restore
    --clean --if-exists --no-owner`` in one transaction."""
    made_by = int(str(database.get("pg_dump_version", "0")).split(".")[0])
    version = _client_version("pg_restore")
    if version[0] < made_by:
        raise BackupError(
            f"pg_restore {'.'.join(map(str, version))} cannot read a dump of "
            f"pg_dump {database['pg_dump_version']}: install postgresql-client-"
            f"{made_by}."
        )
    _migrate_to(app, revision)
    url, env = _libpq(db.engine.url)
    db.engine.dispose()
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={url}",
            str(dump),
        ],
        env,
    )


def _migrate_to(app: Flask, revision: str) -> None:
    """When the target already has a schema at another revision, migrate it to
    ``revision`` (so that --clean drops and re-creates exactly the backup's
    tables, and no newer table stays behind)."""
    current = _revision_in(db.engine)
    if current is None:
        return  # an empty database: pg_restore creates everything
    if current == revision:
        return
    config = _alembic_config(app)
    scripts = ScriptDirectory.from_config(config)
    below = {
        script.revision
        for script in scripts.iterate_revisions(tuple(current.split(",")), "base")
    }
    if set(revision.split(",")) <= below:
        alembic.downgrade(config, revision)
    else:
        alembic.upgrade(config, revision)
