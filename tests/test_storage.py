"""The storage interface (``mixer.storage``) on both backends: the instance folder
and S3-compatible object storage (moto's S3 server, started by the suite)."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

import pytest

from mixer import create_app, storage
from mixer.storage import LocalStore, NotFound, S3Store, TooLarge, get_store
from tests.storage_support import both_backends, bucket_keys


@pytest.fixture(params=["local", "s3"])
def app_config(app_config, request):
    return both_backends(app_config, request)


@pytest.fixture
def store(app):
    return get_store()


def _no_part_files(app) -> bool:
    return not list(Path(app.instance_path).rglob("*.part"))


def test_the_backend_follows_the_configuration(app, store, app_config):
    if "STORAGE_URL" in app_config:
        assert isinstance(store, S3Store)
        assert repr(store).endswith("/mixer)")
    else:
        assert isinstance(store, LocalStore)
        assert store.root == Path(app.instance_path)
    store.check()  # reachable


def test_write_read_list_delete(app, store, app_config):
    store.write("badges/event-1/a4-8-abc.pdf", b"%PDF first")
    store.write("badges/event-1/a4-8-abc.pdf", b"%PDF second")  # replaced
    store.write("badges/event-2/a4-8-def.pdf", b"other event")
    store.write("uploads/ab/abcdefghijklmnopqrstuv", b"slides")
    assert store.read("badges/event-1/a4-8-abc.pdf") == b"%PDF second"
    assert store.size("badges/event-1/a4-8-abc.pdf") == len(b"%PDF second")
    assert store.exists("badges/event-1/a4-8-abc.pdf")
    assert not store.exists("badges/event-1/missing.pdf")
    assert store.list("badges/event-1") == ["badges/event-1/a4-8-abc.pdf"]
    assert store.list("badges") == [
        "badges/event-1/a4-8-abc.pdf",
        "badges/event-2/a4-8-def.pdf",
    ]
    assert store.list("rotations") == []
    with store.open("uploads/ab/abcdefghijklmnopqrstuv") as fh:
        assert fh.read() == b"slides"
    store.delete("badges/event-1/a4-8-abc.pdf")
    store.delete("badges/event-1/a4-8-abc.pdf")  # gone already: no error
    with pytest.raises(NotFound):
        store.read("badges/event-1/a4-8-abc.pdf")
    with pytest.raises(NotFound):
        store.open("badges/event-1/a4-8-abc.pdf")
    with pytest.raises(NotFound):
        store.size("badges/event-1/a4-8-abc.pdf")
    if "STORAGE_URL" in app_config:
        # Under the prefix in the bucket; nothing in the instance folder.
        assert bucket_keys(app_config) == [
            "mixer/badges/event-2/a4-8-def.pdf",
            "mixer/uploads/ab/abcdefghijklmnopqrstuv",
        ]
        assert not (Path(app.instance_path) / "badges").exists()
    else:
        assert (Path(app.instance_path) / "badges/event-2/a4-8-def.pdf").is_file()


def test_save_streams_hashes_and_refuses_past_the_limit(app, store):
    data = bytes(range(256)) * 1024  # 256 KiB, several chunks
    size, digest = store.save("uploads/xy/xyz0123456789abcdef", io.BytesIO(data))
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert store.read("uploads/xy/xyz0123456789abcdef") == data
    with pytest.raises(TooLarge):
        store.save("uploads/xy/xyzTOOBIG", io.BytesIO(data), max_size=1000)
    assert store.list("uploads") == ["uploads/xy/xyz0123456789abcdef"]
    assert _no_part_files(app)


def test_an_opened_file_seeks_and_reads_in_parts(app, store):
    data = bytes(range(256)) * 400
    store.write("reports/event-3/table.csv", data)
    with store.open("reports/event-3/table.csv") as fh:
        assert fh.seekable()
        assert fh.read(10) == data[:10]
        fh.seek(50_000)
        assert fh.read(100) == data[50_000:50_100]
        fh.seek(-5, io.SEEK_END)
        assert fh.read() == data[-5:]


@pytest.mark.parametrize(
    "key",
    [
        "../secret_key",
        "badges/../../etc/passwd",
        "/etc/passwd",
        "badges//x.pdf",
        "badges/./x.pdf",
        ".hidden",
        "badges/x.pdf.part",
        "",
        "badges/",
        "badges\\..\\x",
        "uploads/a b",
        "uploads/%2e%2e/x",
    ],
)
def test_keys_are_relative_paths_of_ours(app, store, key):
    for call in (store.read, store.exists, store.delete, store.open, store.path):
        with pytest.raises(ValueError, match="bad storage key"):
            call(key)
    with pytest.raises(ValueError, match="bad storage key"):
        store.write(key, b"x")
    assert store.list("badges") == []


def test_every_key_an_upload_can_get_is_accepted(app, store):
    """Upload keys are ``secrets.token_urlsafe``: "-" and "_" may come first,
    in the key and in its two-character folder (1 upload in 64 began with "-"
    and was refused before)."""
    for key in ("uploads/-o/-oVoysQkm5d-t7chG3pvoJX", "uploads/__/__x-", "a/-"):
        store.write(key, b"x")
        assert store.read(key) == b"x"
        store.delete(key)


def test_a_reader_never_sees_a_half_written_file(app, store):
    """A writer replaces one key over and over with files of 1 MB of one byte;
    every concurrent read gets a whole file, old or new, never a mix or a part."""
    key = "badges/event-9/a4-8-race.pdf"
    size = 1024 * 1024
    store.write(key, b"a" * size)
    done = threading.Event()
    errors: list[BaseException] = []

    def writer():
        try:
            for i in range(12):
                store.write(key, bytes([ord("a") + i % 2]) * size)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    seen = set()
    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set() or not seen:
        data = store.read(key)
        assert len(data) == size
        assert data.count(data[:1]) == size  # one byte throughout
        seen.add(data[:1])
    thread.join()
    assert errors == []
    assert _no_part_files(app)


def test_an_unknown_storage_url_is_refused_at_start(app_config):
    app_config["STORAGE_URL"] = "ftp://example.org/files"
    with pytest.raises(RuntimeError, match="STORAGE_URL"):
        create_app(app_config)


def test_printouts_are_kept_in_the_store(app, store):
    from mixer.printouts import services as printouts

    old = printouts.Printout("badges", 7, 1, "a4-8", "f" * 64, "b.pdf", "x")
    new = printouts.Printout("badges", 7, 1, "a4-8", "e" * 64, "b.pdf", "x")
    other = printouts.Printout("badges", 7, 1, "letter-8", "d" * 64, "b.pdf", "x")
    assert not old.ready and printouts.cached(old) is None
    printouts.store(old, b"%PDF old")
    printouts.store(other, b"%PDF other")
    assert old.ready and printouts.cached(old) == b"%PDF old"
    printouts.store(new, b"%PDF new")  # drops the older drawing of its variant
    assert store.list("badges/event-7") == [new.key, other.key]
    assert printouts.cached(old) is None and printouts.cached(new) == b"%PDF new"
    printouts.discard(new)
    assert not new.ready
    assert storage.check_key(new.key) == "badges/event-7/a4-8-" + "e" * 64 + ".pdf"
