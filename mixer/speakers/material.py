"""Session material: uploading files and adding links, new versions, deleting and
hiding items.

What a file is comes from its bytes (``mixer.speakers.sniff``); the bytes go to
``mixer.speakers.storage``, and a file stored for a row that is rolled back is
removed again. Who may see an item is ``mixer.speakers.visibility``. The first item
of an event schedules the e-mail after the event (``mixer.speakers.material_mail``).
"""

from __future__ import annotations

import re
import tempfile
from enum import StrEnum
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.utils import secure_filename

from mixer import clock
from mixer.accounts.models import User
from mixer.events.access import can_manage
from mixer.events.models import Event, EventSession
from mixer.extensions import db
from mixer.speakers import sniff
from mixer.speakers.material_mail import schedule_material_mail
from mixer.speakers.models import Availability, Material, MaterialKind, Visibility
from mixer.speakers.services import SpeakerError, can_upload, is_speaker, session_of
from mixer.speakers.storage import (
    TooLarge,
    get_storage,
    remove_on_commit,
    remove_on_rollback,
)

E = TypeVar("E", bound=StrEnum)

FILENAME_MAX = 150
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


def _choice(value: str | None, enum: type[E], name: str) -> E:
    """``value`` as a member of ``enum``; none given: the first (the default)."""
    if not value:
        return next(iter(enum))
    if value not in {e.value for e in enum}:
        raise SpeakerError(
            _("Choose one of: %(choices)s.", choices=", ".join(enum)), field=name
        )
    return enum(value)


def _next_version(session: EventSession, title: str) -> int:
    latest = db.session.scalar(
        select(func.max(Material.version)).where(
            Material.session_id == session.id, Material.title == title
        )
    )
    return (latest or 0) + 1


def _seekable(stream: IO[bytes], limit: int) -> IO[bytes]:
    """The stream itself when it can seek, else a spooled copy (size-checked)."""
    try:
        if stream.seekable():
            return stream
    except (AttributeError, ValueError):
        pass
    copy: Any = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
    size = 0
    while chunk := stream.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            copy.close()
            raise TooLarge(size)
        copy.write(chunk)
    copy.seek(0)
    return copy


def _too_large() -> SpeakerError:
    """The refusal of a file above ``MAX_UPLOAD_MB`` (413)."""
    return SpeakerError(
        _(
            "The file is larger than the limit of %(num)s MB; nothing was stored.",
            num=current_app.config["MAX_UPLOAD_MB"],
        ),
        field="file",
        status=413,
        code="request_entity_too_large",
    )


def _check_uploader(event: Event, user: User) -> None:
    if not can_upload(event, user):
        raise SpeakerError(
            _("Only this event's speakers and organizers can add material."),
            status=403,
        )


def upload_material(
    event: Event,
    user: User,
    stream: IO[bytes],
    filename: str | None,
    *,
    title: str | None = None,
    session_id: int | None = None,
    visibility: str | None = None,
    available: str | None = None,
) -> Material:
    """Check who uploads and what the bytes are, store them, record a new version."""
    _check_uploader(event, user)
    session = session_of(event, session_id)
    seen_by = _choice(visibility, Visibility, "visibility")
    seen_from = _choice(available, Availability, "available")
    limit = int(current_app.config["MAX_CONTENT_LENGTH"])
    try:
        stream = _seekable(stream, limit)
    except TooLarge as exc:
        raise _too_large() from exc
    try:
        kind = sniff.sniff(stream)
    except sniff.ArchiveTooLarge as exc:
        raise SpeakerError(
            _("%(problem)s Nothing was stored.", problem=exc),
            field="file",
            status=413,
            code="request_entity_too_large",
        ) from exc
    except sniff.NotAPdf as exc:
        raise SpeakerError(
            _("%(problem)s Nothing was stored.", problem=exc),
            field="file",
            status=415,
            code="unsupported_media_type",
        ) from exc
    if kind is None:
        stream.seek(0)
        if not stream.read(1):
            raise SpeakerError(_("The file is empty."), field="file")
        raise SpeakerError(
            _(
                "This type of file is not accepted. Accepted: %(formats)s.",
                formats=sniff.ACCEPTED_TEXT,
            ),
            field="file",
            status=415,
            code="unsupported_media_type",
        )
    name = safe_filename(filename, kind)
    title = _title(title, name.rpartition(".")[0].replace("_", " ") or name)
    stream.seek(0)
    try:
        key, size, digest = get_storage().save(stream, max_size=limit)
    except TooLarge as exc:
        raise _too_large() from exc
    remove_on_rollback(key)
    material = Material(
        event_id=event.id,
        session_id=session.id,
        uploaded_by_id=user.id,
        kind=MaterialKind.FILE,
        title=title,
        version=_next_version(session, title),
        filename=name,
        content_type=kind.mimetype,
        size=size,
        sha256=digest,
        storage_key=key,
        visibility=seen_by,
        available=seen_from,
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
    _check_uploader(event, user)
    session = session_of(event, session_id)
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        raise SpeakerError(_("Give a web address starting with https://."), field="url")
    title = _title(title, parts.netloc)
    material = Material(
        event_id=event.id,
        session_id=session.id,
        uploaded_by_id=user.id,
        kind=MaterialKind.LINK,
        title=title,
        version=_next_version(session, title),
        url=url,
        visibility=_choice(visibility, Visibility, "visibility"),
        available=_choice(available, Availability, "available"),
    )
    db.session.add(material)
    db.session.flush()
    schedule_material_mail(event)
    return material


def can_delete(material: Material, user: Any) -> bool:
    """The uploader (still a speaker of the event) and the event's managers."""
    event = material.event
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
        raise SpeakerError(_("You can only delete material you added."), status=403)
    if material.storage_key:
        remove_on_commit(material.storage_key)
    db.session.delete(material)
    db.session.flush()


def set_hidden(material: Material, user: Any, hidden: bool) -> Material:
    """Organizers hide an item from all but speakers and organizers (or show it)."""
    if not can_manage(material.event, user):
        raise SpeakerError(
            _("Only the event's organizers can hide material."), status=403
        )
    material.hidden_at = clock.now() if hidden else None
    material.hidden_by_id = user.id if hidden else None
    db.session.flush()
    return material
