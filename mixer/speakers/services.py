"""Speakers and material: invitations, profiles, uploads, visibility, downloads.

Services only ``flush()``; the view commits. Files written by an upload are removed
again if the transaction rolls back, and files of deleted items are removed only
once the deletion is committed (see ``_after_commit`` / ``_after_rollback``).
"""

from __future__ import annotations

import io
import re
import tempfile
from datetime import datetime, timedelta
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from mixer import clock, tokens
from mixer.accounts.models import User
from mixer.accounts.services import (
    AccountError,
    get_or_create_user,
    normalise_email,
    record_login,
)
from mixer.errors import LinkError
from mixer.events.access import can_manage
from mixer.events.models import Event, EventSession, Registration
from mixer.extensions import db
from mixer.jobs.services import schedule
from mixer.mail.services import queue_mail
from mixer.orgs.models import Membership
from mixer.speakers import sniff
from mixer.speakers.models import (
    AVAILABILITIES,
    VISIBILITIES,
    Material,
    SessionDetail,
    SessionSpeaker,
    SpeakerInvitation,
    SpeakerProfile,
)
from mixer.speakers.storage import TooLarge, get_storage
from mixer.urls import absolute_url

INVITE_PURPOSE = "speaker-invite"
FILENAME_MAX = 150
PHOTO_MAX_PX = 512
PHOTO_MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
EXTENSIONS = {
    sniff.PDF: (".pdf",),
    sniff.PNG: (".png",),
    sniff.JPEG: (".jpg", ".jpeg"),
    sniff.GIF: (".gif",),
    sniff.WEBP: (".webp",),
    sniff.PPTX: (".pptx",),
    sniff.DOCX: (".docx",),
    sniff.XLSX: (".xlsx",),
    sniff.TEXT: (".md", ".markdown", ".txt"),
}
MAIL_JOB = "speakers.material_mail"
# PDFs and images open in the browser; everything else is saved as a file.
INLINE_TYPES = frozenset(k.mimetype for k in sniff.ACCEPTED if k.inline)


class SpeakerError(ValueError):
    """A request about speakers or material that cannot be met; safe to show.

    ``status``: 400 bad input, 403 not allowed, 404 not found, 413 too large,
    415 refused file type.
    """

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.field = field
        self.status = status


# ---------------------------------------------------------------------------
# Files that must follow the transaction


def _pending(kind: str) -> list[str]:
    return db.session.info.setdefault(f"speakers.{kind}", [])


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    keys = session.info.pop("speakers.delete", [])
    session.info.pop("speakers.new", None)
    if keys:
        storage = get_storage()
        for key in keys:
            storage.delete(key)


@sa_event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.nested or previous_transaction.parent is not None:
        return
    session.info.pop("speakers.delete", None)
    keys = session.info.pop("speakers.new", [])
    if keys:
        storage = get_storage()
        for key in keys:
            storage.delete(key)


# ---------------------------------------------------------------------------
# Who is who


def speaker_sessions(event: Event, user: Any) -> list[EventSession]:
    """The sessions of ``event`` in which ``user`` speaks."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        db.session.scalars(
            select(EventSession)
            .join(SessionSpeaker, SessionSpeaker.session_id == EventSession.id)
            .where(EventSession.event_id == event.id, SessionSpeaker.user_id == user.id)
            .order_by(EventSession.position, EventSession.id)
        )
    )


def is_speaker(event: Event, user: Any) -> bool:
    """Whether ``user`` speaks in some session of ``event``."""
    return bool(speaker_sessions(event, user))


def can_upload(event: Event, user: Any) -> bool:
    """Speakers of the event and the people who manage it."""
    return can_manage(event, user) or is_speaker(event, user)


def event_speakers(event: Event) -> list[tuple[EventSession, User, SpeakerProfile]]:
    """Every (session, person, profile) of the event, in programme order."""
    rows = db.session.execute(
        select(EventSession, User, SpeakerProfile)
        .join(SessionSpeaker, SessionSpeaker.session_id == EventSession.id)
        .join(User, User.id == SessionSpeaker.user_id)
        .outerjoin(SpeakerProfile, SpeakerProfile.user_id == User.id)
        .where(EventSession.event_id == event.id)
        .order_by(EventSession.position, EventSession.id, User.name)
    ).all()
    return [(s, u, p or SpeakerProfile(user_id=u.id, links=[])) for s, u, p in rows]


def _session_of(event: Event, session_id: int | None) -> EventSession:
    """The event's session ``session_id``, or its first session."""
    if session_id is None:
        if not event.sessions:
            raise SpeakerError("This event has no session yet.", "session_id")
        return event.sessions[0]
    for session in event.sessions:
        if session.id == session_id:
            return session
    raise SpeakerError(
        f"Session {session_id} is not part of this event.", "session_id", 400
    )


def add_speaker(session: EventSession, user: User) -> SessionSpeaker:
    """Make ``user`` a speaker of ``session`` (members get the speaker role)."""
    event = session.event
    membership = user.membership_in(event.org)
    if membership is None:
        membership = Membership(org=event.org, user=user, role="speaker")
        db.session.add(membership)
    elif membership.role == "member":
        membership.role = "speaker"  # the API's role check needs it
    link = db.session.get(SessionSpeaker, (session.id, user.id))
    if link is None:
        link = SessionSpeaker(session=session, user=user)
        db.session.add(link)
    db.session.flush()
    return link


def add_member_as_speaker(
    event: Event, membership_id: int, session_id: int | None
) -> SessionSpeaker:
    """Make an existing member of the event's organization a speaker."""
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.org_id != event.org_id:
        raise SpeakerError("Choose a member of this organization.", "member")
    return add_speaker(_session_of(event, session_id), membership.user)


def remove_speaker(session: EventSession, user_id: int) -> None:
    """Take a person off a session (their material stays)."""
    link = db.session.get(SessionSpeaker, (session.id, user_id))
    if link is not None:
        db.session.delete(link)
        db.session.flush()


# ---------------------------------------------------------------------------
# Invitations


def invite_speaker(
    event: Event,
    email: str,
    name: str,
    session_id: int | None = None,
    by: User | None = None,
) -> SpeakerInvitation:
    """Record an invitation and e-mail its single-use sign-in link."""
    try:
        address = normalise_email(email)
    except AccountError as exc:
        raise SpeakerError(str(exc), "email") from exc
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise SpeakerError("Give the speaker's name (at most 120 characters).", "name")
    session = _session_of(event, session_id)
    invitation = SpeakerInvitation(
        event_id=event.id,
        session_id=session.id,
        email=address,
        name=name,
        invited_by_id=by.id if by else None,
    )
    db.session.add(invitation)
    db.session.flush()
    token = tokens.make(INVITE_PURPOSE, {"inv": invitation.id}, single_use=True)
    queue_mail(
        address,
        f"You're speaking at {event.title}",
        "speaker_invitation",
        {
            "invitation": invitation,
            "event": event,
            "session": session,
            "inviter": by,
            "link": absolute_url("speakers.accept", token=token),
            "days": current_app.config["INVITATION_DAYS"],
        },
        org=event.org,
        kind="speaker_invitation",
    )
    return invitation


def read_invitation(token: str) -> tuple[SpeakerInvitation, dict[str, Any]]:
    """The invitation a link stands for (not spent), or ``LinkError``."""
    max_age = int(current_app.config["INVITATION_DAYS"]) * 86400
    data = tokens.read(INVITE_PURPOSE, token, max_age=max_age)
    invitation = db.session.get(SpeakerInvitation, data.get("inv"))
    if invitation is None or invitation.event.status == "cancelled":
        raise LinkError("invalid", "This invitation is no longer valid.")
    return invitation, data


def accept_invitation(token: str) -> tuple[User, Event]:
    """Spend the link: create the person if needed, make them a speaker, sign in."""
    invitation, data = read_invitation(token)
    tokens.spend(INVITE_PURPOSE, data)
    user, _ = get_or_create_user(invitation.email, invitation.name)
    if not user.is_active:
        raise LinkError("invalid", "This account is deactivated.")
    add_speaker(invitation.session, user)
    invitation.accepted_at = invitation.accepted_at or clock.now()
    record_login(user)
    db.session.flush()
    return user, invitation.event


def pending_invitations(event: Event) -> list[SpeakerInvitation]:
    """Invitations of the event not yet accepted, newest first."""
    return list(
        db.session.scalars(
            select(SpeakerInvitation)
            .where(
                SpeakerInvitation.event_id == event.id,
                SpeakerInvitation.accepted_at.is_(None),
            )
            .order_by(SpeakerInvitation.id.desc())
        )
    )


# ---------------------------------------------------------------------------
# Profiles and sessions


def profile_for(user: User) -> SpeakerProfile:
    """The person's speaker profile (a new, unsaved one when there is none)."""
    profile = db.session.scalar(
        select(SpeakerProfile).where(SpeakerProfile.user_id == user.id)
    )
    return profile or SpeakerProfile(user_id=user.id, links=[])


def _links(raw: str | list[str] | None) -> list[str]:
    items = raw.split() if isinstance(raw, str) else list(raw or [])
    links = []
    for item in items:
        url = item.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
            raise SpeakerError(
                f"{url[:80]!r} is not a web address (https://…).", "links"
            )
        links.append(url)
    if len(links) > 10:
        raise SpeakerError("At most 10 links.", "links")
    return links


def update_profile(
    user: User,
    name: str,
    title: str | None = None,
    bio: str | None = None,
    links: str | list[str] | None = None,
) -> SpeakerProfile:
    """Save name, title, short bio and links."""
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise SpeakerError("A name is needed (at most 120 characters).", "name")
    bio = (bio or "").strip()
    if len(bio) > 2000:
        raise SpeakerError("Keep the bio under 2,000 characters.", "bio")
    profile = profile_for(user)
    profile.links = _links(links)
    profile.title = " ".join((title or "").split())[:120] or None
    profile.bio = bio or None
    user.name = name
    db.session.add(profile)
    db.session.flush()
    return profile


def set_photo(user: User, stream: BinaryIO) -> SpeakerProfile:
    """Check the image, shrink it to 512 px, drop its metadata and store it."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    data = stream.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ("JPEG", "PNG", "GIF", "WEBP"):
                raise SpeakerError("The photo must be JPEG, PNG, GIF or WebP.", "photo")
            if probe.width * probe.height > PHOTO_MAX_PIXELS:
                raise SpeakerError("That image is too large in pixels.", "photo")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            image.thumbnail((PHOTO_MAX_PX, PHOTO_MAX_PX))
            keep_alpha = image.mode in ("RGBA", "LA", "P") and (
                "transparency" in image.info or image.mode != "P"
            )
            out = io.BytesIO()
            if keep_alpha:
                image.convert("RGBA").save(out, "PNG", optimize=True)
                suffix = ".png"
            else:
                image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
                suffix = ".jpg"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, SpeakerError):
            raise
        raise SpeakerError("That file is not an image we can read.", "photo") from exc
    out.seek(0)
    key, _, _ = get_storage().save(out, suffix=suffix)
    _pending("new").append(key)
    profile = profile_for(user)
    if profile.photo_key:
        _pending("delete").append(profile.photo_key)
    profile.photo_key = key
    db.session.add(profile)
    db.session.flush()
    return profile


def session_abstract(session: EventSession) -> str:
    """The session's abstract (Markdown), or ""."""
    detail = db.session.get(SessionDetail, session.id)
    return detail.abstract if detail else ""


def abstracts(event: Event) -> dict[int, str]:
    """Abstracts of the event's sessions by session id."""
    ids = [s.id for s in event.sessions]
    rows = db.session.scalars(
        select(SessionDetail).where(SessionDetail.session_id.in_(ids))
    )
    return {d.session_id: d.abstract for d in rows if d.abstract}


def update_session(session: EventSession, title: str, abstract: str) -> EventSession:
    """Change a session's title and abstract."""
    title = " ".join((title or "").split())
    if not title or len(title) > 200:
        raise SpeakerError("A title is needed (at most 200 characters).", "title")
    abstract = (abstract or "").strip()
    if len(abstract) > 5000:
        raise SpeakerError("Keep the abstract under 5,000 characters.", "abstract")
    session.title = title
    detail = db.session.get(SessionDetail, session.id) or SessionDetail(
        session_id=session.id
    )
    detail.abstract = abstract
    db.session.add(detail)
    db.session.flush()
    return session


# ---------------------------------------------------------------------------
# Material


def safe_filename(raw: str | None, kind: sniff.Kind) -> str:
    """A file name safe on every system, ending in an extension of ``kind``."""
    name = secure_filename((raw or "").replace("\x00", ""))
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    allowed = EXTENSIONS[kind]
    ext = f".{ext.lower()}" if ext else ""
    if ext not in allowed:
        stem, ext = name, allowed[0]
    stem = stem.strip("._") or "file"
    return stem[: FILENAME_MAX - len(ext)] + ext


def _title(raw: str | None, fallback: str) -> str:
    title = " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", raw or "").split())[:200]
    return title or fallback


def _check_choice(value: str | None, choices: tuple[str, ...], name: str) -> str:
    value = value or choices[0]
    if value not in choices:
        raise SpeakerError(f"Choose one of: {', '.join(choices)}.", name)
    return value


def _next_version(session: EventSession, title: str) -> int:
    latest = db.session.scalar(
        select(func.max(Material.version)).where(
            Material.session_id == session.id, Material.title == title
        )
    )
    return (latest or 0) + 1


def _seekable(stream: BinaryIO, limit: int) -> BinaryIO:
    """The stream itself when it can seek, else a spooled copy (size-checked)."""
    try:
        if stream.seekable():
            return stream
    except (AttributeError, ValueError):
        pass
    copy = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
    size = 0
    while chunk := stream.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            copy.close()
            raise TooLarge(size)
        copy.write(chunk)
    copy.seek(0)
    return copy


def too_large_message() -> str:
    """The refusal for a file above ``MAX_UPLOAD_MB``."""
    return (
        f"The file is larger than the limit of {current_app.config['MAX_UPLOAD_MB']} "
        "MB; nothing was stored."
    )


def upload_material(
    event: Event,
    user: User,
    stream: BinaryIO,
    filename: str | None,
    *,
    title: str | None = None,
    session_id: int | None = None,
    visibility: str | None = None,
    available: str | None = None,
) -> Material:
    """Check who uploads and what the bytes are, store them, record a new version."""
    if not can_upload(event, user):
        raise SpeakerError(
            "Only this event's speakers and organizers can add material.", None, 403
        )
    session = _session_of(event, session_id)
    visibility = _check_choice(visibility, VISIBILITIES, "visibility")
    available = _check_choice(available, AVAILABILITIES, "available")
    limit = int(current_app.config["MAX_CONTENT_LENGTH"])
    try:
        stream = _seekable(stream, limit)
    except TooLarge as exc:
        raise SpeakerError(too_large_message(), "file", 413) from exc
    kind = sniff.sniff(stream)
    if kind is None:
        stream.seek(0)
        empty = not stream.read(1)
        raise SpeakerError(
            "The file is empty."
            if empty
            else f"This type of file is not accepted. Accepted: {sniff.ACCEPTED_TEXT}.",
            "file",
            400 if empty else 415,
        )
    name = safe_filename(filename, kind)
    title = _title(title, name.rpartition(".")[0].replace("_", " ") or name)
    stream.seek(0)
    try:
        key, size, digest = get_storage().save(stream, max_size=limit)
    except TooLarge as exc:
        raise SpeakerError(too_large_message(), "file", 413) from exc
    _pending("new").append(key)
    material = Material(
        event_id=event.id,
        session_id=session.id,
        uploaded_by_id=user.id,
        kind="file",
        title=title,
        version=_next_version(session, title),
        filename=name,
        content_type=kind.mimetype,
        size=size,
        sha256=digest,
        storage_key=key,
        visibility=visibility,
        available=available,
    )
    db.session.add(material)
    db.session.flush()
    schedule_material_mail(event)
    return material


def add_link(
    event: Event,
    user: User,
    url: str,
    *,
    title: str | None = None,
    session_id: int | None = None,
    visibility: str | None = None,
    available: str | None = None,
) -> Material:
    """Add a link (slides, video, repository) to a session."""
    if not can_upload(event, user):
        raise SpeakerError(
            "Only this event's speakers and organizers can add material.", None, 403
        )
    session = _session_of(event, session_id)
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        raise SpeakerError("Give a web address starting with https://.", "url")
    title = _title(title, parts.netloc)
    material = Material(
        event_id=event.id,
        session_id=session.id,
        uploaded_by_id=user.id,
        kind="link",
        title=title,
        version=_next_version(session, title),
        url=url,
        visibility=_check_choice(visibility, VISIBILITIES, "visibility"),
        available=_check_choice(available, AVAILABILITIES, "available"),
    )
    db.session.add(material)
    db.session.flush()
    schedule_material_mail(event)
    return material


def can_delete(material: Material, user: Any) -> bool:
    """The uploader (still a speaker of the event) and the event's managers."""
    event = db.session.get(Event, material.event_id)
    if can_manage(event, user):
        return True
    return (
        getattr(user, "is_authenticated", False)
        and material.uploaded_by_id == user.id
        and is_speaker(event, user)
    )


def delete_material(material: Material, user: Any) -> None:
    """Delete one item (its file goes once the deletion is committed)."""
    if not can_delete(material, user):
        raise SpeakerError("You can only delete material you added.", None, 403)
    if material.storage_key:
        _pending("delete").append(material.storage_key)
    db.session.delete(material)
    db.session.flush()


def set_hidden(material: Material, user: Any, hidden: bool) -> Material:
    """Organizers hide an item from all but speakers and organizers (or show it)."""
    event = db.session.get(Event, material.event_id)
    if not can_manage(event, user):
        raise SpeakerError("Only the event's organizers can hide material.", None, 403)
    material.hidden_at = clock.now() if hidden else None
    material.hidden_by_id = user.id if hidden else None
    db.session.flush()
    return material


def session_end(session: EventSession) -> datetime:
    """When a session is over: the next session's start, or the event's end."""
    event = session.event
    later = [s.starts_at for s in event.sessions if s.starts_at > session.starts_at]
    return min(later) if later else event.ends_at


def is_attendee(event: Event, user: Any) -> bool:
    """Whether ``user`` holds a seat at ``event``."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(
        db.session.scalar(
            select(Registration.id).where(
                Registration.event_id == event.id,
                Registration.status == "registered",
                (Registration.user_id == user.id) | (Registration.email == user.email),
            )
        )
    )


class Viewer:
    """What one person may see of one event's material, worked out once."""

    def __init__(self, event: Event, user: Any):
        self.event = event
        self.user = user
        self.insider = can_upload(event, user)  # organizers and speakers
        self.member = bool(
            getattr(user, "is_authenticated", False) and user.membership_in(event.org)
        )
        self.attendee = is_attendee(event, user)

    def can_see(self, material: Material) -> bool:
        """Insiders see all; others by visibility, timing, and not hidden."""
        if self.insider:
            return True
        if material.hidden_at is not None or self.event.status == "draft":
            return False
        if material.available == "after" and clock.now() < session_end(
            material.session
        ):
            return False
        if material.visibility == "public":
            return True
        if material.visibility == "members":
            return self.member
        return self.attendee


def materials(event: Event, viewer: Viewer) -> list[Material]:
    """Items ``viewer`` may see, by session then title, newest version first."""
    rows = db.session.scalars(
        select(Material)
        .where(Material.event_id == event.id)
        .order_by(Material.session_id, Material.title, Material.version.desc())
    )
    return [m for m in rows if viewer.can_see(m)]


def grouped(items: list[Material]) -> list[tuple[Material, list[Material]]]:
    """(latest version, older versions) per session and title."""
    groups: dict[tuple[int, str], list[Material]] = {}
    for m in items:
        groups.setdefault((m.session_id, m.title), []).append(m)
    return [(versions[0], versions[1:]) for versions in groups.values()]


def material_for(material_id: int, user: Any) -> Material:
    """An item ``user`` may download; SpeakerError(404) otherwise (no hint why)."""
    material = db.session.get(Material, material_id)
    if material is not None:
        event = db.session.get(Event, material.event_id)
        if Viewer(event, user).can_see(material):
            return material
    raise SpeakerError("No such material.", None, 404)


def download_url(material: Material) -> str:
    """The absolute download (files) or target (links) address of an item."""
    if material.kind == "link":
        return material.url or ""
    return absolute_url("speakers.download", material_id=material.id)


# ---------------------------------------------------------------------------
# The e-mail after the event


def _stamp(instant: datetime) -> str:
    return instant.strftime("%Y%m%dT%H%M%SZ")


def schedule_material_mail(event: Event) -> None:
    """Once per event end time: a job that mails attendees the material."""
    stamp = _stamp(event.ends_at)
    schedule(
        MAIL_JOB,
        {"event_id": event.id, "ends_at": stamp},
        run_at=max(event.ends_at, clock.now()) + timedelta(minutes=5),
        dedupe_key=f"{MAIL_JOB}:{event.id}:{stamp}",
        org_id=event.org_id,
    )


def send_material_mail(event_id: int, ends_at: str) -> dict[str, int]:
    """E-mail each registered attendee (with an account) links to what they may see.

    Respects the ``followup_prompts`` preference; each person gets it once ever.
    """
    event = db.session.get(Event, event_id)
    if event is None or event.status in ("draft", "cancelled"):
        return {"sent": 0}
    if _stamp(event.ends_at) != ends_at:
        schedule_material_mail(event)  # the event moved: go at its new end
        return {"sent": 0, "moved": 1}
    regs = db.session.scalars(
        select(Registration).where(
            Registration.event_id == event.id,
            Registration.status == "registered",
            Registration.user_id.is_not(None),
        )
    )
    sent = 0
    for reg in regs:
        user = reg.user
        items = [m for m, _ in grouped(materials(event, Viewer(event, user)))]
        if not items:
            continue
        links = [(m, download_url(m)) for m in items]
        message = queue_mail(
            user.email,
            f"Slides and material from {event.title}",
            "material_after_event",
            {"event": event, "links": links},
            user=user,
            preference="followup_prompts",
            org=event.org,
            dedupe_key=f"{MAIL_JOB}:{event.id}:{user.id}",
        )
        sent += message is not None
    return {"sent": sent}
