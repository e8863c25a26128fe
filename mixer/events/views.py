"""Events pages: lists, the event page, registration, organizer tools, calendars.

Org-scoped lists live under ``/o/<slug>/events/``; an event's own pages under
``/events/<id>/`` check the organization from the event (outsiders get 404;
guests may see a visibility=link event's page with its share key).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from mixer.accounts.browser import no_store
from mixer.accounts.models import User
from mixer.audit.services import record
from mixer.errors import refusals
from mixer.events import dashboard as dashboards
from mixer.events import feeds, lifecycle, links, queries, registration
from mixer.events.access import managed_event, visible_to
from mixer.events.forms import (
    DIETARY_LABELS,
    ROLE_NAMES,
    STATUS_NAMES,
    AddAttendeeForm,
    CancelEventForm,
    ConfirmForm,
    DuplicateForm,
    EventForm,
    GuestRegistrationForm,
    MoveForm,
    RegistrationForm,
    SeriesForm,
)
from mixer.events.ics import event_ics
from mixer.events.models import (
    KIND_LABELS,
    Event,
    EventKind,
    EventStatus,
    Registration,
    RegistrationSource,
)
from mixer.events.rules import (
    PLACE_FIELDS,
    TIME_FIELDS,
    agenda_text,
    local,
    parse_agenda,
)
from mixer.extensions import db, limiter, login_manager
from mixer.orgs.access import org_required
from mixer.orgs.models import Membership
from mixer.web import query_page

bp = Blueprint("events", __name__)
# A whole Content-Type: given as ``content_type`` (``mimetype`` would add a second
# charset).
ICS_MIMETYPE = "text/calendar; charset=utf-8"
# A share link lets anyone make us e-mail an address: keep that slow, per sender
# and per address, so nobody floods an inbox.
GUEST_LIMIT = "10 per hour"
GUEST_ADDRESS_LIMIT = "3 per hour"


def _guest_address() -> str:
    return "guest-addr:" + (request.form.get("email") or "").strip().lower()


@bp.app_template_global()
def upcoming_events(org, limit: int = 5) -> list[Event]:
    """The next published events of ``org`` (used by the org home page)."""
    return queries.upcoming_events(org, limit)


@bp.app_template_filter("event_when")
def event_when(event: Event) -> str:
    """When an event happens, in its own zone (pages and e-mails)."""
    return event.when_text


@bp.app_template_filter("dietary_label")
def dietary_label(need: str) -> str:
    """A dietary need in the page's language (one typed under "Other" as typed)."""
    label = DIETARY_LABELS.get(need)
    return str(label) if label is not None else need


@bp.app_template_filter("series_label")
def series_label(description: str) -> str:
    """A series' repeat rule ("Every Monday", stored in English) in the page's
    language."""
    return lifecycle.series_label(description)


@bp.app_template_filter("registration_status")
def registration_status(status: str) -> str:
    """A registration's status as a word in the page's language."""
    label = STATUS_NAMES.get(status)
    return str(label) if label is not None else status


@bp.app_template_filter("mixer_role")
def mixer_role(role: str) -> str:
    """A mixer role (mentor, mentee, either) in the page's language."""
    label = ROLE_NAMES.get(role)
    return str(label) if label is not None else role


@bp.app_template_global("badge_url")
def badge_url(reg: Registration) -> str:
    """A registration's badge PDF link, for pages and e-mails (``badge_url(reg)``)."""
    return links.badge_download_url(reg)


@bp.app_context_processor
def _event_helpers() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS}


# ---------------------------------------------------------------------------
# Access


def _enter(event: Event) -> None:
    """Show the event's organization in the page frame for its members."""
    membership = (
        current_user.membership_in(event.org) if current_user.is_authenticated else None
    )
    if membership is not None:
        g.org, g.membership = event.org, membership


def _viewable(event_id: int) -> tuple[Event, str]:
    """The event and how the visitor sees it; anonymous visitors are sent to sign in."""
    event = db.session.get(Event, event_id)
    access = visible_to(event, current_user, request.args.get("key")) if event else None
    if event is None or access is None:
        # Anonymous visitors are sent to sign in whether the event exists or not,
        # so that ids cannot be probed.
        if not current_user.is_authenticated:
            abort(login_manager.unauthorized())
        abort(404)
    _enter(event)
    return event, access


def _organizer_choices(org, event: Event | None = None) -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.org_id == org.id,
            Membership.role.in_(("admin", "organizer", "speaker")),
        )
        .order_by(User.name)
    ).all()
    choices = dict(rows)
    for person in event.organizers if event else []:
        choices.setdefault(person.id, person.name)
    return sorted(choices.items(), key=lambda item: item[1].lower())


def _people(ids: list[int] | None) -> list[User]:
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(ids))))


# ---------------------------------------------------------------------------
# Lists


@bp.get("/o/<slug>/events/")
@org_required()
def index():
    """Upcoming events of the organization, with filters."""
    kind = request.args.get("kind") or None
    query = request.args.get("q") or None
    events = queries.list_events(g.org, kind=kind, query=query)
    return render_template(
        "events/index.html",
        events=events,
        counts=queries.counts_for(e.id for e in events),
        mine={r.event_id: r for r in queries.my_registrations(current_user, g.org)},
        kind=kind,
        query=query or "",
    )


@bp.get("/o/<slug>/events/manage")
@org_required("organizer")
def manage():
    """The organizer's list: upcoming, past or drafts, by kind."""
    when = request.args.get("when", "upcoming")
    if when not in ("upcoming", "past", "all"):
        when = "upcoming"
    kind = request.args.get("kind") or None
    events = queries.list_events(g.org, when=when, kind=kind, include_drafts=True)
    return render_template(
        "events/manage.html",
        events=events,
        counts=queries.counts_for(e.id for e in events),
        when=when,
        kind=kind,
    )


@bp.route("/o/<slug>/events/new", methods=["GET", "POST"])
@org_required("organizer")
def create():
    """Create an event (saved as a draft, or published at once)."""
    form = EventForm(organizer_choices=_organizer_choices(g.org))
    if request.method == "GET":
        form.kind.data = request.args.get("kind", EventKind.LUNCH_AND_LEARN)
        form.timezone.data = request.args.get("tz", "UTC")
        form.capacity.data = 30
        form.asks_dietary.data = form.kind.data == EventKind.LUNCH_AND_LEARN
        form.organizers.data = [current_user.id]
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            event = lifecycle.create_event(
                g.org,
                current_user,
                kind=form.kind.data or "",
                status=EventStatus.PUBLISHED
                if "publish" in request.form
                else EventStatus.DRAFT,
                organizers=_people(form.organizers.data),
                agenda=parse_agenda(form.agenda.data or ""),
                **form.values(),
            )
            db.session.commit()
            flash(
                _("Published: people can register now.")
                if event.status == EventStatus.PUBLISHED
                else _("Saved as a draft. Publish it when it is ready."),
                "success",
            )
            return redirect(url_for("events.dashboard", event_id=event.id))
    _check_the_rest(form, refused)
    page = render_template("events/form.html", form=form, event=None)
    return page, _form_status(form, refused)


def _check_the_rest(form: EventForm, refused: refusals, event: Event | None = None):
    """The form refused some fields itself: the rules check the others too, so
    every mistake shows in one round trip."""
    if refused.error is not None or not form.errors or "csrf_token" in form.errors:
        return  # the rules have spoken already (every field), or nothing to add
    values = {k: v for k, v in form.values().items() if not form[k].errors}
    with refused:
        lifecycle.check_event_values(
            event.kind if event else form.kind.data, values, event
        )


def _form_status(form, refused: refusals) -> int:
    """400 when the form comes back with errors (its own, or a refusal), else 200."""
    return 400 if form.errors or refused.error is not None else 200


@bp.get("/o/<slug>/events/mine")
@org_required()
def mine():
    """My events: what I registered for, with cancel buttons and calendar links."""
    personal = feeds.feed_for(current_user)
    org_feed = feeds.feed_for(current_user, g.org)
    db.session.commit()
    return render_template(
        "events/mine.html",
        registrations=queries.my_registrations(current_user, g.org),
        personal_feed=feeds.feed_url(personal),
        org_feed=feeds.feed_url(org_feed),
        form=ConfirmForm(),
    )


@bp.post("/o/<slug>/events/feeds/reset")
@org_required()
def reset_feeds():
    """Give my calendar links new secrets (the old ones stop working)."""
    form = ConfirmForm()
    if form.validate_on_submit():
        feeds.reset_feed(current_user)
        feeds.reset_feed(current_user, g.org)
        db.session.commit()
        flash(_("New calendar links made; the old ones no longer work."), "success")
    return redirect(url_for("events.mine", slug=g.org.slug))


# ---------------------------------------------------------------------------
# The event page and registration


def _render_show(event: Event, access: str, status: int = 200, **forms: Any):
    reg = queries.registration_for(event, current_user)
    if "form" not in forms and access in ("member", "manager"):
        defaults = registration.registration_defaults(current_user, event.org)
        forms["form"] = RegistrationForm(
            formdata=None,
            role=defaults["role"],
            department=defaults["department"],
            offers=", ".join(defaults["offers"]),
            seeks=", ".join(defaults["seeks"]),
        )
    if "guest_form" not in forms and access == "guest":
        forms["guest_form"] = GuestRegistrationForm(formdata=None)
    counts = queries.counts_for([event.id])[event.id]
    return (
        render_template(
            "events/show.html",
            event=event,
            access=access,
            registration=reg,
            counts=counts,
            key=request.args.get("key"),
            cancel_form=ConfirmForm(formdata=None),
            **forms,
        ),
        status,
    )


@bp.get("/events/<int:event_id>")
def show(event_id: int):
    """The event page: what, when, where, and a way to register."""
    event, access = _viewable(event_id)
    return _render_show(event, access)


@bp.post("/events/<int:event_id>/register")
@login_required
def register(event_id: int):
    """A member registers in one click (answers start from their profile)."""
    event, access = _viewable(event_id)
    if access not in ("member", "manager"):
        abort(404)
    form = RegistrationForm()
    refused = refusals(form)
    if form.validate_on_submit():
        defaults = registration.registration_defaults(current_user, event.org)
        with refused:
            reg = registration.register(
                event,
                email=current_user.email,
                name=current_user.name,
                user=current_user,
                source=RegistrationSource.MEMBER,
                level=defaults["level"],
                **form.answers(),
            )
            db.session.commit()
            if reg.holds_seat:
                flash(_("You're registered. A confirmation is on its way."), "success")
            else:
                flash(
                    _(
                        "The event is full: you're #%(position)d on the waitlist.",
                        position=reg.waitlist_position,
                    ),
                    "warning",
                )
            return redirect(url_for("events.show", event_id=event.id))
    return _render_show(event, access, refused.status(400), form=form)


@bp.post("/events/<int:event_id>/guest")
@limiter.limit(GUEST_LIMIT)
@limiter.limit(GUEST_ADDRESS_LIMIT, key_func=_guest_address)
def register_guest(event_id: int):
    """A guest registers with name and e-mail; the place waits for confirmation."""
    event, access = _viewable(event_id)
    if access != "guest":
        abort(404)
    form = GuestRegistrationForm()
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            reg = registration.register(
                event,
                email=form.email.data or "",
                name=form.name.data,
                source=RegistrationSource.GUEST,
                **form.answers(),
            )
            db.session.commit()
            return render_template("events/guest_pending.html", event=event, reg=reg)
    return _render_show(event, access, refused.status(400), guest_form=form)


# The two pages behind e-mailed links: a link that cannot be used, or an event
# that refuses it now, is a LinkError shown on templates/events/link_problem.html.


@bp.route("/events/<int:event_id>/confirm/<token>", methods=["GET", "POST"])
def confirm_guest(event_id: int, token: str):
    """A guest confirms their e-mail address (a button, so link scanners can't)."""
    form = ConfirmForm()
    reg = links.read_guest_token(token, event_id)
    if form.validate_on_submit():
        reg = registration.confirm_guest(token)
        db.session.commit()
        return render_template("events/guest_confirmed.html", reg=reg)
    return render_template("events/confirm_guest.html", reg=reg, form=form)


@bp.route("/events/<int:event_id>/cancel/<token>", methods=["GET", "POST"])
def cancel_link(event_id: int, token: str):
    """Cancel a place from the link in the confirmation e-mail."""
    form = ConfirmForm()
    reg = links.registration_from_cancel_token(token, event_id)
    if form.validate_on_submit():
        registration.cancel_registration(reg, from_link=True)
        db.session.commit()
        return render_template("events/cancelled.html", reg=reg)
    return render_template("events/cancel_link.html", reg=reg, form=form)


@bp.post("/events/<int:event_id>/cancel")
@login_required
def cancel_mine(event_id: int):
    """Cancel my own place (from the event page or "My events")."""
    event, _access = _viewable(event_id)
    reg = queries.registration_for(event, current_user)
    if reg is None or not ConfirmForm().validate_on_submit():
        abort(400, description=_("There is no place of yours to cancel."))
    with refusals():
        registration.cancel_registration(reg, by=current_user)
        db.session.commit()
        flash(_("Your place at %(title)s is cancelled.", title=event.title), "success")
        if request.form.get("next") == "mine":
            return redirect(url_for("events.mine", slug=event.org.slug))
    return redirect(url_for("events.show", event_id=event.id))


@bp.get("/events/<int:event_id>/calendar.ics")
def calendar(event_id: int):
    """The event as an .ics file."""
    event, _access = _viewable(event_id)
    return Response(
        event_ics(event, "PUBLISH"),
        content_type=ICS_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="event-{event.id}.ics"'},
    )


@bp.get("/calendar/<token>.ics")
@no_store  # a personal feed: where its owner will be
def feed(token: str):
    """A subscribable calendar feed (personal or organization) behind a secret URL."""
    body = feeds.feed_calendar(token)
    if body is None:
        abort(404)
    return Response(body, content_type=ICS_MIMETYPE)


# ---------------------------------------------------------------------------
# Organizer tools


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
def edit(event_id: int):
    """Change an event; people registered hear about a new time or place."""
    event = managed_event(event_id)
    form = EventForm(obj=event, organizer_choices=_organizer_choices(event.org, event))
    if request.method == "GET":
        for name in (
            "starts_at",
            "ends_at",
            "registration_opens_at",
            "registration_closes_at",
        ):
            form[name].data = local(getattr(event, name), event.timezone)
        form.organizers.data = [p.id for p in event.organizers]
        form.agenda.data = agenda_text(event)
    form.kind.data = event.kind  # the kind is fixed once created
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            workshop = event.kind == EventKind.WORKSHOP
            changed = lifecycle.update_event(
                event,
                current_user,
                organizers=_people(form.organizers.data),
                agenda=parse_agenda(form.agenda.data or "") if workshop else None,
                **form.values(),
            )
            db.session.commit()
            flash(_changed_message(event, changed), "success")
            return redirect(url_for("events.dashboard", event_id=event.id))
    _check_the_rest(form, refused, event)
    page = render_template("events/form.html", form=form, event=event)
    return page, _form_status(form, refused)


def _changed_message(event: Event, changed: set[str]) -> str:
    if not changed:
        return _("Nothing changed.")
    told = changed & set(TIME_FIELDS + PLACE_FIELDS)
    if told and event.status == EventStatus.PUBLISHED:
        return _("Saved. Everyone registered gets an e-mail with the new details.")
    return _("Saved.")


@bp.post("/events/<int:event_id>/publish")
def publish(event_id: int):
    """Publish a draft: registration opens."""
    event = managed_event(event_id)
    if ConfirmForm().validate_on_submit():
        with refusals():
            lifecycle.publish_event(event)
            db.session.commit()
            flash(_("Published: people can register now."), "success")
    return redirect(url_for("events.dashboard", event_id=event.id))


@bp.route("/events/<int:event_id>/cancel-event", methods=["GET", "POST"])
def cancel_event(event_id: int):
    """Cancel the event; everyone registered is told (with a calendar cancel)."""
    event = managed_event(event_id)
    form = CancelEventForm()
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            lifecycle.cancel_event(event, form.reason.data)
            db.session.commit()
            flash(
                _("The event is cancelled; everyone registered is being told."),
                "success",
            )
            return redirect(url_for("events.dashboard", event_id=event.id))
    page = render_template("events/cancel_event.html", event=event, form=form)
    return page, _form_status(form, refused)


@bp.post("/events/<int:event_id>/duplicate")
def duplicate(event_id: int):
    """Run it again: a draft copy, by default on the same weekday next month."""
    event = managed_event(event_id)
    form = DuplicateForm()
    if form.validate_on_submit():
        with refusals():
            copy = lifecycle.duplicate_event(event, current_user, form.starts_at.data)
            db.session.commit()
            flash(_("Copied as a draft: check the details, then publish."), "success")
            return redirect(url_for("events.edit", event_id=copy.id))
    return redirect(url_for("events.dashboard", event_id=event.id))


@bp.route("/events/<int:event_id>/repeat", methods=["GET", "POST"])
def repeat(event_id: int):
    """Make a repeating series from this event (drafts to review and publish)."""
    event = managed_event(event_id)
    form = SeriesForm()
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            events = lifecycle.create_series(
                event, current_user, form.repeat.data or "", form.count.data
            )
            db.session.commit()
            made = len(events) - 1
            flash(
                ngettext(
                    "Made %(num)d more events as drafts.",
                    "Made %(num)d more events as drafts.",
                    made,
                ),
                "success",
            )
            return redirect(
                url_for("events.manage", slug=event.org.slug, when="upcoming")
            )
    page = render_template("events/repeat.html", event=event, form=form)
    return page, _form_status(form, refused)


@bp.get("/events/<int:event_id>/dashboard")
def dashboard(event_id: int):
    """The organizer's overview: seats, waitlist, check-ins, catering."""
    event = managed_event(event_id)
    return render_template(
        "events/dashboard.html",
        event=event,
        data=dashboards.dashboard(event),
        share_url=links.event_url(event, guest=True),
        form=ConfirmForm(),
        duplicate_form=DuplicateForm(),
    )


@bp.get("/events/<int:event_id>/catering")
def catering(event_id: int):
    """A printable catering list: counts per need and who needs what."""
    event = managed_event(event_id)
    return render_template(
        "events/catering.html",
        event=event,
        summary=dashboards.catering_summary(event),
        people=dashboards.catering_list(event),
    )


@bp.route("/events/<int:event_id>/attendees", methods=["GET", "POST"])
def attendees(event_id: int):
    """The attendee table (search, pages) and a form to add someone."""
    event = managed_event(event_id)
    form = AddAttendeeForm()
    if form.validate_on_submit():
        with refusals(form):
            reg = registration.register(
                event,
                email=form.email.data or "",
                name=form.name.data,
                source=RegistrationSource.ORGANIZER,
                **form.answers(),
            )
            db.session.commit()
            if reg.holds_seat:
                added = _("Added %(name)s: registered.", name=reg.name)
            else:
                added = _(
                    "Added %(name)s: waitlisted (#%(position)d).",
                    name=reg.name,
                    position=reg.waitlist_position,
                )
            flash(added, "success")
            return redirect(url_for("events.attendees", event_id=event.id))
    # A form posted back here has errors (its own, or a refusal shown on it).
    status = 400 if request.method == "POST" else 200
    query = request.args.get("q", "")
    state = request.args.get("status") or None
    page = query_page()
    rows, total = dashboards.search_registrations(event, query, state, page)
    return (
        render_template(
            "events/attendees.html",
            event=event,
            rows=rows,
            total=total,
            page=page,
            per_page=50,
            query=query,
            state=state,
            form=form,
            action_form=ConfirmForm(formdata=None),
        ),
        status,
    )


@bp.get("/events/<int:event_id>/attendees.csv")
@no_store
def attendees_csv(event_id: int):
    """Every registration as CSV (streamed)."""
    event = managed_event(event_id)
    name = f"event-{event.id}-attendees.csv"
    record(
        event.org_id,
        "export.attendees",
        f"Downloaded the attendee list of “{event.title}” (CSV)",
        subject=("event", event.id),
    )
    db.session.commit()  # the download is recorded even if it is never read
    db.session.refresh(event)  # read by the stream, perhaps after the session
    return Response(
        stream_with_context(dashboards.registrations_csv(event)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _registration(event: Event, registration_id: int) -> Registration:
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.event_id != event.id:
        abort(404)
    return reg


@bp.post("/events/<int:event_id>/attendees/<int:registration_id>/remove")
def remove_attendee(event_id: int, registration_id: int):
    """Take someone off the event (they are told; the waitlist moves up)."""
    event = managed_event(event_id)
    reg = _registration(event, registration_id)
    if ConfirmForm().validate_on_submit():
        with refusals():
            registration.cancel_registration(reg, by=current_user)
            db.session.commit()
            flash(_("Removed %(name)s.", name=reg.name), "success")
    return redirect(url_for("events.attendees", event_id=event.id, **_keep_query()))


@bp.post("/events/<int:event_id>/attendees/<int:registration_id>/move")
def move_attendee(event_id: int, registration_id: int):
    """Give someone a seat, or put them at a place on the waitlist."""
    event = managed_event(event_id)
    reg = _registration(event, registration_id)
    form = MoveForm()
    if form.validate_on_submit():
        with refusals():
            registration.move_registration(reg, form.to.data or "", form.position.data)
            db.session.commit()
            if reg.holds_seat:
                moved = _("%(name)s has a seat.", name=reg.name)
            else:
                moved = _(
                    "%(name)s is #%(position)d on the waitlist.",
                    name=reg.name,
                    position=reg.waitlist_position,
                )
            flash(moved, "success")
    else:
        flash(
            _("Choose where to move them (a waitlist position is a number)."), "error"
        )
    return redirect(url_for("events.attendees", event_id=event.id, **_keep_query()))


def _keep_query() -> dict[str, Any]:
    return {k: v for k, v in request.args.items() if k in ("q", "status", "page")}
