"""Pages of the slots feature: find and book, my week, offers, and the e-mailed
"did it help?" link (GET shows, POST records; no sign-in needed)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from mixer import clock, tokens
from mixer.errors import NotFound, refusals
from mixer.events.rules import timezone_names
from mixer.extensions import db
from mixer.formatting import local_text
from mixer.orgs.access import org_required
from mixer.slots import availability, services
from mixer.slots.forms import WEEKDAYS, ActionForm, BookForm, OfferForm
from mixer.slots.models import SlotBooking
from mixer.slots.notifications import HELPED_DAYS, HELPED_PURPOSE
from mixer.slots.services import SlotTaken

bp = Blueprint("slots", __name__)


@bp.app_template_filter("slot_time")
def slot_time(value: datetime, tz: str) -> str:
    """ "06 Dec, 12:30" in zone ``tz`` and the page's language, no zone name
    (the buttons of one offer share its zone, said once above them)."""
    return local_text(value.astimezone(ZoneInfo(tz)), "%d %b, %H:%M")


@bp.app_template_filter("slot_weekday")
def slot_weekday(day: str) -> str:
    """An ISO weekday number ("2") as its name in the page's language."""
    return str(dict(WEEKDAYS).get(int(day), day))


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _render_find(form: BookForm, status: int = 200, taken: SlotTaken | None = None):
    topic = (request.args.get("topic") or "")[:80]
    found = availability.find_slots(
        g.org,
        current_user,
        clock.now(),
        topic=topic,
        department_id=_int_arg("department"),
        person_id=_int_arg("person"),
    )
    page = render_template(
        "slots/find.html",
        found=found,
        form=form,
        topic=topic,
        department=_int_arg("department"),
        person=_int_arg("person"),
        topics=availability.offered_topics(g.org.id),
        taken=taken,
    )
    return page, status


@bp.get("/o/<slug>/slots")
@org_required()
def find():
    """Upcoming free slots, by topic, department or person."""
    return _render_find(BookForm(formdata=None))


@bp.post("/o/<slug>/slots/book")
@org_required()
def book():
    """Book the slot whose button was tapped."""
    form = BookForm()
    refused = refusals(form)
    if form.validate_on_submit() and (form.offer_id.data or "").isdigit():
        with refused:
            booking = services.book(
                int(form.offer_id.data),
                current_user,
                services.parse_start(request.form.get("starts_at")),
                form.about.data or "",
            )
            db.session.commit()
            flash(_("Booked. The invite is on its way to you both."), "success")
            return redirect(
                url_for(
                    "slots.week",
                    slug=g.org.slug,
                    booked=booking.id,
                    _anchor=f"booking-{booking.id}",
                )
            )
    taken = refused.error if isinstance(refused.error, SlotTaken) else None
    return _render_find(form, refused.status(400), taken)


@bp.get("/o/<slug>/slots/week")
@org_required()
def week():
    """My bookings this week and next, as guest and host, and my offers."""
    tz = services.default_zone(g.org)
    return render_template(
        "slots/week.html",
        week=services.my_week(g.org, current_user, tz),
        tz=tz,
        now=clock.now(),
        form=ActionForm(),
    )


@bp.route("/o/<slug>/slots/offers/new", methods=["GET", "POST"])
@org_required()
def new_offer():
    """Publish open slots."""
    form = OfferForm()
    if request.method == "GET":
        form.timezone.data = services.default_zone(g.org)
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            services.create_offer(g.org, current_user, form.values())
            db.session.commit()
            flash(_("Your slots are open."), "success")
            return redirect(url_for("slots.week", slug=g.org.slug))
    return _offer_page(
        form, None, refused.status(200 if request.method == "GET" else 400)
    )


def _offer_page(form: OfferForm, offer, status: int):
    return (
        render_template(
            "slots/offer.html", form=form, offer=offer, zones=timezone_names()
        ),
        status,
    )


@bp.route("/o/<slug>/slots/offers/<int:offer_id>", methods=["GET", "POST"])
@org_required()
def edit_offer(offer_id: int):
    """Change, pause or reopen an offer."""
    offer = services.offer_of(g.org, current_user, offer_id)
    form = OfferForm(obj=offer if request.method == "GET" else None)
    if request.method == "GET":
        form.weekdays.data = sorted(offer.days)
        form.topics.data = ", ".join(offer.topics)
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            services.update_offer(offer, form.values())
            db.session.commit()
            flash(_("Your slots are saved."), "success")
            return redirect(url_for("slots.week", slug=g.org.slug))
    return _offer_page(
        form, offer, refused.status(200 if request.method == "GET" else 400)
    )


@bp.post("/o/<slug>/slots/offers/<int:offer_id>/delete")
@org_required()
def delete_offer(offer_id: int):
    """Take an offer down (its upcoming bookings are cancelled)."""
    offer = services.offer_of(g.org, current_user, offer_id)
    if ActionForm().validate_on_submit():
        services.delete_offer(offer, current_user)
        db.session.commit()
        flash(_("Your slots are taken down."), "success")
    return redirect(url_for("slots.week", slug=g.org.slug))


@bp.post("/o/<slug>/slots/bookings/<int:booking_id>/cancel")
@org_required()
def cancel(booking_id: int):
    """Either side cancels a booking."""
    booking = services.booking_for(g.org, current_user, booking_id)
    if ActionForm().validate_on_submit():
        with refusals():
            if services.cancel_booking(booking, current_user):
                flash(_("Cancelled. You have both been told."), "success")
            db.session.commit()
    return redirect(url_for("slots.week", slug=g.org.slug))


@bp.route("/o/<slug>/slots/bookings/<int:booking_id>/move", methods=["GET", "POST"])
@org_required()
def move(booking_id: int):
    """Move a booking to another free slot of the same offer."""
    booking = services.booking_for(g.org, current_user, booking_id)
    form = ActionForm()
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            services.move_booking(
                booking,
                current_user,
                services.parse_start(request.form.get("starts_at")),
            )
            db.session.commit()
            flash(_("Moved. The new time is on its way to you both."), "success")
            return redirect(
                url_for("slots.week", slug=g.org.slug, _anchor=f"booking-{booking.id}")
            )
    slots = availability.free_slots_of_offer(booking.offer, clock.now())
    page = render_template("slots/move.html", booking=booking, slots=slots, form=form)
    return page, refused.status(200 if request.method == "GET" else 400)


@bp.post("/o/<slug>/slots/bookings/<int:booking_id>/helped")
@org_required()
def helped(booking_id: int):
    """The guest answers "did it help?" from their week."""
    booking = services.booking_for(g.org, current_user, booking_id)
    if booking.guest_id != current_user.id:
        raise NotFound(_("This slot is not there for you."))
    if ActionForm().validate_on_submit():
        with refusals():
            services.answer_helped(booking, request.form.get("answer", ""))
            db.session.commit()
            flash(_("Thank you. Your answer is saved."), "success")
    return redirect(url_for("slots.week", slug=g.org.slug))


@bp.post("/o/<slug>/slots/bookings/<int:booking_id>/keep")
@org_required()
def keep(booking_id: int):
    """ "Keep talking every two weeks?": one side's yes."""
    booking = services.booking_for(g.org, current_user, booking_id)
    if ActionForm().validate_on_submit():
        with refusals():
            booking = services.keep_talking(booking, current_user)
            db.session.commit()
            if booking.pair_id is not None:
                flash(_("You are a pair now: a check-in every two weeks."), "success")
            else:
                flash(
                    _("Proposed. The pair starts when the other says yes too."),
                    "success",
                )
    return redirect(url_for("slots.week", slug=g.org.slug))


@bp.route("/slots/helped/<token>", methods=["GET", "POST"])
def helped_link(token: str):
    """The e-mailed "did it help?": GET shows the three answers, POST saves one."""
    data = tokens.read(
        HELPED_PURPOSE, token, max_age=HELPED_DAYS * 86400, reusable=True
    )
    booking = db.session.get(SlotBooking, data.get("b"))
    if booking is None:
        raise NotFound(_("This slot is not there for you."))
    form = ActionForm()
    saved = False
    if form.validate_on_submit():
        with refusals():
            services.answer_helped(booking, request.form.get("answer", ""))
            db.session.commit()
            saved = True
    return render_template(
        "slots/helped.html",
        booking=booking,
        form=form,
        saved=saved,
        token=token,
        chosen=request.args.get("answer"),
    )
