"""A person's data, as they download it: ``data.json`` plus their files, one zip.

``personal_data(user)`` gathers everything Mixer holds about the person,
grouped by organization and then by feature, with dates in ISO 8601 (UTC).
Only their own words are in it: the private notes and choices other people
made about them stay with their authors (``docs/privacy.md``).

The zip is built while the request waits, into a temporary file that spills to
disk past a few megabytes: one person's rows are few, and their files are the
speaker material they uploaded (each capped by the upload limit). A zip kept
in storage for later would itself be a copy of their data to look after.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased, selectinload

from mixer import clock
from mixer.accounts.models import ApiToken, SignIn, User
from mixer.asks.models import Ask, AskSuggestion
from mixer.charter.models import CharterAck
from mixer.checkin.models import DoorHelper
from mixer.connections.models import Connection, ConnectionNote
from mixer.events.models import CalendarFeed, Event, EventSession, Registration
from mixer.extensions import db
from mixer.followup.models import FollowupPrompt
from mixer.mail.models import OutboxMessage
from mixer.orgs.models import Organization
from mixer.pairs.models import Pair
from mixer.recognition.models import Award, AwardStatus, Testimonial
from mixer.roster.models import RosterEntry, RosterList
from mixer.slots.models import SlotBooking, SlotOffer
from mixer.speakers.models import Material, MaterialKind, SessionSpeaker, SpeakerProfile
from mixer.speakers.storage import NotFound, get_storage
from mixer.sso.models import SsoIdentity

FORMAT = "mixer-personal-data/1"
SPOOL = 8 * 1024 * 1024  # bytes kept in memory before the zip goes to disk


def _iso(value: Any) -> Any:
    """Dates and times as ISO 8601 text (JSON has neither)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _event(event: Event) -> dict[str, Any]:
    """An event as the export names it."""
    return {
        "id": event.id,
        "title": event.title,
        "kind": str(event.kind),
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
    }


def personal_data(
    user: User,
) -> tuple[dict[str, Any], dict[str, Material | SpeakerProfile]]:
    """Everything Mixer holds about ``user``, and the files to put beside it
    (zip path → uploaded material)."""
    address = user.email.lower()
    by_org: defaultdict[int, dict[str, Any]] = defaultdict(dict)
    files: dict[str, Material | SpeakerProfile] = {}
    orgs: dict[int, Organization] = {}

    def section(org: Organization, name: str) -> list[dict[str, Any]]:
        orgs[org.id] = org
        return by_org[org.id].setdefault(name, [])

    for m in user.memberships:
        orgs[m.org_id] = m.org
        by_org[m.org_id]["membership"] = {
            "role": m.role,
            "department": m.department.name if m.department else None,
            "level": m.level,
            "manager": m.manager.user.name if m.manager else None,
            "location": m.location,
            "languages": m.languages,
            "mentoring_capacity": m.mentoring_capacity,
            "available_from": m.available_from,
            "joined_at": m.joined_at,
        }
        ack = db.session.get(CharterAck, m.id)
        by_org[m.org_id]["charter_acknowledged"] = (
            {"version": ack.version, "at": ack.acked_at} if ack else None
        )
        _roster(m, by_org[m.org_id])

    regs = db.session.scalars(
        select(Registration)
        .where(or_(Registration.user_id == user.id, Registration.email == address))
        .options(selectinload(Registration.event).selectinload(Event.org))
        .order_by(Registration.created_at, Registration.id)
    ).all()
    reg_ids = [r.id for r in regs]
    for r in regs:
        section(r.event.org, "registrations").append(
            {
                "event": _event(r.event),
                "status": str(r.status),
                "source": str(r.source),
                "name": r.name,
                "email": r.email,
                "role": str(r.role) if r.role else None,
                "department": r.department,
                "level": r.level,
                "offers": r.offers,
                "seeks": r.seeks,
                "dietary": r.dietary,
                "waitlist_position": r.waitlist_position,
                "created_at": r.created_at,
                "confirmed_at": r.confirmed_at,
                "cancelled_at": r.cancelled_at,
                "checked_in_at": r.checked_in_at,
            }
        )
    _connections(reg_ids, section)
    _followup(reg_ids, section)
    _pairs(user, section)
    _asks(user, section)
    _slots(user, section)
    _recognition(user, section)
    _speaking(user, section, files)
    for helper in db.session.scalars(
        select(DoorHelper).where(DoorHelper.user_id == user.id)
    ):
        event = db.session.get_one(Event, helper.event_id)
        section(event.org, "door_helper").append(
            {"event": _event(event), "since": helper.created_at}
        )

    profile = db.session.scalar(
        select(SpeakerProfile).where(SpeakerProfile.user_id == user.id)
    )
    speaker = None
    if profile is not None:
        speaker = {
            "title": profile.title,
            "bio": profile.bio,
            "links": profile.links,
            "photo": "files/speaker-photo" if profile.photo_key else None,
            "updated_at": profile.updated_at,
        }
    data = {
        "format": FORMAT,
        "exported_at": clock.now(),
        "account": {
            "name": user.name,
            "email": user.email,
            "pronouns": user.pronouns,
            "bio": user.bio,
            "offers": user.offers,
            "seeks": user.seeks,
            "notifications": user.notifications,
            "has_password": bool(user.password_hash),
            "email_confirmed_at": user.email_confirmed_at,
            "last_login_at": user.last_login_at,
            "created_at": user.created_at,
        },
        "speaker_profile": speaker,
        "sign_ins": [
            {
                "device": s.device,
                "ip": s.ip,
                "remember": s.remember,
                "created_at": s.created_at,
                "last_used_at": s.last_used_at,
                "expires_at": s.expires_at,
                "revoked_at": s.revoked_at,
            }
            for s in db.session.scalars(
                select(SignIn).where(SignIn.user_id == user.id).order_by(SignIn.id)
            )
        ],
        "api_tokens": [
            {
                "name": t.name,
                "organization": t.org.slug,
                "starts_with": t.prefix,
                "created_at": t.created_at,
                "last_used_at": t.last_used_at,
                "revoked_at": t.revoked_at,
            }
            for t in db.session.scalars(
                select(ApiToken)
                .where(ApiToken.user_id == user.id)
                .order_by(ApiToken.id)
            )
        ],
        "sso_identities": [
            {
                "issuer": i.issuer,
                "subject": i.subject,
                "created_at": i.created_at,
                "last_used_at": i.last_used_at,
            }
            for i in db.session.scalars(
                select(SsoIdentity)
                .where(SsoIdentity.user_id == user.id)
                .order_by(SsoIdentity.id)
            )
        ],
        "calendar_feeds": [
            {
                "organization": f.org.slug if f.org else None,
                "created_at": f.created_at,
            }
            for f in db.session.scalars(
                select(CalendarFeed).where(CalendarFeed.user_id == user.id)
            )
        ],
        "mail": [
            {
                "subject": m.subject,
                "kind": m.kind,
                "status": str(m.status),
                "created_at": m.created_at,
                "sent_at": m.sent_at,
            }
            for m in db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.to_addr == address)
                .order_by(OutboxMessage.id)
            )
        ],
        "organizations": [
            {"organization": {"slug": orgs[oid].slug, "name": orgs[oid].name}}
            | by_org[oid]
            for oid in sorted(orgs, key=lambda oid: orgs[oid].slug)
        ],
    }
    if profile is not None and profile.photo_key:
        files["files/speaker-photo"] = profile
    return data, files


def _roster(membership: Any, org_data: dict[str, Any]) -> None:
    """Check-in lists they keep (with their own notes), and the lists they are
    on: who keeps them and when they were last checked in with, never the
    keeper's notes about them (private to their author)."""
    lists = db.session.scalars(
        select(RosterList)
        .where(RosterList.owner_id == membership.id)
        .order_by(RosterList.id)
    ).all()
    if lists:
        org_data["checkin_lists"] = [
            {
                "name": rl.name,
                "cadence": str(rl.cadence),
                "created_at": rl.created_at,
                "students": [
                    {
                        "name": e.student.user.name,
                        "added_at": e.added_at,
                        "checkins": [{"at": c.at, "note": c.note} for c in e.checkins],
                    }
                    for e in rl.entries
                ],
            }
            for rl in lists
        ]
    entries = db.session.scalars(
        select(RosterEntry)
        .where(RosterEntry.student_id == membership.id)
        .order_by(RosterEntry.id)
    ).all()
    if entries:
        org_data["on_checkin_lists"] = [
            {
                "kept_by": e.roster_list.owner.user.name,
                "added_at": e.added_at,
                "last_checkin_at": e.last_checkin_at,
            }
            for e in entries
        ]


def _connections(reg_ids: list[int], section: Any) -> None:
    """The people they met at events, and their own "we talked" notes (the
    other side's notes are that person's, and private)."""
    mine, other = aliased(Registration), aliased(Registration)
    rows = db.session.execute(
        select(Connection, mine, other)
        .join(mine, or_(mine.id == Connection.a_id, mine.id == Connection.b_id))
        .join(
            other,
            (other.id != mine.id)
            & or_(other.id == Connection.a_id, other.id == Connection.b_id),
        )
        .where(mine.id.in_(reg_ids))
        .order_by(Connection.id)
    ).all()
    for connection, me, them in rows:
        note = db.session.scalar(
            select(ConnectionNote.body).where(
                ConnectionNote.connection_id == connection.id,
                ConnectionNote.author_id == me.id,
            )
        )
        section(connection.event.org, "connections").append(
            {
                "event": _event(connection.event),
                "met": them.name,
                "how": str(connection.source),
                "at": connection.created_at,
                "my_note": note,
            }
        )


def _followup(reg_ids: list[int], section: Any) -> None:
    """Their follow-up answers: rating, words and their own choices."""
    prompts = db.session.scalars(
        select(FollowupPrompt)
        .where(FollowupPrompt.registration_id.in_(reg_ids))
        .options(selectinload(FollowupPrompt.choices))
        .order_by(FollowupPrompt.id)
    )
    for p in prompts:
        section(p.event.org, "followup").append(
            {
                "event": _event(p.event),
                "rating": p.rating,
                "comment": p.comment,
                "reflection": p.reflection,
                "answered_at": p.answered_at,
                "my_choices": [
                    {"person": c.other.name, "choice": str(c.choice)} for c in p.choices
                ],
            }
        )


def _pairs(user: User, section: Any) -> None:
    """Their pairs, meetings (with their own notes) and end-of-term feedback."""
    key = str(user.id)
    pairs = db.session.scalars(
        select(Pair)
        .where(or_(Pair.a_id == user.id, Pair.b_id == user.id))
        .options(selectinload(Pair.meetings), selectinload(Pair.feedback))
        .order_by(Pair.id)
    )
    for pair in pairs:
        feedback = next((f for f in pair.feedback if f.user_id == user.id), None)
        section(pair.org, "pairs").append(
            {
                "with": pair.other_person(user).name,
                "kind": str(pair.kind),
                "my_role": pair.role_of(user.id),
                "status": str(pair.status),
                "topic": pair.topic,
                "started_at": pair.started_at,
                "term_ends_at": pair.term_ends_at,
                "ended_at": pair.ended_at,
                "meetings": [
                    {
                        "number": m.number,
                        "due_at": m.due_at,
                        "status": str(m.status),
                        "my_note": (m.notes or {}).get(key),
                    }
                    for m in pair.meetings
                ],
                "my_feedback": None
                if feedback is None
                else {
                    "rating": feedback.rating,
                    "helped": feedback.helped,
                    "wants_renewal": feedback.wants_renewal,
                    "given_at": feedback.created_at,
                },
            }
        )


def _slots(user: User, section: Any) -> None:
    """Their five-minute slots: offers they published, bookings as host or guest
    (their own line about what to talk about, as guest)."""
    for offer in db.session.scalars(
        select(SlotOffer).where(SlotOffer.host_id == user.id).order_by(SlotOffer.id)
    ):
        section(offer.org, "slot_offers").append(
            {
                "kind": str(offer.kind),
                "weekdays": offer.weekdays,
                "on_date": offer.on_date,
                "start_time": offer.start_time.isoformat(),
                "end_time": offer.end_time.isoformat(),
                "timezone": offer.timezone,
                "place": offer.place,
                "topics": offer.topics,
                "deleted_at": offer.deleted_at,
            }
        )
    for b in db.session.scalars(
        select(SlotBooking)
        .where(or_(SlotBooking.host_id == user.id, SlotBooking.guest_id == user.id))
        .order_by(SlotBooking.id)
    ):
        guest = b.guest_id == user.id
        section(b.offer.org, "slot_bookings").append(
            {
                "with": (b.host if guest else b.guest).name,
                "my_role": "guest" if guest else "host",
                "starts_at": b.starts_at,
                "status": str(b.status),
                "my_line": b.about if guest else None,
                "helped": str(b.helped) if guest and b.helped else None,
            }
        )


def _asks(user: User, section: Any) -> None:
    """Their asks (not who declined: that stays private), and the asks they
    were asked to answer, with their answer."""
    for ask in db.session.scalars(
        select(Ask).where(Ask.requester_id == user.id).order_by(Ask.id)
    ):
        section(ask.org, "asks").append(
            {
                "topic": ask.topic,
                "note": ask.note,
                "status": str(ask.status),
                "created_at": ask.created_at,
                "closed_at": ask.closed_at,
            }
        )
    for s in db.session.scalars(
        select(AskSuggestion)
        .where(
            AskSuggestion.candidate_id == user.id, AskSuggestion.asked_at.is_not(None)
        )
        .order_by(AskSuggestion.id)
    ):
        section(s.ask.org, "asked_to_help").append(
            {
                "topic": s.ask.topic,
                "asked_by": s.ask.requester.name,
                "my_answer": str(s.status),
                "asked_at": s.asked_at,
                "answered_at": s.answered_at,
            }
        )


def _recognition(user: User, section: Any) -> None:
    """Testimonials they gave, and the awards published for them (a draft is
    the organizers' working note until then)."""
    for t in db.session.scalars(
        select(Testimonial)
        .where(Testimonial.author_id == user.id)
        .order_by(Testimonial.id)
    ):
        org = db.session.get_one(Organization, t.org_id)
        section(org, "testimonials").append(
            {
                "words": t.body,
                "shown_as": t.author_name,
                "status": str(t.status),
                "event": _event(t.event) if t.event else None,
                "given_at": t.created_at,
            }
        )
    for a in db.session.scalars(
        select(Award)
        .where(Award.user_id == user.id, Award.status == AwardStatus.PUBLISHED)
        .order_by(Award.month)
    ):
        org = db.session.get_one(Organization, a.org_id)
        section(org, "awards").append(
            {"month": a.month, "citation": a.citation, "published_at": a.published_at}
        )


def _speaking(
    user: User, section: Any, files: dict[str, Material | SpeakerProfile]
) -> None:
    """Sessions they speak in, and the material they uploaded (files beside)."""
    for s in db.session.scalars(
        select(SessionSpeaker).where(SessionSpeaker.user_id == user.id)
    ):
        event = s.session.event
        section(event.org, "speaking").append(
            {"event": _event(event), "session": s.session.title, "since": s.added_at}
        )
    for m in db.session.scalars(
        select(Material)
        .join(EventSession, EventSession.id == Material.session_id)
        .where(Material.uploaded_by_id == user.id)
        .order_by(Material.id)
    ):
        path = None
        if m.kind == MaterialKind.FILE:
            path = f"files/{m.event.org.slug}/material-{m.id}-{m.filename or 'file'}"
            files[path] = m
        section(m.event.org, "material").append(
            {
                "event": _event(m.event),
                "session": m.session.title,
                "title": m.title,
                "version": m.version,
                "kind": str(m.kind),
                "url": m.url,
                "file": path,
                "size": m.size,
                "sha256": m.sha256,
                "uploaded_at": m.created_at,
            }
        )


def export_zip(user: User) -> IO[bytes]:
    """The person's data as a zip (``data.json`` and ``files/``), rewound."""
    data, files = personal_data(user)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 - returned
    uploads = get_storage()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        text = json.dumps(data, default=_iso, indent=2, ensure_ascii=False)
        archive.writestr("data.json", text)
        for path, item in files.items():
            key = (
                item.photo_key if isinstance(item, SpeakerProfile) else item.storage_key
            )
            if key is None:
                continue
            try:
                with uploads.open(key) as stream, archive.open(path, "w") as target:
                    while chunk := stream.read(64 * 1024):
                        target.write(chunk)
            except NotFound:
                continue  # listed in data.json; the file itself is gone
    out.seek(0)
    return out


def chunks(archive: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    """The zip's bytes for a streamed response; the file is closed at the end
    (or when the client goes away: the generator is closed then)."""
    try:
        while chunk := archive.read(size):
            yield chunk
    finally:
        archive.close()
