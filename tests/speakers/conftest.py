"""Fixtures for speakers: an event with a speaker, an attendee and an outsider."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfWriter

from mixer.extensions import db
from mixer.speakers.services import add_speaker
from tests.helpers import csrf_from


def _pdf() -> bytes:
    """A real one-page PDF (pypdf reads it), with some binary content."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Subject": bytes(range(32, 127)).decode() * 20})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = _pdf()


@pytest.fixture
def app_config(app_config):
    """A 1 MB upload limit, so the over-the-limit test stays small."""
    app_config["MAX_UPLOAD_MB"] = 1
    return app_config


@dataclass
class World:
    org: object
    event: object
    other_event: object
    organizer: object
    speaker: object
    other_speaker: object
    attendee: object
    member: object


@pytest.fixture
def world(app, make_org, make_user, make_event, make_registration) -> World:
    org = make_org(slug="acme", name="Acme")
    organizer = make_user(org, role="organizer", name="Olga Organizer")
    speaker = make_user(org, role="speaker", name="Sam Speaker")
    other_speaker = make_user(org, role="speaker", name="Otto Other")
    attendee = make_user(org, name="Ada Attendee")
    member = make_user(org, name="Max Member")
    event = make_event(org, organizer, title="Negotiation over lunch")
    other = make_event(org, organizer, title="Another lunch")
    add_speaker(event.sessions[0], speaker)
    add_speaker(other.sessions[0], other_speaker)
    db.session.commit()
    make_registration(event, email=attendee.email, name=attendee.name)
    return World(org, event, other, organizer, speaker, other_speaker, attendee, member)


def stored_files(app) -> list[Path]:
    """Every file under the upload folder (temporary ones included)."""
    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def instance_files(app) -> set[str]:
    """Files in the instance folder apart from the database's own."""
    root = Path(app.instance_path)
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and ".sqlite3" not in p.name
    }


def upload(client, event_id: int, content: bytes, name: str, **fields):
    """Post one file through the speaker page's form, as the drop zone does."""
    token = csrf_from(client.get("/profile").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "session_id": str(fields.pop("session_id", _first_session(event_id))),
        "visibility": "attendees",
        "available": "anytime",
    }
    data.update(fields)
    data["files"] = (io.BytesIO(content), name)
    return client.post(
        f"/events/{event_id}/materials",
        data=data,
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )


def _first_session(event_id: int) -> int:
    from mixer.events.models import Event

    return db.session.get(Event, event_id).sessions[0].id


def multipart(fields: dict[str, str], file_field: str, name: str, content: bytes):
    """A multipart body as bytes (the test client would spool a big one to a
    temporary file that it never closes when the app refuses to read it)."""
    boundary = "----mixer-test-boundary"
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{name}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
