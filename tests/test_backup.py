"""Backups and restore (``mixer.backup``): the restore drill on the demo, checksums
that refuse a changed backup, a database that holds data, older schemas, the CLI.

The restore target is always a new instance folder and an empty database: a
fresh SQLite file, or on PostgreSQL (``TEST_DATABASE_URL``) a second scratch
database created for the test.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import stat
import tarfile
import threading
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from mixer import ROOT, create_app
from mixer.accounts.models import User
from mixer.backup import (
    BackupError,
    StoreFiles,
    backup,
    restore,
    stored_files,
    tables_with_rows,
)
from mixer.badges.services import batch_for, render_batch
from mixer.config import normalise_database_url
from mixer.demo import seed
from mixer.events.models import Event, Registration
from mixer.extensions import db
from mixer.speakers.material import upload_material
from tests.conftest import PG_URL, _worker
from tests.speakers.conftest import PDF

# The newest migration in the folder (not hard-coded: every new migration moves it).
HEAD = ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def row_counts() -> dict[str, int]:
    """Every table of the metadata and its rows, in the current app's database."""
    with db.engine.connect() as conn:
        return {
            table.name: conn.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def file_sums(app) -> dict[str, str]:
    """Every stored file's SHA-256, by name."""
    store = stored_files(app)
    sums = {}
    for name in store.names():
        with store.open(name) as fh:
            sums[name] = hashlib.sha256(fh.read()).hexdigest()
    return sums


@pytest.fixture
def empty_target(tmp_path):
    """``make()`` → an app on a new instance folder and an empty database."""
    made: list[str] = []

    def make(name: str = "restored"):
        instance = tmp_path / name
        if PG_URL:
            base = make_url(normalise_database_url(PG_URL))
            database = f"mixer_test_{_worker()}_{name}"
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{database}"'))
            admin.dispose()
            made.append(database)
            url = base.set(database=database).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{instance / 'mixer.sqlite3'}"
        return create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(instance),
                "DATABASE_URL": url,
                "SECRET_KEY": "another-key",
                "RATELIMIT_ENABLED": False,
            }
        )

    yield make
    if made:
        base = make_url(normalise_database_url(PG_URL))
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for database in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def _material_and_badges() -> None:
    """An uploaded PDF and a drawn badge sheet, on the demo's smallest event."""
    organizer = db.session.scalar(
        select(User).where(User.email == "organizer@riverside.example.org")
    )
    event = db.session.scalars(
        select(Event)
        .join(Registration, Registration.event_id == Event.id)
        .group_by(Event.id)
        .order_by(func.count(Registration.id), Event.id)
    ).first()
    upload_material(event, organizer, io.BytesIO(PDF), "slides.pdf")
    db.session.commit()
    render_batch(batch_for(event, None))


def test_restore_drill_demo_into_an_empty_instance(app, empty_target, tmp_path):
    seed()
    db.session.commit()
    _material_and_badges()
    instance = Path(app.instance_path)
    (instance / "secret_key").write_text("the-instance-secret")
    (instance / "config.py").write_text("MAIL_URL = 'smtp://u:p@mail.example.org'\n")
    counts = row_counts()
    sums = file_sums(app)
    areas = {name.split("/")[0] for name in sums}
    assert areas == {"uploads", "badges"}
    assert counts["material"] == 1 and counts["user"] >= 40

    done = backup(app, tmp_path / "backup")
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest == done.manifest
    assert manifest["alembic_revision"] == HEAD
    assert manifest["database"]["kind"] == ("postgresql" if PG_URL else "sqlite")
    assert manifest["created_at"].endswith("+00:00")
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert {"secrets/secret_key", "secrets/config.py"} <= set(listed)
    assert {f"files/{name}" for name in sums} <= set(listed)
    for path, entry in listed.items():
        data = (tmp_path / "backup" / path).read_bytes()
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert stat.S_IMODE(os.stat(tmp_path / "backup").st_mode) == 0o700

    target = empty_target()
    with target.app_context():
        assert tables_with_rows(db.engine) == []
        restore(target, tmp_path / "backup")
        assert row_counts() == counts
        assert file_sums(target) == sums
        # The restored app reads the restored rows through its models.
        assert db.session.scalar(
            select(User).where(User.email == "member@riverside.example.org")
        )
        db.session.remove()
        db.engine.dispose()
    restored = Path(target.instance_path)
    assert (restored / "secret_key").read_text() == "the-instance-secret"
    assert stat.S_IMODE(os.stat(restored / "secret_key").st_mode) == 0o600
    assert "mail.example.org" in (restored / "config.py").read_text()


@pytest.fixture
def small(app, make_org, make_user, make_event):
    """A little data: an org, an organizer, an event with one uploaded PDF."""
    org = make_org(slug="acme", name="Acme")
    organizer = make_user(org, role="organizer")
    event = make_event(org, organizer)
    upload_material(event, organizer, io.BytesIO(PDF), "slides.pdf")
    db.session.commit()
    return org


def test_a_changed_file_is_named_and_nothing_is_restored(
    app, small, empty_target, tmp_path
):
    backup(app, tmp_path / "b")
    (name,) = [n for n in file_sums(app) if n.startswith("uploads/")]
    changed = tmp_path / "b" / "files" / name
    changed.write_bytes(changed.read_bytes().replace(b"%PDF", b"%PDX", 1))

    target = empty_target()
    with target.app_context():
        with pytest.raises(BackupError, match=f"files/{name} does not match"):
            restore(target, tmp_path / "b")
        assert tables_with_rows(db.engine) == []
        assert file_sums(target) == {}
        db.engine.dispose()

    # A missing file, and a manifest entry pointing outside the backup's areas.
    changed.unlink()
    with target.app_context():
        with pytest.raises(BackupError, match=f"files/{name} is missing"):
            restore(target, tmp_path / "b")
        manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
        manifest["files"].append({"path": "files/../../etc", "size": 0, "sha256": ""})
        (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(BackupError, match="not a stored file's name"):
            restore(target, tmp_path / "b")
        db.engine.dispose()


def test_a_database_with_data_is_replaced_only_when_forced(
    app, small, make_org, tmp_path
):
    counts = row_counts()
    sums = file_sums(app)
    backup(app, tmp_path / "b")
    make_org(slug="later", name="Made after the backup")
    with pytest.raises(BackupError, match="already holds data .*--force"):
        restore(app, tmp_path / "b")
    assert row_counts()["organization"] == counts["organization"] + 1

    restore(app, tmp_path / "b", force=True)
    assert row_counts() == counts
    assert file_sums(app) == sums


def test_an_older_schema_is_brought_to_the_backups_revision(
    app, small, empty_target, tmp_path
):
    counts = row_counts()
    backup(app, tmp_path / "b")
    target = empty_target()
    with target.app_context():
        upgrade(revision="0012_followup_reach")
        restore(target, tmp_path / "b")
        assert db.session.execute(
            text("SELECT version_num FROM alembic_version")
        ).all() == [(HEAD,)]
        assert row_counts() == counts
        db.session.remove()
        db.engine.dispose()


def test_local_files_skip_uploads_in_progress_and_refuse_odd_names(tmp_path):
    from mixer.storage import LocalStore

    store = StoreFiles(LocalStore(tmp_path))
    store.write("uploads/ab/abcdefabcdefabcdef.pdf", io.BytesIO(b"one"))
    store.write("badges/event-1/a4-8-ff.pdf", io.BytesIO(b"two"))
    (tmp_path / "uploads" / "tmp").mkdir()
    (tmp_path / "uploads" / "tmp" / "up-123").write_bytes(b"half")
    (tmp_path / "badges" / "event-1" / "x.part").write_bytes(b"half")
    (tmp_path / "outbox").mkdir()
    (tmp_path / "outbox" / "1.eml").write_bytes(b"mail")
    assert list(store.names()) == [
        "uploads/ab/abcdefabcdefabcdef.pdf",
        "badges/event-1/a4-8-ff.pdf",
    ]
    for bad in ("../x", "/etc/passwd", "outbox/1.eml", "uploads/../secret_key"):
        with pytest.raises(BackupError):
            store.write(bad, io.BytesIO(b""))


def test_the_commands_back_up_to_an_archive_and_restore_it(
    app, small, runner, empty_target, tmp_path
):
    counts = row_counts()
    sums = file_sums(app)
    result = runner.invoke(args=["backup", str(tmp_path / "nightly"), "--archive"])
    assert result.exit_code == 0, result.output
    archive = tmp_path / "nightly.tar.gz"
    assert f"revision {HEAD}" in result.output and "1 stored files" in result.output
    assert "SECRET_KEY is set outside the instance folder" in result.output
    with tarfile.open(archive) as tar:
        assert "manifest.json" in tar.getnames()
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600

    again = runner.invoke(args=["backup", str(tmp_path / "nightly"), "--archive"])
    assert again.exit_code == 1 and "already exists" in again.output

    target = empty_target()
    # (with_appcontext uses the app whose context is pushed: the target's.)
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert result.exit_code == 0, result.output
        assert "1 stored files" in result.output
        assert "init-db" not in result.output  # already at this code's revision
        assert row_counts() == counts
        assert file_sums(target) == sums

        # Over data, without --force: refused with the reason.
        result = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert result.exit_code == 1
        assert "already holds data" in result.output and "--force" in result.output
        db.session.remove()
        db.engine.dispose()


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's online backup API")
def test_a_sqlite_backup_is_one_consistent_snapshot_while_writes_go_on(
    app, small, tmp_path
):
    path = db.engine.url.database
    writer = sqlite3.connect(path, timeout=30, check_same_thread=False)
    writer.execute("CREATE TABLE drill_write (n INTEGER PRIMARY KEY, pad BLOB)")
    writer.commit()
    stop = threading.Event()
    committed = [0]  # raised only after the commit, so it never runs ahead

    def write() -> None:
        while not stop.is_set():
            writer.execute(
                "INSERT INTO drill_write VALUES (?, ?)", (committed[0] + 1, b"x" * 4000)
            )
            writer.commit()
            committed[0] += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while committed[0] < 200:
            time.sleep(0.01)
        backup(app, tmp_path / "b")
    finally:
        stop.set()
        thread.join()
        writer.close()
    copy = sqlite3.connect(tmp_path / "b" / "database.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    count, top = copy.execute("SELECT count(*), max(n) FROM drill_write").fetchone()
    copy.close()
    assert 200 <= count == top <= committed[0]  # every committed row up to a point


def test_a_backup_from_a_newer_schema_is_refused(app, small, empty_target, tmp_path):
    backup(app, tmp_path / "b")
    manifest_path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["alembic_revision"] = "0099_from_the_future"
    manifest_path.write_text(json.dumps(manifest))
    target = empty_target()
    with target.app_context():
        with pytest.raises(BackupError, match="0099_from_the_future is unknown"):
            restore(target, tmp_path / "b")
        assert tables_with_rows(db.engine) == []
        db.engine.dispose()


def test_a_newer_schema_is_brought_back_to_an_older_backups_revision(
    empty_target, tmp_path
):
    older = empty_target("older")
    with older.app_context():
        upgrade(revision="0012_followup_reach")
        backup(older, tmp_path / "b")
        db.engine.dispose()
    target = empty_target()
    with target.app_context():
        upgrade(revision="heads")
        restore(target, tmp_path / "b")
        versions = db.session.scalars(text("SELECT version_num FROM alembic_version"))
        assert list(versions) == ["0012_followup_reach"]
        upgrade(revision="heads")  # and mixer init-db takes it on from there
        versions = db.session.scalars(text("SELECT version_num FROM alembic_version"))
        assert list(versions) == [HEAD]
        db.session.remove()
        db.engine.dispose()


def test_files_in_an_object_store_are_listed_read_and_written(s3_settings):
    """The same three operations over a bucket (moto's S3 server)."""
    from types import SimpleNamespace

    from mixer.storage import S3Store, from_config

    bucket_store = from_config(SimpleNamespace(config=s3_settings, instance_path=""))
    assert isinstance(bucket_store, S3Store)
    store = StoreFiles(bucket_store)
    store.write("uploads/ab/abcdefabcdefabcdef.pdf", io.BytesIO(b"one"))
    store.write("rotations/event-2/schedule-ff.pdf", io.BytesIO(b"two"))
    assert list(store.names()) == [
        "uploads/ab/abcdefabcdefabcdef.pdf",
        "rotations/event-2/schedule-ff.pdf",
    ]
    with store.open("rotations/event-2/schedule-ff.pdf") as stored:
        assert stored.read() == b"two"
    with pytest.raises(BackupError):
        store.write("outbox/1.eml", io.BytesIO(b""))
