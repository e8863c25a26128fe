"""Who may use each route: a matrix generated from the app's URL map.

Every route (every method, static files aside) is asked by anonymous, a member,
a door helper (a member who may scan the event's badges, ``DoorHelper``), a
speaker, an organizer and an admin of Acme, and by an admin of another
organization, with the ids of Acme's real objects in its URL. ``EXPECTED`` says
who the route is for; a route without an entry fails the test, telling its
author to add one. A door helper is a member: every route for members is for
them too (``at_least("member")``), and the door's routes (``DOOR``) besides.

What an answer must be (``_verdict``):
- for whom the route is: anything but 401, 403, 404, a redirect to the sign-in
  page or a 5xx (a refusal of the empty form, 400/409/410, is fine: the route
  was let in);
- for a signed-in person it is not for: 403 or 404 (another organization's
  admin: 404, and never a byte of Acme's data, ``SECRET``);
- for anonymous visitors: a redirect to the sign-in page, 401 (API) or 404;
- nobody, ever: a 5xx. Every answer names at most one ``charset``.

POSTs carry empty forms (``BODIES`` names the few that need more to reach the
door) with CSRF checks off; after each request that was let in to change
something, the database and uploads are put back as they were, so every request
sees the same world. ``MATRIX_OBSERVE=1`` asks routes without an entry too and
writes every answer to /tmp/matrix_observed.txt: a start for a new entry.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from werkzeug.routing import Rule as WerkzeugRule

from mixer import clock
from mixer.accounts import sign_ins
from mixer.accounts.models import ApiToken
from mixer.asks.services import create_ask
from mixer.badges.services import batch_for, schedule_batch
from mixer.checkin.door import create_link
from mixer.checkin.models import DoorHelper
from mixer.checkin.services import check_in
from mixer.events.feeds import feed_for
from mixer.extensions import db
from mixer.mail.models import OutboxMessage
from mixer.orgs.services import invite_member
from mixer.pairs.lifecycle import create_pair
from mixer.printouts.services import schedule as schedule_printout
from mixer.rotations.pdf import SCHEDULE, drawing
from mixer.rotations.services import Settings, create_plan, plan_for
from mixer.slots.models import SlotBooking, SlotOffer
from mixer.speakers.material import upload_material
from mixer.speakers.services import add_speaker
from mixer.webhooks.services import create_endpoint, ping
from tests.helpers import PASSWORD

SECRET = "Zanzibar"  # in the names of Acme's things; never shown to outsiders
ACTORS = ("anonymous", "member", "door", "speaker", "organizer", "admin", "other")
RANK = {"member": 0, "speaker": 1, "organizer": 2, "admin": 3}
# A door helper is a member of Acme with the door of the world's event.
MEMBERS_TOO = {"door"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Access:
    """Who a route is for: the ``allowed`` actors; ``api`` routes take tokens;
    ``link`` routes are e-mailed or printed links, asked with test tokens, whose
    own tests check their answers (here: no 5xx, nothing of Acme's shown)."""

    allowed: frozenset[str]
    api: bool = False
    link: bool = False


def at_least(role: str, api: bool = False, *, own_org: bool = False) -> Access:
    """Acme's people of ``role`` or higher; ``own_org``: a collection the other
    organization's admin reads or adds to in their own organization."""
    allowed = {r for r in RANK if RANK[r] >= RANK[role]} | (
        {"other"} if own_org else set()
    )
    if role == "member":
        allowed |= MEMBERS_TOO
    return Access(frozenset(allowed), api)


def only(*actors: str, api: bool = False) -> Access:
    """These actors alone (the owner of a personal page, an event's speaker…)."""
    return Access(frozenset(actors), api)


PUBLIC = Access(frozenset(ACTORS))  # anyone, signed in or not
LINK = Access(frozenset(ACTORS), link=True)
SIGNED_IN = Access(frozenset(ACTORS) - {"anonymous"})  # anyone with an account
MEMBER, SPEAKER = at_least("member"), at_least("speaker")
ORGANIZER, ADMIN = at_least("organizer"), at_least("admin")
DOOR = Access(ORGANIZER.allowed | {"door"})  # the scan page and its endpoints
API_ANY = at_least("member", True, own_org=True)  # any token, in its own org
API_MEMBER, API_SPEAKER = at_least("member", True), at_least("speaker", True)
API_ORGANIZER = at_least("organizer", True)
API_ORGANIZER_LIST = at_least("organizer", True, own_org=True)
# Routes after which the person's browser is signed out (the restored world has
# their sign-in again, but the cookie is gone): they sign in again.
SIGN_OUT_PATHS = {"/profile/sign-ins/end-all"}
SIGNS_OUT = {
    "accounts.logout",
    "accounts.sign_out_everywhere",
    "accounts.change_password",
}
NOBODY_HERE = only()  # the world holds nothing this route may act on (see entry)

EXPECTED: dict[str, Access] = {
    # accounts: signing in, one's profile and tokens
    "accounts.login": PUBLIC,
    "accounts.logout": PUBLIC,  # signing out when signed out changes nothing
    "accounts.forgot_password": PUBLIC,
    "accounts.reset_password": LINK,
    "accounts.magic": LINK,
    "accounts.unsubscribe": LINK,
    "accounts.profile": SIGNED_IN,
    "accounts.change_password": SIGNED_IN,
    "accounts.change_language": SIGNED_IN,
    "accounts.sign_out_everywhere": SIGNED_IN,
    "accounts.end_sign_in": only("member"),  # one of the member's other browsers
    "accounts.create_token": SIGNED_IN,
    "accounts.revoke_token": only("member"),  # the member's own token
    "accounts_api.tokens": API_ANY,
    # free/busy: one's own calendar feed (the pages take no one's id)
    "freebusy.calendar": SIGNED_IN,
    "freebusy.refresh": SIGNED_IN,
    "freebusy.remove": SIGNED_IN,
    "accounts_api.rename_token": only("member", api=True),
    "accounts_api.revoke_token": only("member", api=True),
    "api.root": API_ANY,
    "api-docs.openapi_json": PUBLIC,
    "api_docs.docs": PUBLIC,
    "main.index": PUBLIC,
    "main.healthz": PUBLIC,
    # Readiness: anyone (a load balancer); /metrics: nobody until METRICS_TOKEN
    # or METRICS_ALLOW is set (404 for all here; tests/observability has the rest).
    "observability.readyz": PUBLIC,
    "observability.metrics_text": only(),
    # organizations
    "orgs.home": MEMBER,
    "orgs.members": ORGANIZER,  # organizers read the table; admins change it
    "orgs.edit_member": ADMIN,
    "orgs.change_role": ADMIN,
    "orgs.remove_member": ADMIN,
    "orgs.import_members": ADMIN,
    "orgs.invite": ADMIN,
    "orgs.resend_invitation": ADMIN,
    "orgs.revoke_invitation": ADMIN,
    "orgs.accept_invitation": LINK,
    "orgs.add_department": ADMIN,
    "orgs.rename_department": ADMIN,
    "orgs.settings": ADMIN,
    "orgs.language": ADMIN,
    # data rights: one's own data (everyone has some), an admin's erasure and
    # retention setting (an empty form is refused: let in, nothing erased)
    "privacy.my_data": SIGNED_IN,
    "privacy.download": SIGNED_IN,
    "privacy.erase_account": SIGNED_IN,
    "privacy.erase_member": ADMIN,
    "privacy.settings": ADMIN,
    "orgs_api.organization": API_ANY,
    "orgs_api.departments": API_ANY,
    "orgs_api.members": API_ANY,
    "orgs_api.member": API_MEMBER,
    # Admins change anyone's details; a member only their own mentoring fields
    # (the victim is another member: 403 for them).
    "orgs_api.update_member_details": only("admin", api=True),
    "outbox.show": ADMIN,
    "outbox.retry": ADMIN,
    "outbox.retry_all": ADMIN,
    "outbox.retry_job_now": ADMIN,
    "audit.index": ADMIN,  # the audit trail (read only)
    # events
    "events.index": MEMBER,
    "events.mine": MEMBER,
    "events.manage": ORGANIZER,
    "events.create": ORGANIZER,
    "events.reset_feeds": MEMBER,
    "events.feed": LINK,
    "events.show": MEMBER,
    "events.calendar": MEMBER,
    "events.register": MEMBER,
    "events.cancel_mine": MEMBER,
    "events.register_guest": NOBODY_HERE,  # guests of link-shared events only
    "events.confirm_guest": LINK,
    "events.cancel_link": LINK,
    "events.dashboard": ORGANIZER,
    "events.edit": ORGANIZER,
    "events.publish": ORGANIZER,
    "events.duplicate": ORGANIZER,
    "events.repeat": ORGANIZER,
    "events.cancel_event": ORGANIZER,
    "events.catering": ORGANIZER,
    "events.attendees": ORGANIZER,
    "events.attendees_csv": ORGANIZER,
    "events.move_attendee": ORGANIZER,
    "events.remove_attendee": ORGANIZER,
    "events_api.list_events": API_ANY,
    "events_api.get_event": API_MEMBER,
    "events_api.create_event": API_ORGANIZER_LIST,
    "events_api.update_event": API_ORGANIZER,
    "events_api.register": API_ORGANIZER,
    "events_api.registrations": API_ORGANIZER,
    "events_api.cancel_registration": API_ORGANIZER,
    # badges and check-in
    "badges.attendee_badge": only("member", "organizer", "admin"),  # her badge
    "badges.batch": ORGANIZER,
    "badges.batch_status": ORGANIZER,
    "badges.batch_progress": ORGANIZER,
    "checkin.badge": LINK,  # a printed badge: what the scanner may see
    "checkin.badge_check_in": ORGANIZER,
    "checkin.badge_undo": ORGANIZER,
    "checkin.badge_note": only("member"),  # attendees who met the badge's owner
    "checkin.badge_sign_in": LINK,  # a signed-out visitor asks for a sign-in link
    "checkin.scan": DOOR,
    "checkin.scan_search": DOOR,
    "checkin.scan_check_in": DOOR,
    "checkin.scan_undo": DOOR,  # the door helper made that check-in
    "checkin.scan_walk_in": DOOR,
    "checkin.scan_roster": DOOR,
    "checkin.scan_seat": ORGANIZER,
    "checkin.live_count": DOOR,
    # The same static script for any id: only its scope header names the event.
    "checkin.scan_service_worker": PUBLIC,
    "checkin.door": LINK,  # a door link (a QR code on the dashboard)
    "checkin.add_door_helper": ORGANIZER,
    "checkin.remove_door_helper": ORGANIZER,
    "checkin.add_door_link": ORGANIZER,
    "checkin.revoke_door_link": ORGANIZER,
    "checkin.reissue_door_link": ORGANIZER,
    "checkin_api.check_in": API_ORGANIZER,
    "checkin_api.undo": API_ORGANIZER,
    # speakers
    "speakers.manage": ORGANIZER,
    "speakers.add": ORGANIZER,
    "speakers.invite": ORGANIZER,
    "speakers.remove": ORGANIZER,
    "speakers.accept": LINK,
    "speakers.mine": SPEAKER,  # the event's speakers and organizers
    "speakers.save_profile": SPEAKER,
    "speakers.save_photo": SPEAKER,
    "speakers.save_session": SPEAKER,
    "speakers.upload": SPEAKER,
    "speakers.add_link": SPEAKER,
    # Attendees-only material: the member is registered, the door helper not.
    "speakers.download": only("member", "speaker", "organizer", "admin"),
    "speakers.hide": ORGANIZER,
    "speakers.delete": ORGANIZER,  # the uploader (an organizer) and organizers
    "speakers.photo": LINK,  # a random key printed on event pages
    "speakers_api.list_materials": API_MEMBER,
    "speakers_api.upload_material": API_SPEAKER,
    "speakers_api.delete_material": API_ORGANIZER,
    # rotations
    "rotations.plan": ORGANIZER,
    "rotations.replan": ORGANIZER,
    "rotations.next_round": ORGANIZER,
    "rotations.pause": ORGANIZER,
    "rotations.resume": ORGANIZER,
    "rotations.left": ORGANIZER,
    "rotations.projector": ORGANIZER,
    "rotations.state": ORGANIZER,
    "rotations.cards_pdf": ORGANIZER,
    "rotations.schedule_pdf": ORGANIZER,
    "rotations.printout_progress": ORGANIZER,
    "rotations.printout_status": ORGANIZER,
    "rotations.me": only("member"),  # people in the room
    "rotations.me_json": only("member"),
    "rotations.note": only("member"),
    "rotations_api.create_rotations": API_ORGANIZER,
    "rotations_api.get_rotations": API_ORGANIZER,
    "rotations_api.replan_rotations": API_ORGANIZER,
    # after the event
    "followup.mine": SIGNED_IN,
    "followup.prompt": only("member"),  # her prompt
    "followup.answer": LINK,
    "followup.thanks": PUBLIC,
    "followup.results": ORGANIZER,
    "followup.close": ORGANIZER,
    "followup_api.close_event": API_ORGANIZER,
    # pairs and asks
    "pairs.mine": SIGNED_IN,
    "pairs.show": only("member"),  # the two people of the pair
    "pairs.change": only("member"),
    "pairs.cadence": only("member"),
    "pairs.log": only("member"),
    "pairs.feedback": only("member"),
    "pairs.meeting_link": LINK,
    "pairs.feedback_link": LINK,
    "pairs.standing_link": LINK,
    "pairs.overview": ORGANIZER,
    "pairs_api.list_pairs": API_ORGANIZER_LIST,
    "pairs_api.get_pair": API_ORGANIZER,
    "asks.index": SIGNED_IN,
    "asks.new": MEMBER,
    "asks.show": only("member"),  # the asker
    "asks.pick": only("member"),
    "asks.topic": only("member"),
    "asks.refresh": only("member"),
    "asks.withdraw": only("member"),
    "asks.organizers": only("member"),
    "asks.answer_inbox": SIGNED_IN,  # the service checks the candidate
    "asks.answer_link": LINK,
    # five-minute slots (the member hosts the world's offer; the mentor booked it)
    "slots.find": MEMBER,
    "slots.book": MEMBER,  # an empty form: the page again, with its errors
    "slots.week": MEMBER,
    "slots.new_offer": MEMBER,
    "slots.edit_offer": only("member"),  # the host
    "slots.delete_offer": only("member"),
    "slots.cancel": only("member"),  # host or guest
    "slots.move": only("member"),
    "slots.keep": only("member"),
    "slots.helped": NOBODY_HERE,  # the guest alone: the mentor, no actor here
    "slots.helped_link": LINK,
    # recognition
    "recognition.awards": MEMBER,
    "recognition.award": NOBODY_HERE,  # no award is published in this world
    "recognition.certificate": NOBODY_HERE,
    "recognition.recognition": ORGANIZER,
    "recognition.save_draft": ORGANIZER,
    "recognition.publish": ORGANIZER,
    "recognition.unpublish": ADMIN,
    "recognition.testimonials": ORGANIZER,
    "recognition.moderate": NOBODY_HERE,  # no testimonial in this world
    # insights
    "insights.dashboard": ORGANIZER,
    "insights.export": ORGANIZER,
    "insights.event_report": ORGANIZER,  # 409 while the world's event is ahead
    "insights.programme_report": ORGANIZER,
    "insights.refresh": ORGANIZER,  # counts the default filter again
    "insights_api.insights": API_ORGANIZER_LIST,  # each token its own org's
    # webhooks
    "webhooks.index": ADMIN,
    "webhooks.show": ADMIN,
    "webhooks.rotate": ADMIN,
    "webhooks.ping": ADMIN,
    "webhooks.delete": ADMIN,
    "webhooks.redeliver": ADMIN,
    # single sign-on (no organization of this world has set it up: the sign-in
    # and its callback answer 404 to everyone; tests/sso test them for real)
    "sso.find": PUBLIC,
    "sso.login": NOBODY_HERE,
    "sso.callback": NOBODY_HERE,
    "sso.settings": ADMIN,
    # the mentoring charter: every member reads and acknowledges it, admins write it
    "charter.show": MEMBER,
    "charter.ack": MEMBER,
    "charter.edit": ADMIN,
    # schools' check-in lists: Acme is a company, so 404 for everyone (saying
    # why); tests/roster prove who may use them in a school
    "roster.index": NOBODY_HERE,
    "roster.create_list": NOBODY_HERE,
    "roster.edit_list": NOBODY_HERE,
    "roster.add_students": NOBODY_HERE,
    "roster.delete_list": NOBODY_HERE,
    "roster.remove_student": NOBODY_HERE,
    "roster.check_in": NOBODY_HERE,
    "roster.student": NOBODY_HERE,
    "roster.mentors": NOBODY_HERE,
}
# What some routes are asked with, so that the allowed get past the door: a
# query string, or a body.
QUERY = {
    "badges.batch_progress": "job={job_id}",
    "insights.export": "event={event_id}",  # its attendees, as an XLSX
}
BODIES = {
    "accounts_api.rename_token": {"json": {"name": "Renamed"}},
    "checkin_api.check_in": {"json": {"token": "{badge}"}},
    "checkin.scan_check_in": {"json": {"registration_id": "{registration_id}"}},
    "checkin.scan_walk_in": {"json": {"name": "Walter In"}},
    "checkin.scan_seat": {"json": {"over_capacity": True}},
    "events_api.register": {"json": {"name": "New", "email": "new@example.org"}},
    "events_api.update_event": {"json": {}},
    "orgs_api.update_member_details": {"json": {"location": "Head office"}},
    "speakers_api.upload_material": {"file": True},
}

OBSERVE = bool(__import__("os").environ.get("MATRIX_OBSERVE"))
OBSERVED: dict = {}


@pytest.fixture
def app_config(app_config):
    """The test configuration with CSRF checks off (empty forms are posted), and
    readiness without the job worker check (no worker runs here: its 503 is
    tested in tests/observability)."""
    return {**app_config, "WTF_CSRF_ENABLED": False, "READY_WORKER_SECONDS": 0}


# ---------------------------------------------------------------------------
# The world every request is asked in


@dataclass
class World:
    values: dict[str, object]  # URL argument → the id (or text) to put in it
    badge: str
    feed: str
    tokens: dict[str, str]  # actor → API token
    emails: dict[str, str]  # actor → e-mail to sign in with


def _world(make_org, make_user, make_event, make_registration, token_for) -> World:
    """Acme with one of everything a route can name; an admin of Elsewhere."""
    from mixer.followup.models import FollowupPrompt

    acme = make_org(slug="acme", name=f"Acme {SECRET}")
    people = {
        role: make_user(acme, role=role, name=f"{role.title()} {SECRET}")
        for role in RANK
    }
    people["door"] = make_user(acme, name=f"Door {SECRET}")
    victim = make_user(acme, name=f"Victim {SECRET}", department=f"Dept {SECRET}")
    mentor = make_user(acme, name=f"Mentor {SECRET}", offers=["negotiation"])
    elsewhere = make_org(slug="elsewhere", name="Elsewhere")
    people["other"] = make_user(elsewhere, role="admin", name="Oscar Outsider")
    now = clock.now().replace(microsecond=0)
    event = make_event(
        acme,
        people["organizer"],
        kind="mentor_mixer",
        title=f"Mixer {SECRET}",
        rounds=3,
        minutes_per_round=5,
        starts_at=now - timedelta(minutes=10),
    )
    regs = [
        make_registration(event, email=people["member"].email, name=f"M {SECRET}"),
        *(make_registration(event, name=f"Guest {n} {SECRET}") for n in range(3)),
    ]
    db.session.add(DoorHelper(event_id=event.id, user_id=people["door"].id))
    db.session.flush()
    helper = db.session.scalar(select(DoorHelper))
    link = create_link(event, f"Front desk {SECRET}", people["organizer"])
    for reg in regs:  # the member's by the door helper (who may undo it)
        check_in(reg, by_user_id=people["door"].id if reg is regs[0] else None)
    create_plan(event, Settings(rounds=2, minutes=5))
    session = event.sessions[0]
    add_speaker(session, people["speaker"])
    item = upload_material(
        event, people["organizer"], io.BytesIO(f"{SECRET}\n".encode()), "notes.txt"
    )
    pair = create_pair(acme, people["member"], mentor, kind="mentoring", mentor=mentor)
    ask = create_ask(acme, people["member"], "negotiation", note=SECRET)
    invitation = invite_member(acme, "newcomer@acme.example.org")
    job = schedule_batch(batch_for(event, None))
    schedule_pdf = drawing(event, plan_for(event), SCHEDULE).printout
    printout_job = schedule_printout(schedule_pdf, {"kind": SCHEDULE})
    past = make_event(acme, people["organizer"], title=f"Past {SECRET}")
    past_reg = make_registration(past, email=people["member"].email, name="M")
    past.starts_at, past.ends_at = (
        now - timedelta(days=3),
        now - timedelta(days=3, hours=-1),
    )
    prompt = FollowupPrompt(
        event_id=past.id, registration_id=past_reg.id, user_id=people["member"].id
    )
    db.session.add(prompt)
    db.session.flush()
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.org_id == acme.id)
    )
    suggestion = ask.suggestions[0] if ask.suggestions else None
    tokens = {
        actor: token_for(user, user.memberships[0].org)
        for actor, user in people.items()
    }
    feed = feed_for(people["member"], acme)
    other_browser = sign_ins.start(people["member"], remember=False)
    endpoint, _ = create_endpoint(
        acme,
        "https://93.184.215.14/mixer",  # a public address: no name to resolve
        ["registration.created"],
        description=f"Hooks {SECRET}",
    )
    hook_delivery = ping(endpoint)
    offer = SlotOffer(
        org_id=acme.id,
        host_id=people["member"].id,
        kind="weekly",
        weekdays="1,2,3,4,5",
        start_time=time(12, 30),
        end_time=time(12, 50),
        timezone="UTC",
        place=f"Room {SECRET}",
        topics=["negotiation"],
    )
    db.session.add(offer)
    db.session.flush()
    slot_booking = SlotBooking(
        offer_id=offer.id,
        org_id=acme.id,
        host_id=people["member"].id,
        guest_id=mentor.id,
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, minutes=5),
        about=SECRET,
        ics_uid=f"slot-world-{SECRET}",
    )
    db.session.add(slot_booking)
    db.session.commit()
    return World(
        values={
            "slug": "acme",
            "event_id": event.id,
            "registration_id": regs[0].id,
            "session_id": session.id,
            "material_id": item.id,
            "membership_id": victim.membership_in(acme).id,
            "member_id": victim.membership_in(acme).id,
            "dept_id": victim.membership_in(acme).department_id,
            "pair_id": pair.id,
            "offer_id": offer.id,
            "booking_id": slot_booking.id,
            "ask_id": ask.id,
            "suggestion_id": suggestion.id if suggestion else 1,
            "invitation_id": invitation.id,
            "job_id": job.id,
            "printout_id": printout_job.id,
            "message_id": message.id,
            "prompt_id": prompt.id,
            "sign_in_id": other_browser.id,
            "testimonial_id": 1,
            "token_id": db.session.scalar(select(func.min(ApiToken.id))),
            "helper_id": helper.id,
            "endpoint_id": endpoint.id,
            "delivery_id": hook_delivery.id,
            "link_id": link.id,
            "list_id": 1,  # check-in lists: none in a company (404 for all)
            "entry_id": 1,
            "month": (now - timedelta(days=40)).strftime("%Y-%m"),
            "action": "pause",
            "token": "not-a-real-token",
            "key": "nothing.png",
            "dataset": "attendees",
            "fmt": "xlsx",
        },
        badge=regs[1].badge_token,  # a guest's: the member met her
        feed=feed.token,
        tokens=tokens,
        emails={actor: user.email for actor, user in people.items()},
    )


# ---------------------------------------------------------------------------
# Putting the world back after a request that changed it


def _snapshot(app) -> dict:
    """Every row of every table, and the uploaded files."""
    with db.engine.connect() as conn:
        rows = {
            t.name: [dict(r._mapping) for r in conn.execute(t.select())]
            for t in db.metadata.sorted_tables
        }
    folder = Path(app.config["UPLOAD_FOLDER"])
    files = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    return {"rows": rows, "files": files, "folder": folder}


def _restore(snapshot: dict) -> None:
    db.session.remove()
    tables = db.metadata.sorted_tables
    with db.engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(table.delete())
        for table in tables:
            if snapshot["rows"][table.name]:
                conn.execute(table.insert(), snapshot["rows"][table.name])
        if conn.dialect.name == "postgresql":
            for table in tables:
                if "id" in table.c and table.c.id.autoincrement:
                    conn.execute(
                        text(
                            "SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                            f'coalesce((SELECT max(id) FROM "{table.name}"), 0) + 1, '
                            "false)"
                        ),
                        {"t": f'"{table.name}"'},
                    )
    folder: Path = snapshot["folder"]
    if folder.exists():
        shutil.rmtree(folder)
    for path, data in snapshot["files"].items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


# ---------------------------------------------------------------------------
# Asking and judging


def _routes(app) -> list[tuple[WerkzeugRule, str]]:
    """Every (rule, method) of the app but static files, in a stable order."""
    return sorted(
        (
            (rule, method)
            for rule in app.url_map.iter_rules()
            if rule.endpoint != "static"
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        ),
        key=lambda rm: (rm[0].rule, rm[1]),
    )


def _url(rule: WerkzeugRule, world: World) -> str:
    values = {name: world.values[name] for name in rule.arguments}
    if rule.endpoint.startswith("checkin.badge"):
        values["token"] = world.badge
    elif rule.endpoint == "events.feed":
        values["token"] = world.feed
    path = rule.build(values, append_unknown=False)[1]
    query = QUERY.get(rule.endpoint)
    return f"{path}?{query.format(**world.values)}" if query else path


def _body(endpoint: str, world: World) -> dict:
    """The request body for ``endpoint``: an empty form unless BODIES says."""
    body = BODIES.get(endpoint)
    if body is None:
        return {"data": {}}
    if "file" in body:
        return {"data": {"file": (io.BytesIO(b"notes"), "notes.txt")}}
    fill = {**world.values, "badge": world.badge}
    json = {
        k: (fill[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v)
        for k, v in body["json"].items()
    }
    return {"json": json}


def _signs_in(resp) -> bool:
    return resp.status_code in (301, 302, 303, 307, 308) and "/login" in (
        resp.headers.get("Location") or ""
    )


def _let_in(resp) -> bool:
    if resp.headers.get("Location") == "/login" and resp.request.path in SIGN_OUT_PATHS:
        return True  # signed out everywhere: off to the sign-in page (no ?next=)
    return resp.status_code not in (401, 403, 404) and not _signs_in(resp)


def _verdict(rule: Access, actor: str, resp) -> str | None:
    """What is wrong with ``resp`` as ``actor``'s answer, or None."""
    status = resp.status_code
    if status >= 500:
        return f"{status} (server error)"
    if resp.headers.get("Content-Type", "").count("charset") > 1:
        return f"Content-Type {resp.headers['Content-Type']!r}"
    if rule.link:
        return None  # whoever holds a real link's secret sees what it shows
    if actor == "other" and SECRET.encode() in resp.get_data():  # zips too
        return f"{status} showing Acme's data"
    if actor in rule.allowed:
        return None if _let_in(resp) else f"{status} (refused someone allowed)"
    if actor == "anonymous":
        fine = status in (401, 404) if rule.api else _signs_in(resp) or status == 404
        return None if fine else f"{status} (anonymous let in)"
    if actor == "other":
        return None if status == 404 else f"{status} (outsider)"
    return None if status in (403, 404) else f"{status} (let in)"


def test_every_route_has_an_entry(app):
    endpoints = {rule.endpoint for rule, _ in _routes(app)}
    missing = sorted(endpoints - set(EXPECTED))
    assert not missing, (
        "New routes without an entry in EXPECTED (tests/test_authorization.py): "
        f"{', '.join(missing)}. Add each with who may use it (PUBLIC, LINK, "
        "SIGNED_IN, MEMBER, SPEAKER, ORGANIZER, ADMIN, API_*, or only(...))."
    )
    assert not set(EXPECTED) - endpoints, "entries for routes that are gone"


def test_every_route_answers_each_person_as_the_matrix_says(
    app, make_org, make_user, make_event, make_registration, token_for
):
    world = _world(make_org, make_user, make_event, make_registration, token_for)
    clients = {actor: app.test_client() for actor in ACTORS}

    def sign_in(actor: str) -> None:
        resp = clients[actor].post(
            "/login", data={"email": world.emails[actor], "password": PASSWORD}
        )
        assert _signs_in(resp) is False and resp.status_code == 302, actor

    for actor in ACTORS[1:]:
        sign_in(actor)
    snapshot = _snapshot(app)  # with everyone's sign-in in it
    wrong: list[str] = []
    asked = 0
    for rule, method in _routes(app):
        access = EXPECTED.get(rule.endpoint)
        if access is None and OBSERVE:
            access = Access(frozenset(ACTORS), api=rule.rule.startswith("/api/v1/"))
        if access is None:
            continue  # test_every_route_has_an_entry names it
        url = _url(rule, world)
        for actor in ACTORS:
            headers = {}
            if access.api and actor != "anonymous":
                headers["Authorization"] = f"Bearer {world.tokens[actor]}"
            resp = clients[actor].open(
                url,
                method=method,
                headers=headers,
                buffered=True,
                **_body(rule.endpoint, world),
            )
            asked += 1
            if OBSERVE:
                loc = resp.headers.get("Location", "")
                note = "L" if _signs_in(resp) else ("R" if loc else "")
                OBSERVED.setdefault((rule.rule, method, rule.endpoint), {})[actor] = (
                    f"{resp.status_code}{note}"
                )
            problem = _verdict(access, actor, resp)
            if problem:
                wrong.append(f"{method} {url} ({rule.endpoint}) as {actor}: {problem}")
            if method in WRITES and _let_in(resp):
                _restore(snapshot)
                if rule.endpoint in SIGNS_OUT and actor != "anonymous":
                    sign_in(actor)  # a new sign-in: the world to put back has it
                    snapshot = _snapshot(app)
    if OBSERVE:
        with open("/tmp/matrix_observed.txt", "w") as out:
            for key, row in OBSERVED.items():
                cells = " ".join(f"{a[:3]}={row.get(a)}" for a in ACTORS)
                out.write(f"{key[2]:40} {key[1]:6} {cells}   {key[0]}\n")
    assert asked >= len(ACTORS) * 150
    assert not wrong, "\n".join(wrong)
