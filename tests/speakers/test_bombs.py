"""Files built to exhaust the server: a decompression-bomb photo and zip bombs
in the shape of Office documents are refused quickly, nothing is stored."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from mixer.extensions import db
from mixer.speakers import material, sniff
from mixer.speakers.services import SpeakerError, profile_for
from tests.helpers import csrf_from
from tests.speakers.conftest import multipart, stored_files


@pytest.fixture
def app_config(app_config):
    """The production upload limit (50 MB): the bombs fit under it."""
    app_config["MAX_UPLOAD_MB"] = 50
    return app_config


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bomb(side: int = 30_000) -> bytes:
    """A real side×side 1-bit PNG of zeros: ~110 KB that decode to 900 megapixels."""
    row = b"\x00" * (1 + side // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def office_zip(entries: int) -> bytes:
    """A PPTX-shaped zip with ``entries`` empty parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<p/>")
        for n in range(entries - 2):
            archive.writestr(f"ppt/s{n}", b"")
    return out.getvalue()


def test_a_decompression_bomb_photo_is_the_too_large_refusal(client, auth, world, app):
    bomb = png_bomb()
    assert len(bomb) < 1024 * 1024
    auth.login(world.speaker.email)
    page = client.get(f"/events/{world.event.id}/speaker").get_data(as_text=True)
    resp = client.post(
        f"/events/{world.event.id}/speaker/photo",
        data={"csrf_token": csrf_from(page), "photo": (io.BytesIO(bomb), "me.png")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422  # the page's answer to a refused form
    assert "That image is too large in pixels." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert profile_for(world.speaker).photo_key is None
    assert stored_files(app) == []


def test_a_photo_between_our_cap_and_pillows_is_refused_too(app, world):
    # 10,000 × 10,000 = 100 MP: above Pillow's warning threshold (89 MP), below its
    # error (179 MP) and above our PHOTO_MAX_PIXELS (40 MP).
    with pytest.raises(SpeakerError, match="too large in pixels") as caught:
        from mixer.speakers.services import set_photo

        set_photo(world.speaker, io.BytesIO(png_bomb(10_000)))
    assert caught.value.field == "photo"


def test_a_zip_with_200000_entries_is_refused_from_its_directory(
    client, auth, world, app
):
    bomb = office_zip(200_000)
    auth.login(world.speaker.email)
    page = client.get(f"/events/{world.event.id}/speaker").get_data(as_text=True)
    fields = {
        "csrf_token": csrf_from(page),
        "session_id": str(world.event.sessions[0].id),
        "visibility": "attendees",
        "available": "anytime",
    }
    # A body of bytes: the test client would spool a file it never closes.
    body, ctype = multipart(fields, "files", "deck.pptx", bomb)
    resp = client.post(
        f"/events/{world.event.id}/materials",
        data=body,
        content_type=ctype,
        headers={"Accept": "application/json"},
    )
    assert resp.status_code == 413
    error = resp.get_json()["error"]
    assert "more than 10,000 parts" in error["message"]
    assert "Nothing was stored" in error["message"]
    assert stored_files(app) == []


def test_the_entry_cap_counts_from_the_end_record(app):
    assert sniff._declared_entries(io.BytesIO(office_zip(10_001))) == 10_001
    with pytest.raises(sniff.ArchiveTooLarge, match="more than 10,000 parts"):
        sniff.sniff(io.BytesIO(office_zip(10_001)))
    assert sniff.sniff(io.BytesIO(office_zip(500))) == sniff.PPTX


def test_a_zip_that_unpacks_beyond_the_cap_is_refused(app, world, monkeypatch):
    monkeypatch.setattr(sniff, "ZIP_MAX_UNPACKED", 8 * 1024 * 1024)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x00" * (9 * 1024 * 1024))
    with pytest.raises(SpeakerError, match="unpacks to more than") as caught:
        material.upload_material(
            world.event, world.speaker, io.BytesIO(out.getvalue()), "big.docx"
        )
    assert caught.value.status == 413
    db.session.rollback()
    assert stored_files(app) == []
