"""The acceptance list: uploads, refusals that leave nothing behind, downloads."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import select

from mixer.extensions import db
from mixer.speakers import sniff
from mixer.speakers.models import Material
from tests.helpers import bearer, csrf_from
from tests.speakers.conftest import (
    PDF,
    instance_files,
    multipart,
    stored_files,
    upload,
)

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
# Starts like a PDF and is not one (the 75-byte "PDF").
FAKE_PDF = b"%PDF-1.4\n" + b"not a PDF at all, only its first five bytes are. " * 2
TRUNCATED_PDF = PDF[: len(PDF) // 2]


def fetch(client, url: str, **kw):
    """GET and close (file responses hold the file open until closed)."""
    resp = client.get(url, **kw)
    resp.get_data()
    resp.close()
    return resp


def _materials():
    db.session.expire_all()
    return list(db.session.scalars(select(Material)))


def test_uploaded_pdf_downloads_identical_for_attendee_not_for_outsider(
    client, auth, world, make_user
):
    auth.login(world.speaker.email)
    resp = upload(client, world.event.id, PDF, "slides.pdf", title="Slides")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["size"] == len(PDF)
    assert body["filename"] == "slides.pdf"
    [stored] = stored_files(client.application)
    assert stored.read_bytes() == PDF
    auth.logout()

    auth.login(world.attendee.email)
    page = client.get(f"/events/{world.event.id}").get_data(as_text=True)
    assert "Slides" in page and f"/materials/{body['id']}/download" in page
    got = fetch(client, f"/materials/{body['id']}/download")
    assert got.status_code == 200
    assert hashlib.sha256(got.data).hexdigest() == body["sha256"]
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("inline")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got.headers["Content-Security-Policy"]
    assert got.headers["ETag"].strip('"') == body["sha256"]
    again = fetch(
        client,
        f"/materials/{body['id']}/download",
        headers={"If-None-Match": got.headers["ETag"]},
    )
    assert again.status_code == 304
    auth.logout()

    # A member without a seat, and someone from another organization: 404.
    auth.login(world.member.email)
    assert fetch(client, f"/materials/{body['id']}/download").status_code == 404
    assert "Slides" not in client.get(f"/events/{world.event.id}").get_data(True)
    auth.logout()


def test_range_request_returns_206_with_the_right_bytes(client, auth, world):
    auth.login(world.speaker.email)
    body = upload(client, world.event.id, PDF, "slides.pdf").get_json()
    auth.logout()
    auth.login(world.attendee.email)
    part = fetch(
        client, f"/materials/{body['id']}/download", headers={"Range": "bytes=100-199"}
    )
    assert part.status_code == 206
    assert part.data == PDF[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(PDF)}"


@pytest.mark.parametrize(
    ("content", "name", "status", "message"),
    [
        (ELF, "slides.pdf", 415, "not accepted. Accepted: PDF"),
        (HTML, "slides.pdf", 415, "not accepted. Accepted: PDF"),
        (b"", "slides.pdf", 400, "The file is empty."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "a.md", 415, "Accepted"),
        (b"PK\x03\x04not really a zip", "deck.pptx", 415, "Accepted"),
        (FAKE_PDF, "slides.pdf", 415, "begins like a PDF but is not one"),
        (TRUNCATED_PDF, "slides.pdf", 415, "begins like a PDF but is not one"),
    ],
    ids=[
        "elf-as-pdf",
        "html-as-pdf",
        "empty",
        "svg-as-md",
        "broken-zip",
        "fake-pdf",
        "truncated-pdf",
    ],
)
def test_refused_content_leaves_nothing_behind(
    client, auth, world, content, name, status, message
):
    before = instance_files(client.application)
    auth.login(world.speaker.email)
    resp = upload(client, world.event.id, content, name)
    assert resp.status_code == status
    assert message in resp.get_json()["error"]["message"]
    assert _materials() == []
    assert stored_files(client.application) == []
    assert instance_files(client.application) == before


def test_one_byte_over_the_limit_is_413_and_nothing_is_stored(client, auth, world):
    before = instance_files(client.application)
    auth.login(world.speaker.email)
    page = client.get(f"/events/{world.event.id}/speaker").get_data(as_text=True)
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1 - 9)
    assert len(big) == 1024 * 1024 + 1
    body, ctype = multipart(
        {"csrf_token": csrf_from(page), "session_id": "1"}, "files", "big.pdf", big
    )
    resp = client.post(
        f"/events/{world.event.id}/materials",
        data=body,
        content_type=ctype,
        headers={"Accept": "application/json"},
    )
    assert resp.status_code == 413
    assert "limit of 1 MB" in resp.get_json()["error"]["message"]
    assert "nothing was stored" in resp.get_json()["error"]["message"]
    # The plain form (no JavaScript) gets a page saying so.
    page = client.post(
        f"/events/{world.event.id}/materials", data=body, content_type=ctype
    )
    assert page.status_code == 413
    assert "The limit is 1 MB; nothing was stored." in page.get_data(as_text=True)
    assert _materials() == []
    assert stored_files(client.application) == []
    assert instance_files(client.application) == before


def test_api_over_the_limit_is_413_in_the_json_error_shape(client, world, token_for):
    secret = token_for(world.speaker, world.org)
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1 - 9)
    body, ctype = multipart({}, "file", "big.pdf", big)
    resp = client.post(
        f"/api/v1/events/{world.event.id}/materials",
        data=body,
        content_type=ctype,
        headers=bearer(secret),
    )
    assert resp.status_code == 413
    error = resp.get_json()["error"]
    assert error["code"] == "request_entity_too_large"
    assert "nothing was stored" in error["message"]
    assert stored_files(client.application) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.pdf", "etc_passwd.pdf"),
        ("evil\x00.pdf", "evil.pdf"),
        ("a" * 296 + ".pdf", "a" * 146 + ".pdf"),
        ("..", "file.pdf"),
        ("page.html", "page.html.pdf"),
    ],
    ids=["dot-dot", "nul", "300-chars", "only-dots", "wrong-extension"],
)
def test_bad_names_are_stored_safely(client, auth, world, name, expected):
    auth.login(world.speaker.email)
    resp = upload(client, world.event.id, PDF, name)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    [material] = _materials()
    assert material.filename == expected
    assert len(material.filename) <= 150
    [stored] = stored_files(client.application)
    assert stored.read_bytes() == PDF
    assert stored.parent.parent == __import__("pathlib").Path(
        client.application.config["UPLOAD_FOLDER"]
    )


def test_member_who_is_not_a_speaker_cannot_upload(client, auth, world, token_for):
    auth.login(world.member.email)
    resp = upload(client, world.event.id, PDF, "slides.pdf")
    assert resp.status_code == 403
    assert "speakers and organizers" in resp.get_json()["error"]["message"]
    secret = token_for(world.member, world.org)
    resp = client.post(
        f"/api/v1/events/{world.event.id}/materials",
        data={"file": (io.BytesIO(PDF), "slides.pdf")},
        content_type="multipart/form-data",
        headers=bearer(secret),
    )
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "forbidden"
    assert _materials() == [] and stored_files(client.application) == []


def test_speaker_of_another_event_cannot_upload(client, auth, world, token_for):
    auth.login(world.other_speaker.email)
    resp = upload(client, world.event.id, PDF, "slides.pdf")
    assert resp.status_code == 403
    secret = token_for(world.other_speaker, world.org)
    resp = client.post(
        f"/api/v1/events/{world.event.id}/materials",
        data={"file": (io.BytesIO(PDF), "slides.pdf")},
        content_type="multipart/form-data",
        headers=bearer(secret),
    )
    assert resp.status_code == 403
    assert "speakers and organizers" in resp.get_json()["error"]["message"]
    assert _materials() == [] and stored_files(client.application) == []


def test_api_upload_list_delete(client, world, token_for):
    secret = token_for(world.speaker, world.org)
    url = f"/api/v1/events/{world.event.id}/materials"
    resp = client.post(
        url,
        data={"file": (io.BytesIO(PDF), "deck.pdf"), "visibility": "members"},
        content_type="multipart/form-data",
        headers=bearer(secret),
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["filename"] == "deck.pdf" and body["size"] == len(PDF)
    assert body["download_url"].endswith(f"/materials/{body['id']}/download")
    # Re-uploading the same title keeps the older version.
    resp = client.post(
        url,
        data={
            "file": (io.BytesIO(PDF + b"v2"), "deck.pdf"),
            "title": "deck",
            "visibility": "members",
        },
        content_type="multipart/form-data",
        headers=bearer(secret),
    )
    assert resp.get_json()["version"] == 2
    listed = client.get(url, headers=bearer(token_for(world.member, world.org)))
    assert [m["version"] for m in listed.get_json()] == [2, 1]
    assert len(stored_files(client.application)) == 2
    # Another speaker may not delete it; the uploader may.
    other = token_for(world.other_speaker, world.org)
    gone = client.delete(f"/api/v1/materials/{body['id']}", headers=bearer(other))
    assert gone.status_code == 403
    gone = client.delete(f"/api/v1/materials/{body['id']}", headers=bearer(secret))
    assert gone.status_code == 200 and gone.get_json()["id"] == body["id"]
    assert [m.version for m in _materials()] == [2]
    assert len(stored_files(client.application)) == 1


def test_visibility_timing_and_hiding(client, auth, world, app):
    from datetime import timedelta

    from mixer import clock
    from mixer.speakers.material import set_hidden, upload_material
    from mixer.speakers.visibility import Viewer, materials

    event = world.event
    after = upload_material(
        event, world.speaker, io.BytesIO(PDF), "later.pdf", available="after"
    )
    public = upload_material(
        event, world.speaker, io.BytesIO(PDF), "open.pdf", visibility="public"
    )
    db.session.commit()
    seen = {m.id for m in materials(event, Viewer(event, world.attendee))}
    assert seen == {public.id}
    clock.freeze(event.ends_at + timedelta(minutes=1))
    seen = {m.id for m in materials(event, Viewer(event, world.attendee))}
    assert seen == {public.id, after.id}
    set_hidden(after, world.organizer, True)
    db.session.commit()
    seen = {m.id for m in materials(event, Viewer(event, world.attendee))}
    assert seen == {public.id}
    # Speakers and organizers still see the hidden item.
    assert after in materials(event, Viewer(event, world.speaker))
    # Public material downloads without signing in; other items send to sign-in.
    assert fetch(client, f"/materials/{public.id}/download").data == PDF
    assert fetch(client, f"/materials/{after.id}/download").status_code == 302


def _ooxml(prefix: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(f"{prefix}document.xml", "<x/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (PDF, sniff.PDF),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 20, sniff.PNG),
        (b"\xff\xd8\xff\xe0" + b"0" * 20, sniff.JPEG),
        (b"GIF89a" + b"0" * 20, sniff.GIF),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", sniff.WEBP),
        (_ooxml("ppt/"), sniff.PPTX),
        (_ooxml("word/"), sniff.DOCX),
        (_ooxml("xl/"), sniff.XLSX),
        ("# Notes\n\nSome *Markdown* — ünïcode.\n".encode(), sniff.TEXT),
        (ELF, None),
        (HTML, None),
        (b"#!/bin/sh\nrm -rf /\n", None),
        (b"\xff\xfe\x00bad", None),
        (_ooxml("other/"), None),
    ],
)
def test_sniff(content, kind):
    assert sniff.sniff(io.BytesIO(content)) == kind


@pytest.mark.parametrize(
    "content",
    [
        FAKE_PDF,
        TRUNCATED_PDF,
        b"%PDF-1.4\n" + b"0" * 100_000,
        b"%PDF-1.4\n1 0 obj<<>>endobj\nstartxref\n0\n%%EOF\n",
        b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<</Root 1 0 R>>\nstartxref\n9\n%%EOF\n",
    ],
    ids=["fake", "truncated", "zeros", "wrong-xref", "no-pages"],
)
def test_sniff_refuses_what_only_begins_like_a_pdf(content):
    with pytest.raises(sniff.NotAPdf):
        sniff.sniff(io.BytesIO(content))
