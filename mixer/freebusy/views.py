"""One's own calendar feed: paste it, see how its last fetch went, fetch it
again, remove it. Only ever one's own: the pages take no person's id."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from mixer import clock
from mixer.errors import refusals
from mixer.extensions import db
from mixer.freebusy import feeds
from mixer.freebusy.forms import ButtonForm, CalendarFeedForm

bp = Blueprint("freebusy", __name__)


@bp.route("/profile/calendar", methods=["GET", "POST"])
@login_required
def calendar():
    """The feed's state and the form to paste (or replace) its address."""
    form = CalendarFeedForm()
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            feeds.save_feed(current_user.id, form.url.data)
            db.session.commit()
            flash(_("Saved. Mixer fetches your busy times in a moment."), "success")
            return redirect(url_for("freebusy.calendar"))
    feed = feeds.feed_of(current_user.id)
    return render_template(
        "freebusy/calendar.html",
        form=form,
        button=ButtonForm(formdata=None),
        feed=feed,
        problem=feeds.problem_text(feed) if feed else None,
        shown=feeds.shown_address(feed) if feed else None,
    ), refused.status(422 if form.errors else 200)


@bp.post("/profile/calendar/refresh")
@login_required
def refresh():
    """Fetch the feed again soon (the job worker does it)."""
    if ButtonForm().validate_on_submit() and feeds.feed_of(current_user.id):
        feeds.schedule_refresh(current_user.id, clock.now())
        db.session.commit()
        flash(_("Mixer fetches your calendar again in a moment."), "success")
    return redirect(url_for("freebusy.calendar"))


@bp.post("/profile/calendar/remove")
@login_required
def remove():
    """Forget the feed and every busy time read from it."""
    if ButtonForm().validate_on_submit() and feeds.remove_feed(current_user.id):
        db.session.commit()
        flash(_("Your calendar is removed, with every busy time from it."), "success")
    return redirect(url_for("freebusy.calendar"))
