"""Invitations, profiles and photos, and the e-mail after the event."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.jobs.services import run_due
from mixer.orgs.models import Membership
from mixer.speakers import material, services
from mixer.speakers.models import SessionSpeaker
from mixer.speakers.services import SpeakerError
from tests.helpers import csrf_from, link_in, mail_text
from tests.speakers.conftest import PDF, stored_files


def test_invitation_link_signs_in_a_new_speaker(client, auth, world, outbox):
    auth.login(world.organizer.email)
    page = client.get(f"/events/{world.event.id}/speakers").get_data(as_text=True)
    resp = client.post(
        f"/events/{world.event.id}/speakers/invite",
        data={
            "csrf_token": csrf_from(page),
            "name": "Nia New",
            "email": "nia@example.org",
            "session_id": str(world.event.sessions[0].id),
        },
    )
    assert resp.status_code == 302
    auth.logout()
    [msg] = outbox("nia@example.org")
    assert "Negotiation over lunch" in mail_text(msg)
    link = link_in(msg, "/speakers/accept/")
    path = link.split("mixer.test", 1)[1]
    confirm = client.get(path).get_data(as_text=True)
    assert "Open my speaker page" in confirm
    resp = client.post(path, data={"csrf_token": csrf_from(confirm)})
    assert resp.headers["Location"].endswith(f"/events/{world.event.id}/speaker")
    assert "Your talk at" in client.get(resp.headers["Location"]).get_data(True)
    db.session.expire_all()
    rows = db.session.scalars(select(SessionSpeaker)).all()
    [link_row] = [r for r in rows if r.user.email == "nia@example.org"]
    assert link_row.session_id == world.event.sessions[0].id
    membership = db.session.scalar(
        select(Membership).where(Membership.user_id == link_row.user_id)
    )
    assert membership.role == "speaker"
    # Single use.
    auth.logout()
    assert client.post(path, data={"csrf_token": csrf_from(confirm)}).status_code in (
        400,
        410,
    )


def test_member_made_speaker_directly(app, world):
    services.add_member_as_speaker(
        world.event, world.member.membership_in(world.org).id, None
    )
    db.session.commit()
    assert services.is_speaker(world.event, world.member)
    assert world.member.membership_in(world.org).role == "speaker"


def test_member_made_speaker_gets_an_email_with_their_speaker_page(
    client, auth, world, outbox
):
    auth.login(world.organizer.email)
    page = client.get(f"/events/{world.event.id}/speakers").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page),
        "member": str(world.member.membership_in(world.org).id),
        "session_id": str(world.event.sessions[0].id),
    }
    resp = client.post(f"/events/{world.event.id}/speakers/add", data=form)
    assert resp.status_code == 302
    # A second submit (double click) neither duplicates the link nor the mail.
    client.post(f"/events/{world.event.id}/speakers/add", data=form)
    [msg] = outbox(world.member.email)
    assert msg["Subject"] == "You're speaking at Negotiation over lunch"
    text = mail_text(msg)
    assert "Olga Organizer made you a speaker" in text
    assert world.event.sessions[0].title in text
    speaker_page = f"http://mixer.test/events/{world.event.id}/speaker"
    assert speaker_page in text
    html = msg.get_body(("html",)).get_content()
    assert f'href="{speaker_page}"' in html
    assert "Max Member" in html
    # The link opens the page for the member, without an invitation token.
    auth.logout()
    auth.login(world.member.email)
    mine = client.get(speaker_page.split("mixer.test", 1)[1])
    assert "Your talk at" in mine.get_data(as_text=True)


def test_photo_is_resized_and_stripped(app, world):
    image = Image.new("RGB", (2000, 1000), "teal")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    raw = io.BytesIO()
    image.save(raw, "JPEG", exif=exif)
    raw.seek(0)
    profile = services.set_photo(world.speaker, raw)
    db.session.commit()
    [stored] = stored_files(app)
    with Image.open(stored) as out:
        assert max(out.size) == 512
        assert not out.getexif()
    assert b"SecretCam" not in stored.read_bytes()
    assert profile.photo_key == stored.name


def test_photo_refuses_non_images(app, world):
    with pytest.raises(SpeakerError, match="not an image we can read") as caught:
        services.set_photo(world.speaker, io.BytesIO(PDF))
    assert caught.value.field == "photo"
    db.session.rollback()
    assert stored_files(app) == []


def test_one_mail_after_the_event_with_links(app, world, outbox):
    material.upload_material(world.event, world.speaker, io.BytesIO(PDF), "deck.pdf")
    material.upload_material(world.event, world.speaker, io.BytesIO(PDF), "more.pdf")
    db.session.commit()
    run_due()
    assert _material_mail(outbox(world.attendee.email)) == []
    clock.freeze(world.event.ends_at + timedelta(minutes=10))
    run_due()
    run_due()
    [msg] = _material_mail(outbox(world.attendee.email))
    text = mail_text(msg)
    assert "deck" in text and "/materials/" in text and "/download" in text
    assert _material_mail(outbox(world.member.email)) == []  # no seat: no mail


def _material_mail(messages):
    return [m for m in messages if m["Subject"].startswith("Slides and material")]
