"""Speaker pages: invitations, the speaker's own page, organizer tools, downloads.

Everything hangs off an event (``/events/<id>/…``); the organization comes from
the event, so outsiders get 404 as on the event pages.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from mixer.accounts import browser
from mixer.accounts.forms import choice_list
from mixer.accounts.models import User
from mixer.errors import refusals
from mixer.events.access import can_manage, managed_event, member_event
from mixer.events.models import Event, EventSession
from mixer.extensions import db, limiter, login_manager, talisman
from mixer.formatting import format_number
from mixer.i18n import current_locale
from mixer.orgs.models import Membership
from mixer.speakers import material, services, visibility
from mixer.speakers.forms import (
    ActionForm,
    AddSpeakerForm,
    InviteSpeakerForm,
    LinkForm,
    PhotoForm,
    ProfileForm,
    RemoveSpeakerForm,
    SessionForm,
    UploadForm,
)
from mixer.speakers.models import Material, MaterialKind, Visibility
from mixer.speakers.services import SpeakerError
from mixer.speakers.storage import NotFound, get_storage
from mixer.web import json_error, wants_json

bp = Blueprint("speakers", __name__)


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    """ "1.5 MB", "12 KB" or "300 bytes", in the page's language ("1,5 MB")."""
    if size >= 1024 * 1024:
        value = format_decimal(size / 1048576, "0.0", locale=current_locale())
        return _("%(size)s MB", size=value)
    if size >= 1024:
        return _("%(size)s KB", size=format_number(size // 1024))
    return ngettext("%(num)d byte", "%(num)d bytes", size)


# Downloads are never a page that can run anything, whatever the bytes are.
DOWNLOAD_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


# ---------------------------------------------------------------------------
# Access


def _uploader(event_id: int) -> Event:
    """The event, for its speakers and managers (others 403)."""
    event = member_event(event_id)
    if not services.can_upload(event, current_user):
        abort(
            403,
            description=_("Only this event's speakers and organizers can do that."),
        )
    return event


def _my_sessions(event: Event) -> list[EventSession]:
    """Sessions the visitor may edit: all for managers, their own for speakers."""
    if can_manage(event, current_user):
        return list(event.sessions)
    return services.speaker_sessions(event, current_user)


def _session_choices(sessions: list[EventSession]) -> list:
    return choice_list((s.id, s.title) for s in sessions)


def _item(material_id: int) -> tuple[Material, Event]:
    """An item of material and its event, for members of its organization."""
    item = db.session.get(Material, material_id)
    if item is None:
        abort(404)
    return item, member_event(item.event_id)


# ---------------------------------------------------------------------------
# Invitations


@bp.route("/speakers/accept/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def accept(token: str):
    """GET shows a button (mail scanners prefetch links); POST signs the speaker in."""
    form = ActionForm()
    if not form.validate_on_submit():
        invitation, _data = services.read_invitation(token)
        return render_template("speakers/accept.html", invitation=invitation)
    user, event = services.accept_invitation(token)
    browser.log_in(user)
    db.session.commit()
    flash(_("Welcome, %(name)s. This is your speaker page.", name=user.name), "success")
    return redirect(url_for("speakers.mine", event_id=event.id))


# ---------------------------------------------------------------------------
# The speaker's page


def _render_mine(
    event: Event,
    status: int = 200,
    session_forms: dict[int, SessionForm] | None = None,
    **forms: Any,
):
    """The speaker's page; a form given (with its errors) replaces a blank one."""
    sessions = _my_sessions(event)
    choices = _session_choices(sessions)
    profile = services.profile_for(current_user)
    forms.setdefault(
        "profile_form",
        ProfileForm(
            formdata=None,
            name=current_user.name,
            title=profile.title,
            bio=profile.bio,
            links="\n".join(profile.links or []),
        ),
    )
    forms.setdefault("photo_form", PhotoForm(formdata=None))
    for name, cls in (("upload_form", UploadForm), ("link_form", LinkForm)):
        forms.setdefault(name, cls(formdata=None))
        forms[name].session_id.choices = choices
    abstracts = services.abstracts(event)
    given = session_forms or {}
    sessions_shown = [
        (
            s,
            given.get(s.id)
            or SessionForm(formdata=None, prefix=f"s{s.id}", title=s.title),
            abstracts.get(s.id, ""),
        )
        for s in sessions
    ]
    for _s, f, text in sessions_shown:
        if not f.abstract.data:
            f.abstract.data = text
    viewer = visibility.Viewer(event, current_user)
    items = [
        m
        for m in visibility.materials(event, viewer)
        if can_manage(event, current_user) or m.session_id in {s.id for s in sessions}
    ]
    return (
        render_template(
            "speakers/mine.html",
            event=event,
            profile=profile,
            session_forms=sessions_shown,
            groups=visibility.grouped(items),
            deletable={m.id for m in items if material.can_delete(m, current_user)},
            action_form=ActionForm(formdata=None),
            is_manager=can_manage(event, current_user),
            **forms,
        ),
        status,
    )


@bp.get("/events/<int:event_id>/speaker")
def mine(event_id: int):
    """The speaker's page: profile, photo, sessions, material."""
    return _render_mine(_uploader(event_id))


@bp.post("/events/<int:event_id>/speaker/profile")
def save_profile(event_id: int):
    """Save the speaker's name, title, bio and links."""
    event = _uploader(event_id)
    form = ProfileForm()
    if form.validate_on_submit():
        with refusals(form):
            services.update_profile(
                current_user,
                form.name.data or "",
                form.title.data,
                form.bio.data,
                form.links.data,
            )
            db.session.commit()
            flash(_("Your speaker profile is saved."), "success")
            return redirect(url_for("speakers.mine", event_id=event.id))
    return _render_mine(event, 422, profile_form=form)


@bp.post("/events/<int:event_id>/speaker/photo")
def save_photo(event_id: int):
    """Store a new photo (resized, metadata removed)."""
    event = _uploader(event_id)
    form = PhotoForm()
    if form.validate_on_submit() and form.photo.data:
        with refusals(form):
            services.set_photo(current_user, form.photo.data.stream)
            db.session.commit()
            flash(_("Your photo is saved."), "success")
            return redirect(url_for("speakers.mine", event_id=event.id))
    elif not form.photo.data:
        form.photo.errors = ["Choose an image file."]
    return _render_mine(event, 422, photo_form=form)


@bp.post("/events/<int:event_id>/sessions/<int:session_id>")
def save_session(event_id: int, session_id: int):
    """Change the title and abstract of one of the speaker's sessions."""
    event = _uploader(event_id)
    session = next((s for s in _my_sessions(event) if s.id == session_id), None)
    if session is None:
        abort(404)
    form = SessionForm(prefix=f"s{session.id}")
    if form.validate_on_submit():
        with refusals(form):
            services.update_session(
                session, form.title.data or "", form.abstract.data or ""
            )
            db.session.commit()
            flash(_("The session is saved."), "success")
            return redirect(url_for("speakers.mine", event_id=event.id))
    return _render_mine(event, 422, session_forms={session.id: form})


@bp.post("/events/<int:event_id>/materials")
def upload(event_id: int):
    """Store one or several files (the drop zone sends one per request, as JSON)."""
    event = _uploader(event_id)
    form = UploadForm()
    form.session_id.choices = _session_choices(_my_sessions(event))
    files = [f for f in request.files.getlist("files") if f and f.filename is not None]
    if not form.validate_on_submit() or not files:
        message = (
            _("Choose at least one file.")
            if not files
            else " ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        )
        if wants_json():
            return json_error(400, "invalid_input", message)
        form.files.errors = [message] if not files else form.files.errors
        return _render_mine(event, 422, upload_form=form)
    saved: list[Material] = []
    refused: list[tuple[str | None, SpeakerError]] = []
    for upload in files:
        # Each file is stored or refused on its own: one refusal keeps the others
        # (and is listed by name), so this is not a form's single ``refusals``.
        try:
            saved.append(
                material.upload_material(
                    event,
                    current_user,
                    upload.stream,
                    upload.filename,
                    title=form.title.data if len(files) == 1 else None,
                    session_id=form.session_id.data,
                    visibility=form.visibility.data,
                    available=form.available.data,
                )
            )
            db.session.commit()
        except SpeakerError as exc:
            db.session.rollback()
            refused.append((upload.filename, exc))
    if wants_json():
        if refused:
            first = refused[0][1]
            return json_error(first.status, first.code, first.message)
        return jsonify(_material_json(saved[0])), 201
    for name, refusal in refused:
        flash(
            _("%(file)s: %(problem)s", file=name, problem=refusal)
            if name
            else _("A file: %(problem)s", problem=refusal),
            "error",
        )
    if saved:
        names = ", ".join(m.filename or "" for m in saved)
        flash(_("Uploaded: %(files)s.", files=names), "success")
    return redirect(url_for("speakers.mine", event_id=event.id))


def _material_json(item: Material) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "version": item.version,
        "filename": item.filename,
        "size": item.size,
        "sha256": item.sha256,
        "download_url": visibility.download_url(item),
    }


@bp.post("/events/<int:event_id>/links")
def add_link(event_id: int):
    """Add a link to slides, a video or a repository."""
    event = _uploader(event_id)
    form = LinkForm()
    form.session_id.choices = _session_choices(_my_sessions(event))
    if form.validate_on_submit():
        with refusals(form):
            material.add_link(
                event,
                current_user,
                form.url.data or "",
                title=form.title.data,
                session_id=form.session_id.data,
                visibility=form.visibility.data,
                available=form.available.data,
            )
            db.session.commit()
            flash(_("The link is added."), "success")
            return redirect(url_for("speakers.mine", event_id=event.id))
    return _render_mine(event, 422, link_form=form)


@bp.post("/materials/<int:material_id>/delete")
def delete(material_id: int):
    """Delete an item the speaker added (organizers may delete any)."""
    item, event = _item(material_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    material.delete_material(item, current_user)
    db.session.commit()
    flash(_("Deleted."), "success")
    return redirect(
        request.form.get("back") == "manage"
        and url_for("speakers.manage", event_id=event.id)
        or url_for("speakers.mine", event_id=event.id)
    )


@bp.post("/materials/<int:material_id>/hide")
def hide(material_id: int):
    """Organizers hide an item from attendees, or show it again."""
    item, event = _item(material_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    hidden = request.form.get("hidden") == "1"
    material.set_hidden(item, current_user, hidden)
    db.session.commit()
    flash(_("Hidden from attendees.") if hidden else _("Visible again."), "success")
    return redirect(url_for("speakers.manage", event_id=event.id))


# ---------------------------------------------------------------------------
# Downloads


@bp.get("/materials/<int:material_id>/download")
@talisman(content_security_policy=DOWNLOAD_CSP, content_security_policy_nonce_in=[])
def download(material_id: int):
    """The file, byte for byte, for people who may see it (everyone else 404)."""
    item = visibility.visible_material(material_id, current_user)
    if item is None:
        if not current_user.is_authenticated:
            abort(login_manager.unauthorized())
        abort(404)
    if item.kind == MaterialKind.LINK:
        return redirect(item.url or "/")
    response = _send(
        item.storage_key or "",
        # The type without parameters: Werkzeug adds the charset of text types
        # itself (the stored type has one already).
        mimetype=(item.content_type or "").partition(";")[0].strip() or None,
        as_attachment=item.content_type not in visibility.INLINE_TYPES,
        download_name=item.filename,
        etag=item.sha256 or False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    if item.visibility != Visibility.PUBLIC:
        response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/speakers/photo/<key>")
@talisman(content_security_policy=DOWNLOAD_CSP, content_security_policy_nonce_in=[])
def photo(key: str):
    """A speaker's photo (the key is random and only appears on event pages)."""
    if services.photo_profile(key) is None:
        abort(404)
    mimetype = "image/png" if key.endswith(".png") else "image/jpeg"
    response = _send(key, mimetype=mimetype, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _send(key: str, **options: Any) -> Response:
    """The stored file of ``key``, streamed from the store (404 when it is gone)."""
    try:
        return get_storage().send(key, **options)
    except NotFound:
        abort(404)


# ---------------------------------------------------------------------------
# Organizers: speakers & material


def _render_manage(event: Event, status: int = 200, **forms: Any):
    choices = _session_choices(list(event.sessions))
    invite = forms.setdefault("invite_form", InviteSpeakerForm(formdata=None))
    add = forms.setdefault("add_form", AddSpeakerForm(formdata=None))
    invite.session_id.choices = choices
    add.session_id.choices = choices
    add.member.choices = choice_list(
        (m_id, f"{name} ({email})")
        for m_id, name, email in db.session.execute(
            select(Membership.id, User.name, User.email)
            .join(User, User.id == Membership.user_id)
            .where(Membership.org_id == event.org_id)
            .order_by(User.name)
        )
    )
    items = visibility.materials(event, visibility.Viewer(event, current_user))
    return (
        render_template(
            "speakers/manage.html",
            event=event,
            speakers=services.event_speakers(event),
            invitations=services.pending_invitations(event),
            groups=visibility.grouped(items),
            deletable={m.id for m in items},
            action_form=ActionForm(formdata=None),
            remove_form=RemoveSpeakerForm(formdata=None),
            **forms,
        ),
        status,
    )


@bp.get("/events/<int:event_id>/speakers")
def manage(event_id: int):
    """Speakers & material of an event, for its organizers."""
    return _render_manage(managed_event(event_id))


@bp.post("/events/<int:event_id>/speakers/invite")
def invite(event_id: int):
    """E-mail someone an invitation to speak."""
    event = managed_event(event_id)
    form = InviteSpeakerForm()
    form.session_id.choices = _session_choices(list(event.sessions))
    if form.validate_on_submit():
        with refusals(form):
            services.invite_speaker(
                event,
                form.email.data or "",
                form.name.data or "",
                form.session_id.data,
                current_user,
            )
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("speakers.manage", event_id=event.id))
    return _render_manage(event, 422, invite_form=form)


@bp.post("/events/<int:event_id>/speakers/add")
def add(event_id: int):
    """Make an existing member a speaker of a session."""
    event = managed_event(event_id)
    form = AddSpeakerForm()
    form.session_id.choices = _session_choices(list(event.sessions))
    if form.validate_on_submit():
        with refusals(form):
            link = services.add_member_as_speaker(
                event, form.member.data, form.session_id.data, current_user
            )
            db.session.commit()
            flash(_("%(name)s is now a speaker.", name=link.user.name), "success")
            return redirect(url_for("speakers.manage", event_id=event.id))
    return _render_manage(event, 422, add_form=form)


@bp.post("/events/<int:event_id>/speakers/remove")
def remove(event_id: int):
    """Take a speaker off a session."""
    event = managed_event(event_id)
    form = RemoveSpeakerForm()
    session = next(
        (s for s in event.sessions if str(s.id) == form.session_id.data), None
    )
    if not form.validate_on_submit() or session is None:
        abort(400)
    services.remove_speaker(session, int(form.user_id.data or 0))
    db.session.commit()
    flash(_("Removed from the session."), "success")
    return redirect(url_for("speakers.manage", event_id=event.id))


# ---------------------------------------------------------------------------
# The event page's part


@bp.app_template_global()
def speaker_material(event: Event) -> dict[str, Any]:
    """What ``speakers/_event_material.html`` shows for the current visitor."""
    viewer = visibility.Viewer(event, current_user)
    return {
        "speakers": services.event_speakers(event),
        "abstracts": services.abstracts(event),
        "groups": visibility.grouped(visibility.materials(event, viewer)),
        "can_upload": viewer.insider,
    }
