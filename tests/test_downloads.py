"""Every download names its type once: one ``charset`` at most in Content-Type
(Werkzeug adds one to a ``mimetype`` of a text type; a whole type is given as
``content_type``). The authorization matrix (``tests/test_authorization.py``)
checks the same on every answer of every route."""

from __future__ import annotations

import io

import pytest

from mixer.events.feeds import feed_for, feed_url
from mixer.extensions import db
from mixer.speakers.material import upload_material
from tests.helpers import PASSWORD


@pytest.fixture
def downloads(org, organizer, make_event, make_registration):
    """The organizer's event, one registration, a text handout, a feed."""
    event = make_event(org, organizer, title="Downloads lunch")
    reg = make_registration(event, name="Dee Download")
    text = upload_material(
        event, organizer, io.BytesIO("Notes – café\n".encode()), "notes.txt"
    )
    markdown = upload_material(
        event,
        organizer,
        io.BytesIO("# Notes\n\n*café* – ünïcode\n".encode()),
        "notes.md",
    )
    feed = feed_for(organizer, org)
    db.session.commit()
    return {
        f"/events/{event.id}/calendar.ics": "text/calendar; charset=utf-8",
        f"/events/{event.id}/attendees.csv": "text/csv; charset=utf-8",
        f"/materials/{text.id}/download": "text/plain; charset=utf-8",
        f"/materials/{markdown.id}/download": "text/plain; charset=utf-8",
        feed_url(feed).removeprefix("http://mixer.test"): "text/calendar; "
        "charset=utf-8",
        f"/events/{event.id}/badge/{reg.id}": "application/pdf",
    }


def test_every_download_names_one_charset(client, auth, organizer, downloads):
    auth.login(organizer.email, PASSWORD)
    for path, expected in downloads.items():
        resp = client.get(path, buffered=True)  # streamed in the request's context
        assert resp.status_code == 200, path
        assert resp.headers["Content-Type"] == expected, path
        assert resp.headers["Content-Type"].count("charset") <= 1
        assert resp.data


def test_markdown_notes_download_once_typed_as_utf8_text(
    client, auth, org, organizer, make_event
):
    """The issue's ``notes.md``: one charset, its own name, its bytes, a download."""
    event = make_event(org, organizer, title="Markdown lunch")
    body = "# Notes\n\n*café* – ünïcode\n".encode()
    notes = upload_material(event, organizer, io.BytesIO(body), "notes.md")
    db.session.commit()
    auth.login(organizer.email, PASSWORD)
    resp = client.get(f"/materials/{notes.id}/download", buffered=True)
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "notes.md" in disposition
    assert resp.data == body
