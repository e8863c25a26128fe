"""Speakers: who speaks in which session, invitations, profiles and sessions' text.

Material (uploads, links, who sees what) is ``mixer.speakers.material`` and
``mixer.speakers.visibility``; the e-mail after the event is
``mixer.speakers.material_mail``. Services only ``flush()``; the view commits.
"""

from __future__ import annotations

import io
import warnings
from typing import IO, Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from mixer import tokens
from mixer.accounts.models import User
from mixer.accounts.services import (
    AccountError,
    find_user,
    get_or_create_user,
    normalise_email,
    record_login,
)
from mixer.errors import DomainError, LinkError
from mixer.events.access import can_manage
from mixer.events.models import Event, EventSession, EventStatus
from mixer.extensions import db
from mixer.formatting import format_number
from mixer.i18n import recipient_locale
from mixer.mail.services import queue_mail
from mixer.orgs.models import Membership
from mixer.speakers.models import (
    SessionDetail,
    SessionSpeaker,
    SpeakerInvitation,
    SpeakerProfile,
)
from mixer.speakers.storage import get_storage, remove_on_commit, remove_on_rollback
from mixer.urls import absolute_url

INVITE_PURPOSE = "speaker-invite"
INVITATION_TITLE = _l("This speaker invitation cannot be used")
PHOTO_MAX_PX = 512
PHOTO_MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding


class SpeakerError(DomainError):
    """A request about speakers or material that cannot be met; safe to show.

    ``status``: 400 bad input, 403 not allowed, 404 not found, 413 too large,
    415 refused file type.
    """


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


def session_of(event: Event, session_id: int | None) -> EventSession:
    """The event's session ``session_id``, or its first session."""
    if session_id is None:
        if not event.sessions:
            raise SpeakerError(_("This event has no session yet."), field="session_id")
        return event.sessions[0]
    for session in event.sessions:
        if session.id == session_id:
            return session
    raise SpeakerError(
        _("Session %(id)s is not part of this event.", id=session_id),
        field="session_id",
        status=404,
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
    event: Event,
    membership_id: int,
    session_id: int | None,
    by: User | None = None,
) -> SessionSpeaker:
    """Make an existing member of the event's organization a speaker and e-mail
    them their speaker page (once per session: a second submit sends nothing)."""
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.org_id != event.org_id:
        raise SpeakerError(_("Choose a member of this organization."), field="member")
    session = session_of(event, session_id)
    user = membership.user
    link = add_speaker(session, user)
    if user.is_active:
        queue_mail(
            user.email,
            _l("You're speaking at %(title)s", title=event.title),
            "speaker_added",
            {
                "person": user,
                "event": event,
                "session": session,
                "by": by,
                "link": absolute_url("speakers.mine", event_id=event.id),
            },
            user=user,
            org=event.org,
            kind="speaker_added",
            dedupe_key=f"speaker-added:{session.id}:{user.id}",
            locale=recipient_locale(user, event.org),
        )
    return link


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
        raise SpeakerError(str(exc), field="email") from exc
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise SpeakerError(
            _("Give the speaker's name (at most 120 characters)."), field="name"
        )
    session = session_of(event, session_id)
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
        _l("You're speaking at %(title)s", title=event.title),
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
        # Their own setting if they have an account, else the organization's.
        locale=recipient_locale(find_user(address), event.org),
    )
    return invitation


def read_invitation(token: str) -> tuple[SpeakerInvitation, dict[str, Any]]:
    """The invitation a link stands for (not spent), or ``LinkError``."""
    max_age = int(current_app.config["INVITATION_DAYS"]) * 86400
    data = tokens.read(
        INVITE_PURPOSE, token, max_age=max_age, title=str(INVITATION_TITLE)
    )
    invitation = db.session.get(SpeakerInvitation, data.get("inv"))
    if invitation is None or invitation.event.status == EventStatus.CANCELLED:
        raise LinkError(
            "invalid",
            _("This invitation is no longer valid."),
            title=str(INVITATION_TITLE),
        )
    return invitation, data


def accept_invitation(token: str) -> tuple[User, Event]:
    """Spend the link: create the person if needed, make them a speaker, sign in."""
    invitation, data = read_invitation(token)
    tokens.spend(INVITE_PURPOSE, data, title=str(INVITATION_TITLE))
    user, _created = get_or_create_user(invitation.email, invitation.name)
    if not user.is_active:
        raise LinkError(
            "invalid",
            _("This account is deactivated."),
            title=str(INVITATION_TITLE),
        )
    add_speaker(invitation.session, user)
    invitation.accept()
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
                SpeakerInvitation.is_pending,
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


def photo_profile(key: str) -> SpeakerProfile | None:
    """The profile whose photo is stored under ``key`` (keys are random), or None."""
    return db.session.scalar(
        select(SpeakerProfile).where(SpeakerProfile.photo_key == key)
    )


def _links(raw: str | list[str] | None) -> list[str]:
    items = raw.split() if isinstance(raw, str) else list(raw or [])
    links = []
    for item in items:
        url = item.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
            raise SpeakerError(
                _("%(url)s is not a web address (https://…).", url=repr(url[:80])),
                field="links",
            )
        links.append(url)
    if len(links) > 10:
        raise SpeakerError(
            ngettext("At most %(num)d link.", "At most %(num)d links.", 10),
            field="links",
        )
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
        raise SpeakerError(
            _("A name is needed (at most 120 characters)."), field="name"
        )
    bio = (bio or "").strip()
    if len(bio) > 2000:
        raise SpeakerError(
            _("Keep the bio under %(num)s characters.", num=format_number(2000)),
            field="bio",
        )
    profile = profile_for(user)
    profile.links = _links(links)
    profile.title = " ".join((title or "").split())[:120] or None
    profile.bio = bio or None
    user.name = name
    db.session.add(profile)
    db.session.flush()
    return profile


_TOO_MANY_PIXELS = _l("That image is too large in pixels.")


def set_photo(user: User, stream: IO[bytes]) -> SpeakerProfile:
    """Check the image, shrink it to 512 px, drop its metadata and store it."""
    data = stream.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises at twice that, before
            # our own cap is looked at: both are this refusal (a decompression bomb).
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise SpeakerError(str(_TOO_MANY_PIXELS), field="photo") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise SpeakerError(
            _("That file is not an image we can read."), field="photo"
        ) from exc
    try:
        with probe:
            if probe.format not in ("JPEG", "PNG", "GIF", "WEBP"):
                raise SpeakerError(
                    _("The photo must be JPEG, PNG, GIF or WebP."), field="photo"
                )
            if probe.width * probe.height > PHOTO_MAX_PIXELS:
                raise SpeakerError(str(_TOO_MANY_PIXELS), field="photo")
            probe.verify()
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
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
        raise SpeakerError(
            _("That file is not an image we can read."), field="photo"
        ) from exc
    out.seek(0)
    key, _size, _digest = get_storage().save(out, suffix=suffix)
    remove_on_rollback(key)
    profile = profile_for(user)
    if profile.photo_key:
        remove_on_commit(profile.photo_key)
    profile.photo_key = key
    db.session.add(profile)
    db.session.flush()
    return profile


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
        raise SpeakerError(
            _("A title is needed (at most 200 characters)."), field="title"
        )
    abstract = (abstract or "").strip()
    if len(abstract) > 5000:
        raise SpeakerError(
            _("Keep the abstract under %(num)s characters.", num=format_number(5000)),
            field="abstract",
        )
    session.title = title
    detail = db.session.get(SessionDetail, session.id) or SessionDetail(
        session_id=session.id
    )
    detail.abstract = abstract
    db.session.add(detail)
    db.session.flush()
    return session
