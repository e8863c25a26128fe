"""Data rights and retention (``docs/privacy.md``), on one hand-built world.

Ada is active in two organizations, Acme and Beta, with something of every
kind: places at events (one as a guest, before her account), a "we talked"
note, follow-up answers, a pair with check-in notes and feedback, an ask, a
testimonial, an award, speaker material and a photo, sign-ins, an API token and
mail waiting for her. Bob, her pair at Acme, wrote his own private words about
her; Dan uploaded his own slides at Beta. Every private text is a unique
marker, so "none of it left" is a search of the database and the zip.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from mixer import clock
from mixer.accounts.models import ApiToken, SignIn, User
from mixer.asks.models import Ask
from mixer.audit.models import AuditEntry
from mixer.connections.models import Connection, ConnectionNote
from mixer.events.models import Registration
from mixer.extensions import db
from mixer.followup.models import FollowupChoice, FollowupPrompt
from mixer.insights.dashboard import dashboard
from mixer.insights.filters import InsightFilter
from mixer.jobs.models import Job, JobStatus
from mixer.jobs.services import run_due
from mixer.mail.models import OutboxMessage
from mixer.orgs.models import Membership
from mixer.pairs import tallies
from mixer.pairs.models import Pair, PairFeedback, PairMeeting, open_key
from mixer.privacy import retention
from mixer.privacy.models import EventRetention
from mixer.recognition import models as recognition
from mixer.recognition.models import Award
from mixer.speakers.models import Material, SpeakerProfile
from mixer.speakers.storage import get_storage
from mixer.sso.models import SsoIdentity
from mixer.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import Auth
from tests.helpers import NOW, PASSWORD, csrf_from

# Everything Ada wrote or holds privately, and what others wrote that is theirs.
ADA_TEXT = [
    "ADA-NOTE",
    "ADA-COMMENT",
    "ADA-REFLECTION",
    "ADA-PAIR-NOTE",
    "ADA-HELPED",
    "ADA-ASK-NOTE",
    "ADA-TESTIMONIAL",
    "ADA-CITATION",
    "ADA-BIO",
    "vegan-ada",
]
OTHERS_TEXT = ["BOB-NOTE", "BOB-COMMENT", "BOB-PAIR-NOTE", "DAN-SLIDES"]
STARTED = NOW - timedelta(days=20)  # the two events, three weeks ago


class World:
    """Acme and Beta, Ada in both, and the people around her."""

    def __init__(self, make_org, make_user, make_event, make_registration):
        clock.freeze(STARTED - timedelta(days=10))
        self.acme = make_org(slug="acme", name="Acme")
        self.beta = make_org(slug="beta", name="Beta")
        self.ann = make_user(self.acme, role="admin", name="Ann Admin")
        self.ben = make_user(self.beta, role="admin", name="Ben Admin")
        self.ada = make_user(
            self.acme, name="Ada Lovelace", email="ada@example.org", department="Eng"
        )
        self.ada.bio, self.ada.offers = "ADA-BIO", ["chess"]
        self.bob = make_user(self.acme, name="Bob Babbage", department="Sales")
        self.cleo = make_user(self.acme, name="Cleo", department="Eng")
        self.dan = make_user(self.beta, name="Dan", department="Ops")
        beta_ada = Membership(org=self.beta, user=self.ada, role="speaker")
        db.session.add(beta_ada)
        db.session.flush()
        beta_ada.update_details("Ops", 4)
        self.e1 = make_event(self.acme, kind="mentor_mixer", starts_at=STARTED)
        self.e2 = make_event(self.beta, starts_at=STARTED + timedelta(hours=3))
        regs = {}
        for key, event, person in [
            ("ada1", self.e1, self.ada),
            ("bob1", self.e1, self.bob),
            ("cleo1", self.e1, self.cleo),
            ("ada2", self.e2, self.ada),
            ("dan2", self.e2, self.dan),
        ]:
            regs[key] = make_registration(
                event, email=person.email, name=person.name, user=person
            )
        # Ada at another Beta event as a guest, before she had an account.
        self.e3 = make_event(self.beta, starts_at=STARTED + timedelta(days=1))
        regs["guest"] = make_registration(
            self.e3, email="ada@example.org", name="Ada L.", source="organizer"
        )
        regs["guest"].user_id = None
        self.regs = regs
        regs["ada1"].dietary, regs["ada1"].seeks = "vegan-ada", ["go"]
        regs["ada1"].department, regs["ada1"].level = "Eng", 3
        for reg in regs.values():
            reg.checked_in_at = reg.event.starts_at + timedelta(minutes=10)
        self._met(self.e1, regs["ada1"], regs["bob1"], "ADA-NOTE", "BOB-NOTE")
        self._met(self.e1, regs["ada1"], regs["cleo1"], None, None)
        self._met(self.e2, regs["ada2"], regs["dan2"], None, None)
        for key, rating, words in [
            ("ada1", 5, "ADA"),
            ("bob1", 4, "BOB"),
            ("cleo1", 3, None),
            ("ada2", 5, None),
            ("dan2", 4, None),
        ]:
            reg = regs[key]
            prompt = FollowupPrompt(
                event_id=reg.event_id,
                registration_id=reg.id,
                user_id=reg.user_id,
                rating=rating,
                comment=f"{words}-COMMENT" if words else None,
                reflection=f"{words}-REFLECTION" if words else None,
                answered_at=reg.event.starts_at + timedelta(days=1),
            )
            db.session.add(prompt)
        db.session.flush()
        for mine, other, choice in [
            ("ada1", "bob1", "mentor"),
            ("bob1", "ada1", "mentee"),
        ]:
            prompt = db.session.scalar(
                select(FollowupPrompt).where(
                    FollowupPrompt.registration_id == regs[mine].id
                )
            )
            prompt.choices.append(
                FollowupChoice(other_id=regs[other].id, choice=choice)
            )
        self.pair = self._pair()
        db.session.add_all(
            [
                PairFeedback(
                    pair_id=self.pair.id,
                    user_id=self.ada.id,
                    rating=5,
                    helped="ADA-HELPED",
                ),
                Ask(
                    org_id=self.beta.id,
                    requester_id=self.ada.id,
                    topic="Negotiation",
                    note="ADA-ASK-NOTE",
                ),
                recognition.Testimonial(
                    org_id=self.acme.id,
                    event_id=self.e1.id,
                    author_id=self.ada.id,
                    author_name="Ada Lovelace",
                    body="ADA-TESTIMONIAL",
                    source_key=f"prompt:{regs['ada1'].id}",
                    status="approved",
                ),
                Award(
                    org_id=self.acme.id,
                    month="2026-01",
                    user_id=self.ada.id,
                    citation="ADA-CITATION",
                    status="published",
                    published_at=STARTED,
                ),
            ]
        )
        uploads = get_storage()
        self.keys = {}
        for who, text in [("ada", b"ADA-SLIDES"), ("dan", b"DAN-SLIDES")]:
            key, size, digest = uploads.save(io.BytesIO(text), suffix=".pdf")
            self.keys[who] = key
            db.session.add(
                Material(
                    event_id=self.e2.id,
                    session_id=self.e2.sessions[0].id,
                    uploaded_by_id=getattr(self, who).id,
                    kind="file",
                    title=f"{who} slides",
                    filename="slides.pdf",
                    content_type="application/pdf",
                    size=size,
                    sha256=digest,
                    storage_key=key,
                )
            )
        self.keys["photo"], _, _ = uploads.save(io.BytesIO(b"ADA-PHOTO"), suffix=".png")
        db.session.add(
            SpeakerProfile(
                user_id=self.ada.id, bio="ADA-BIO", photo_key=self.keys["photo"]
            )
        )
        for to, org in [("ada@example.org", self.acme), (self.bob.email, self.acme)]:
            db.session.add(
                OutboxMessage(
                    org_id=org.id,
                    to_addr=to,
                    subject=f"Waiting for {to}",
                    message_id=f"<{uuid.uuid4()}@mixer.test>",
                    raw=b"Subject: hello\r\n\r\nhello\r\n",
                )
            )
        # A webhook endpoint of Acme, with a delivery naming her and one Bob.
        hook = WebhookEndpoint(
            org_id=self.acme.id,
            url="https://hooks.acme.test/mixer",
            event_types=["registration.created"],
            secret="whsec_test",
        )
        for who in ("ada@example.org", self.bob.email):
            body = json.dumps({"type": "registration.created", "data": {"email": who}})
            hook.deliveries.append(
                WebhookDelivery(
                    message_id=f"msg_{uuid.uuid4().hex}",
                    event_type="registration.created",
                    body=body,
                )
            )
        db.session.add(hook)
        # Her company account at an OpenID provider (single sign-on).
        db.session.add(
            SsoIdentity(user=self.ada, issuer="https://id.acme.test", subject="ada-7")
        )
        db.session.commit()
        clock.freeze(NOW)

    def _met(self, event, one, other, one_note, other_note):
        """A connection at ``event``, with each side's own note."""
        low, high = sorted((one, other), key=lambda r: r.id)
        connection = Connection(
            event_id=event.id, a_id=low.id, b_id=high.id, source="scan"
        )
        db.session.add(connection)
        for reg, body in ((one, one_note), (other, other_note)):
            if body:
                connection.notes.append(ConnectionNote(author_id=reg.id, body=body))

    def _pair(self) -> Pair:
        """Ada (mentee) and Bob (mentor) at Acme: one check-in held, one ahead."""
        a_id, b_id = sorted((self.ada.id, self.bob.id))
        pair = Pair(
            org_id=self.acme.id,
            kind="mentoring",
            a_id=a_id,
            b_id=b_id,
            mentor_id=self.bob.id,
            open_key=open_key(self.acme.id, a_id, b_id),
            event_id=self.e1.id,
            ics_uid=f"{uuid.uuid4()}@mixer.test",
            started_at=STARTED + timedelta(days=2),
            term_ends_at=STARTED + timedelta(days=180),
        )
        db.session.add(pair)
        pair.meetings.append(
            PairMeeting(
                number=1,
                due_at=STARTED + timedelta(days=9),
                status="met",
                reported_at=STARTED + timedelta(days=9),
                notes={
                    str(self.ada.id): "ADA-PAIR-NOTE",
                    str(self.bob.id): "BOB-PAIR-NOTE",
                },
            )
        )
        pair.meetings.append(PairMeeting(number=2, due_at=NOW + timedelta(days=3)))
        db.session.flush()
        return pair


@pytest.fixture
def world(frozen, make_org, make_user, make_event, make_registration) -> World:
    """The world of the module docstring, the clock at ``NOW``."""
    return World(make_org, make_user, make_event, make_registration)


def signed_in(app, email: str, password: str = PASSWORD):
    """A browser signed in as ``email``."""
    browser = app.test_client()
    resp = Auth(browser).login(email, password)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return browser


def figures(*orgs) -> list:
    """The insights counts of each organization over the last year: the funnel,
    the events (the quotes are words, not counts) and the meetings."""
    flt = InsightFilter(start=date(2025, 6, 1), end=NOW.date())
    out = []
    for org in orgs:
        d = dashboard(org, flt)
        events = {k: v for k, v in vars(d.events).items() if k != "testimonials"}
        out.append((d.funnel, events, d.silos.total))
    return out


def everything_text() -> str:
    """Every text column of the tables that hold people's words, in one string."""
    rows = [
        *db.session.scalars(select(ConnectionNote.body)),
        *db.session.scalars(select(FollowupPrompt.comment)),
        *db.session.scalars(select(FollowupPrompt.reflection)),
        *(json.dumps(n) for n in db.session.scalars(select(PairMeeting.notes))),
        *db.session.scalars(select(PairFeedback.helped)),
        *db.session.scalars(select(Ask.note)),
        *db.session.scalars(select(recognition.Testimonial.body)),
        *db.session.scalars(select(Award.citation)),
        *db.session.scalars(select(User.bio)),
        *db.session.scalars(select(SpeakerProfile.bio)),
        *db.session.scalars(select(Registration.dietary)),
        *db.session.scalars(select(Registration.name)),
        *db.session.scalars(select(Registration.email)),
        *db.session.scalars(select(OutboxMessage.to_addr)),
        *db.session.scalars(select(AuditEntry.summary)),
        *db.session.scalars(select(AuditEntry.actor_name)),
        *(json.dumps(d) for d in db.session.scalars(select(AuditEntry.details))),
    ]
    return "\n".join(r for r in rows if r)


def test_the_export_holds_exactly_her_data_and_files(app, world):
    browser = signed_in(app, "ada@example.org")
    assert "Your data" in browser.get("/profile").get_data(as_text=True)
    resp = browser.get("/profile/data/export.zip")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert resp.headers["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(resp.data))
    material = db.session.scalar(
        select(Material.id).where(Material.uploaded_by_id == world.ada.id)
    )
    assert sorted(archive.namelist()) == [
        "data.json",
        f"files/beta/material-{material}-slides.pdf",
        "files/speaker-photo",
    ]
    assert archive.read(f"files/beta/material-{material}-slides.pdf") == b"ADA-SLIDES"
    assert archive.read("files/speaker-photo") == b"ADA-PHOTO"
    raw = archive.read("data.json").decode()
    for text in ADA_TEXT:
        assert text in raw, text
    for text in OTHERS_TEXT:  # their private words stay theirs
        assert text not in raw, text
    data = json.loads(raw)
    assert datetime.fromisoformat(data["exported_at"]) == NOW
    assert data["account"]["email"] == "ada@example.org"
    assert len(data["sign_ins"]) == 1 and data["sign_ins"][0]["revoked_at"] is None
    assert [(i["issuer"], i["subject"]) for i in data["sso_identities"]] == [
        ("https://id.acme.test", "ada-7")
    ]
    acme, beta = data["organizations"]
    assert acme["organization"] == {"slug": "acme", "name": "Acme"}
    assert acme["membership"]["department"] == "Eng"
    assert beta["membership"] == beta["membership"] | {"role": "speaker", "level": 4}
    [reg] = acme["registrations"]
    assert reg["dietary"] == "vegan-ada" and reg["seeks"] == ["go"]
    assert datetime.fromisoformat(reg["event"]["starts_at"]) == STARTED
    assert sorted((c["met"], c["my_note"]) for c in acme["connections"]) == [
        ("Bob Babbage", "ADA-NOTE"),
        ("Cleo", None),
    ]
    [answers] = acme["followup"]
    assert answers["my_choices"] == [{"person": "Bob Babbage", "choice": "mentor"}]
    [pair] = acme["pairs"]
    assert (pair["with"], pair["my_role"]) == ("Bob Babbage", "mentee")
    assert [m["my_note"] for m in pair["meetings"]] == ["ADA-PAIR-NOTE", None]
    assert pair["my_feedback"]["helped"] == "ADA-HELPED"
    assert [t["words"] for t in acme["testimonials"]] == ["ADA-TESTIMONIAL"]
    assert [a["citation"] for a in acme["awards"]] == ["ADA-CITATION"]
    assert {r["name"] for r in beta["registrations"]} == {"Ada Lovelace", "Ada L."}
    assert [a["note"] for a in beta["asks"]] == ["ADA-ASK-NOTE"]
    assert [m["title"] for m in beta["material"]] == ["ada slides"]
    assert "Bob Babbage" not in json.dumps(beta)
    # Someone else's export knows nothing of Ada's private words.
    bob = (
        zipfile.ZipFile(
            io.BytesIO(
                signed_in(app, world.bob.email).get("/profile/data/export.zip").data
            )
        )
        .read("data.json")
        .decode()
    )
    assert "BOB-NOTE" in bob and "BOB-PAIR-NOTE" in bob
    assert not [t for t in ADA_TEXT if t in bob]


def test_erasing_her_account_removes_her_and_keeps_every_count(app, world):
    before = figures(world.acme, world.beta)
    badges = {world.regs[k].badge_token for k in ("ada1", "ada2", "guest")}
    browser = signed_in(app, "ada@example.org")
    page = browser.get("/profile/data").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "confirm": "y"}
    wrong = browser.post("/profile/data/erase", data={**form, "password": "nope"})
    assert wrong.status_code == 400
    assert "That is not your password." in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, world.ada.id).name == "Ada Lovelace"

    resp = browser.post("/profile/data/erase", data={**form, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    db.session.expire_all()
    ada = db.session.get(User, world.ada.id)
    assert (ada.name, ada.email) == (
        "Former member",
        f"erased-u{ada.id}@erased.invalid",
    )
    assert (ada.password_hash, ada.bio, ada.offers, ada.is_active_account) == (
        None,
        None,
        [],
        False,
    )
    text = everything_text()
    assert not [t for t in ADA_TEXT if t in text]
    assert "Ada" not in text and "ada@example.org" not in text
    # The others' words are theirs, and stay (Bob's note, beside "Former member").
    assert all(t in text for t in ["BOB-NOTE", "BOB-COMMENT", "BOB-PAIR-NOTE"])
    mine = [
        r
        for r in db.session.scalars(select(Registration))
        if r.id in {world.regs[k].id for k in ("ada1", "ada2", "guest")}
    ]
    assert {(r.name, r.dietary, r.level, tuple(r.seeks)) for r in mine} == {
        ("Former member", None, None, ())
    }
    assert {r.badge_token for r in mine}.isdisjoint(badges)  # old QR codes dead
    assert [r.department for r in mine if r.id == world.regs["ada1"].id] == ["Eng"]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.user_id == ada.id)
        )
        == 0
    )
    # Webhook deliveries naming her are gone; Bob's is not.
    bodies = db.session.scalars(select(WebhookDelivery.body)).all()
    assert [json.loads(b)["data"]["email"] for b in bodies] == [world.bob.email]
    # Gone with the rest, so her company account could sign up afresh.
    for model in (SignIn, ApiToken, SpeakerProfile, SsoIdentity):
        assert (
            db.session.scalar(
                select(func.count()).select_from(model).where(model.user_id == ada.id)
            )
            == 0
        )
    assert (
        db.session.scalar(select(func.count()).select_from(recognition.Testimonial))
        == 0
    )
    assert db.session.scalar(select(Material.uploaded_by_id)) == world.dan.id
    uploads = get_storage()
    assert not uploads.store.exists(uploads.name(world.keys["ada"]))
    assert not uploads.store.exists(uploads.name(world.keys["photo"]))
    assert uploads.store.exists(uploads.name(world.keys["dan"]))
    waiting = db.session.scalars(select(OutboxMessage.to_addr)).all()
    assert world.bob.email in waiting and "ada@example.org" not in waiting
    # Counts, ratings and choices stay: every figure is what it was.
    assert db.session.scalar(select(func.count()).select_from(FollowupChoice)) == 2
    assert (
        db.session.scalar(
            select(FollowupPrompt.rating).where(
                FollowupPrompt.registration_id == world.regs["ada1"].id
            )
        )
        == 5
    )
    assert figures(world.acme, world.beta) == before
    assert tallies.check() == {}
    # Bob's pair is closed, with "Former member" on his side of it.
    pair = db.session.get(Pair, world.pair.id)
    assert pair.status == "closed"
    bob_page = signed_in(app, world.bob.email).get(f"/pairs/{pair.id}")
    assert "Former member" in bob_page.get_data(as_text=True)
    assert "Ada" not in bob_page.get_data(as_text=True)
    # She is signed out, and cannot sign in again, by password or link.
    assert browser.get("/profile").status_code == 302
    refused = Auth(browser).login("ada@example.org")
    assert refused.status_code == 422
    assert "do not match" in refused.get_data(as_text=True)
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "person.erased")
    ).all()
    assert sorted(e.org_id for e in entries) == sorted([world.acme.id, world.beta.id])
    assert {e.subject_id for e in entries} == {ada.id}


def test_an_admin_erases_a_member_in_her_organization_only(app, world):
    url = f"/o/acme/members/{world.ada.membership_in(world.acme).id}/erase"
    assert signed_in(app, world.bob.email).get(url).status_code == 403
    assert signed_in(app, world.ben.email).get(url).status_code == 404
    admin = signed_in(app, world.ann.email)
    page = admin.get(url).get_data(as_text=True)
    assert "Erase Ada Lovelace" in page
    assert admin.post(url, data={"confirm": "y"}).status_code == 400  # no CSRF token
    assert db.session.get(Membership, world.ada.membership_in(world.acme).id)
    own = f"/o/acme/members/{world.ann.membership_in(world.acme).id}/erase"
    refused = admin.post(own, data={"csrf_token": csrf_from(page), "confirm": "y"})
    assert refused.status_code == 409
    resp = admin.post(url, data={"csrf_token": csrf_from(page), "confirm": "y"})
    assert resp.status_code == 302
    db.session.expire_all()
    ada = db.session.get(User, world.ada.id)
    # Her account and Beta are hers and untouched; Acme keeps only counts.
    assert (ada.name, ada.email, ada.bio) == (
        "Ada Lovelace",
        "ada@example.org",
        "ADA-BIO",
    )
    assert [m.org.slug for m in ada.memberships] == ["beta"]
    assert db.session.get(Registration, world.regs["ada1"].id).name == "Former member"
    assert db.session.get(Registration, world.regs["ada2"].id).name == "Ada Lovelace"
    text = everything_text()
    gone = [
        "ADA-NOTE",
        "ADA-COMMENT",
        "ADA-PAIR-NOTE",
        "ADA-HELPED",
        "ADA-TESTIMONIAL",
        "ADA-CITATION",
        "vegan-ada",
    ]
    assert not [t for t in gone if t in text]
    assert "ADA-ASK-NOTE" in text  # Beta's
    assert (
        db.session.scalar(
            select(Material.title).where(Material.uploaded_by_id == ada.id)
        )
        == "ada slides"
    )
    assert signed_in(app, "ada@example.org").get("/profile").status_code == 200
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "person.erased")
    )
    assert (entry.org_id, entry.actor_id) == (world.acme.id, world.ann.id)
    assert "Ada" not in entry.summary and "ada@" not in json.dumps(entry.details)
    # Acme's trail forgets her name and address (its member.removed named her).
    acme_trail = db.session.scalars(
        select(AuditEntry.summary).where(AuditEntry.org_id == world.acme.id)
    ).all()
    assert "Removed a former member (a former member) from the organization" in (
        acme_trail
    )
    assert not [t for t in acme_trail if "Ada Lovelace" in t or "ada@ex" in t]
    assert tallies.check() == {}


def test_retention_removes_old_details_once_and_keeps_the_figures(
    app, world, make_event, make_registration
):
    # An old Acme event, 25 months ago, with a guest's note and answer.
    clock.freeze(NOW - timedelta(days=800))
    old = make_event(world.acme, starts_at=NOW - timedelta(days=770))
    old_regs = [
        make_registration(old, email=f"old{i}@example.org", name=f"Old Guest {i}")
        for i in range(2)
    ]
    clock.freeze(NOW)
    connection = Connection(
        event_id=old.id, a_id=old_regs[0].id, b_id=old_regs[1].id, source="scan"
    )
    connection.notes.append(ConnectionNote(author_id=old_regs[0].id, body="OLD-NOTE"))
    db.session.add_all(
        [
            connection,
            FollowupPrompt(
                event_id=old.id,
                registration_id=old_regs[0].id,
                rating=2,
                comment="OLD-COMMENT",
                answered_at=old.ends_at,
            ),
        ]
    )
    db.session.commit()
    flt_old = InsightFilter(start=date(2023, 1, 1), end=NOW.date())
    before = [dashboard(world.acme, flt_old).funnel, figures(world.acme, world.beta)]

    admin = signed_in(app, world.ann.email)
    page = admin.get("/o/acme/settings/privacy").get_data(as_text=True)
    assert "24 months" in page
    token = csrf_from(page)
    bad = admin.post(
        "/o/acme/settings/privacy", data={"csrf_token": token, "months": "121"}
    )
    assert bad.status_code == 422 and "from 0 (keep) to 120" in bad.get_data(
        as_text=True
    )
    assert (
        admin.post(
            "/o/acme/settings/privacy", data={"csrf_token": token, "months": "12"}
        ).status_code
        == 302
    )
    [changed] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "retention.changed")
    )
    assert changed.details == {"months": 12, "was": 24}
    assert retention.settings_of(world.beta).retention_months == 24  # untouched
    # The daily run is on the queue; run it as the worker would (tomorrow 03:00).
    [job] = db.session.scalars(select(Job).where(Job.kind == retention.RETENTION_JOB))
    assert job.run_at == datetime.combine(
        NOW.date() + timedelta(days=1), retention.RUN_AT, NOW.tzinfo
    )
    # Only this job runs: the world's own (follow-up prompts, pair ticks) would
    # change the figures on their own.
    db.session.execute(
        update(Job).where(Job.id != job.id).values(status=JobStatus.CANCELLED)
    )
    db.session.commit()
    clock.freeze(job.run_at)
    run_due()
    clock.freeze(NOW)  # figures of "now" (pairs' ages) compared at one instant
    db.session.refresh(job)
    assert (job.status, job.result["events"], job.result["notes"]) == ("done", 1, 1)

    db.session.expire_all()
    assert [
        r.name
        for r in db.session.scalars(
            select(Registration).where(Registration.event_id == old.id)
        )
    ] == ["Details removed"] * 2
    assert (
        "OLD-NOTE" not in everything_text() and "OLD-COMMENT" not in everything_text()
    )
    assert (
        db.session.scalar(
            select(FollowupPrompt.rating).where(FollowupPrompt.event_id == old.id)
        )
        == 2
    )
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Connection)
            .where(Connection.event_id == old.id)
        )
        == 1
    )
    # Three weeks old: kept, words and all.
    assert "ADA-NOTE" in everything_text() and "ADA-COMMENT" in everything_text()
    assert db.session.get(Registration, world.regs["ada1"].id).dietary == "vegan-ada"
    assert [
        dashboard(world.acme, flt_old).funnel,
        figures(world.acme, world.beta),
    ] == before
    # Again: nothing more to do, nothing changes; tomorrow's run is planned.
    snapshot = everything_text()
    assert retention.apply_retention() == {
        "events": 0,
        "registrations": 0,
        "notes": 0,
        "answers": 0,
        "more": False,
    }
    assert everything_text() == snapshot
    assert db.session.scalar(select(func.count()).select_from(EventRetention)) == 1
    pending = db.session.scalars(
        select(Job.run_at).where(
            Job.kind == retention.RETENTION_JOB, Job.status == JobStatus.PENDING
        )
    ).all()
    assert pending == [job.run_at + timedelta(days=1)]
