"""Pair pages: my pairs, one pair, e-mailed answer links, the organizers' overview.

The pair page is for its two members only; everyone else gets 404, as for other
organizations' pages. Links from e-mails work without signing in: a GET only
shows the answer ready to confirm (mail scanners fetch links), a POST records it.
A link that cannot be used raises ``LinkError``, which the app answers with
``templates/pairs/link_problem.html`` (nothing was changed).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from mixer.accounts.models import User
from mixer.errors import refusals
from mixer.extensions import db
from mixer.orgs.access import membership_for, org_required
from mixer.pairs import answers, display, lifecycle, links, queries
from mixer.pairs.forms import (
    ActionForm,
    CadenceForm,
    FeedbackForm,
    LogMeetingForm,
    MeetingAnswerForm,
    NoteForm,
    StandingForm,
)
from mixer.pairs.models import Pair, PairStatus
from mixer.web import query_page

bp = Blueprint("pairs", __name__)
OVERVIEW_PAGE = 100  # pairs per page of the organizers' list
ACTIONS = {
    "pause": lifecycle.pause,
    "resume": lifecycle.resume,
    "close": lifecycle.close,
}


@bp.app_context_processor
def _pair_helpers() -> dict:
    """Labels and small helpers the pair templates use."""
    return {
        "pair_status_labels": display.STATUS_LABELS,
        "meeting_labels": display.MEETING_LABELS,
        "pair_streak_text": display.streak_text,
        "pair_cadence_text": display.cadence_text,
        "meeting_words": display.MEETING_WORDS,
        "pair_role_labels": display.ROLE_LABELS,
        "pair_first_upper": display.first_upper,
        "pair_status_words": display.STATUS_WORDS,
    }


@bp.app_template_global()
def my_open_pairs(org_id: int) -> list[Pair]:
    """The signed-in person's open pairs in one organization (the org home)."""
    if not current_user.is_authenticated:
        return []
    return [p for p in queries.pairs_of(current_user, org_id) if p.is_open]


def _status() -> int:
    """422 for a form posted with errors, 200 for a page shown."""
    return 422 if request.method == "POST" else 200


def _my_pair(pair_id: int) -> Pair:
    """A pair of the signed-in person (404 for everyone else)."""
    pair = db.session.get(Pair, pair_id)
    if pair is None or not pair.has(current_user.id):
        abort(404)
    g.org = pair.org
    g.membership = membership_for(current_user, pair.org_id)
    return pair


# ---------------------------------------------------------------------------
# Signed-in pages


@bp.get("/pairs")
@login_required
def mine():
    """My pairs in every organization, with what comes next."""
    return render_template("pairs/mine.html", pairs=queries.pairs_of(current_user))


def _render_pair(pair: Pair, status: int = 200, **forms):
    """The pair page with its forms (fresh ones unless given)."""
    forms.setdefault(
        "cadence_form",
        CadenceForm(
            formdata=None,
            cadence_days=pair.cadence_days,
            meeting_minutes=pair.meeting_minutes,
        ),
    )
    forms.setdefault("log_form", LogMeetingForm(formdata=None))
    forms.setdefault("action_form", ActionForm(formdata=None))
    if pair.status == PairStatus.ENDED:
        mine = lifecycle.feedback_of(pair, current_user)
        forms.setdefault(
            "feedback_form",
            FeedbackForm(
                formdata=None,
                rating=str(mine.rating) if mine and mine.rating else None,
                helped=mine.helped if mine else None,
                renew=mine.wants_renewal if mine else False,
            ),
        )
        forms.setdefault("my_feedback", mine)
    page = render_template(
        "pairs/show.html",
        pair=pair,
        other=pair.other_person(current_user),
        cadence=display.first_upper(display.pair_cadence(pair)),
        **forms,
    )
    return page, status


@bp.get("/pairs/<int:pair_id>")
@login_required
def show(pair_id: int):
    """One pair: rhythm, history, logging a meeting, pause/resume/close."""
    return _render_pair(_my_pair(pair_id))


@bp.post("/pairs/<int:pair_id>/cadence")
@login_required
def cadence(pair_id: int):
    """Change the rhythm; both get the updated calendar invite."""
    pair = _my_pair(pair_id)
    form = CadenceForm()
    if form.validate_on_submit():
        with refusals(form):
            changed = lifecycle.change_cadence(
                pair, current_user, form.cadence_days.data, form.meeting_minutes.data
            )
            db.session.commit()
            if changed:
                flash(
                    _("The new rhythm is saved; you both get an updated invite."),
                    "success",
                )
            return redirect(url_for("pairs.show", pair_id=pair.id))
    return _render_pair(pair, 422, cadence_form=form)


@bp.post("/pairs/<int:pair_id>/log")
@login_required
def log(pair_id: int):
    """Log the current meeting: met or skipped, with an optional note."""
    pair = _my_pair(pair_id)
    form = LogMeetingForm()
    if form.validate_on_submit():
        # A refusal is flashed: the form may be hidden (a paused pair).
        with refusals():
            answers.log_meeting(pair, current_user, form.status.data, form.note.data)
            db.session.commit()
            flash(_("Check-in logged. Thank you!"), "success")
            return redirect(url_for("pairs.show", pair_id=pair.id))
    return _render_pair(pair, 422, log_form=form)


@bp.post("/pairs/<int:pair_id>/<any(pause, resume, close):action>")
@login_required
def change(pair_id: int, action: str):
    """Pause, resume or close the pair (both are told)."""
    pair = _my_pair(pair_id)
    if not ActionForm().validate_on_submit():
        abort(400, description=_("The form expired; please try again."))
    with refusals():
        changed = ACTIONS[action](pair, current_user)
        db.session.commit()
        if changed:
            flash(str(display.ACTION_DONE[action]), "success")
    return redirect(url_for("pairs.show", pair_id=pair.id))


@bp.post("/pairs/<int:pair_id>/feedback")
@login_required
def feedback(pair_id: int):
    """End-of-term feedback from the pair page."""
    pair = _my_pair(pair_id)
    form = FeedbackForm()
    if not form.validate_on_submit():
        return _render_pair(pair, 422, feedback_form=form)
    return _save_feedback(pair, current_user, form, None)


def _save_feedback(pair: Pair, user: User, form: FeedbackForm, link_data):
    """Save feedback from the page or a link; the thank-you page."""
    with refusals():
        _feedback, renewed = lifecycle.submit_feedback(
            pair,
            user,
            rating=int(form.rating.data) if form.rating.data else None,
            helped=form.helped.data,
            renew=form.renew.data,
            testimonial=form.testimonial.data,
            consent=form.consent.data,
            link_data=link_data,
        )
        db.session.commit()
        return render_template(
            "pairs/thanks.html", pair=pair, what="feedback", renewed=renewed, user=user
        )
    return redirect(url_for("pairs.show", pair_id=pair.id))


# ---------------------------------------------------------------------------
# Links from e-mails (no sign-in needed; GET shows, POST records)


def _local(pair: Pair, when: datetime) -> datetime:
    """A UTC time in the pair's zone."""
    return when.astimezone(ZoneInfo(pair.timezone))


@bp.route("/pairs/<int:pair_id>/checkin/<token>", methods=["GET", "POST"])
def meeting_link(pair_id: int, token: str):
    """ "Did you meet?": confirm the answer (and add a note)."""
    link = links.read_meeting_link(pair_id, token, current_user)
    if not link.answerable:
        return _note_only(link)
    proposed = _local(link.pair, answers.default_move(link.meeting))
    form = MeetingAnswerForm(
        answer=link.answer.value,
        moved_date=proposed.date(),
        moved_time=proposed.time(),
    )
    if form.validate_on_submit():
        answer = form.answer.data
        with refusals(form):
            outcome = answers.answer_meeting(
                link, answer, form.note.data, form.moved_date.data, form.moved_time.data
            )
            db.session.commit()
            # "noted": the other person answered first; only the note was kept.
            what = answer if outcome == "answered" else "note"
            return render_template(
                "pairs/thanks.html", pair=link.pair, what=what, link=link
            )
    page = render_template("pairs/meeting_answer.html", link=link, form=form)
    return page, _status()


def _note_only(link: links.MeetingLink):
    """The meeting was answered (or moved) already: the holder may add a note."""
    form = NoteForm()
    if link.notable and form.validate_on_submit():
        # Closed as missed meanwhile: refused, and the page below says so.
        with refusals():
            answers.add_meeting_note(link, form.note.data)
            db.session.commit()
            return render_template(
                "pairs/thanks.html", pair=link.pair, what="note", link=link
            )
    status = _status() if link.notable else (409 if request.method == "POST" else 200)
    return render_template("pairs/meeting_note.html", link=link, form=form), status


@bp.route("/pairs/<int:pair_id>/standing/<token>", methods=["GET", "POST"])
def standing_link(pair_id: int, token: str):
    """ "Pause or close?" after three missed meetings."""
    link = links.read_standing_link(pair_id, token, current_user)
    form = StandingForm(choice=link.choice)
    if link.answerable and form.validate_on_submit():
        with refusals(form):
            answers.answer_standing(link, form.choice.data)
            db.session.commit()
            return render_template(
                "pairs/thanks.html", pair=link.pair, what=form.choice.data, link=link
            )
    page = render_template("pairs/standing.html", link=link, form=form)
    return page, _status()


@bp.route("/pairs/<int:pair_id>/feedback/<token>", methods=["GET", "POST"])
def feedback_link(pair_id: int, token: str):
    """End-of-term feedback from the e-mailed link."""
    pair, user, data = links.read_feedback_link(pair_id, token, current_user)
    form = FeedbackForm()
    if form.validate_on_submit():
        return _save_feedback(pair, user, form, data)
    page = render_template("pairs/feedback.html", pair=pair, user=user, form=form)
    return page, _status()


# ---------------------------------------------------------------------------
# Organizers


@bp.get("/o/<slug>/pairs")
@org_required("organizer")
def overview():
    """The organization's pairs: status, rhythm, meetings held and missed."""
    page = query_page()
    data = queries.org_overview(g.org, page, OVERVIEW_PAGE)
    return render_template(
        "pairs/overview.html", overview=data, page=page, per_page=OVERVIEW_PAGE
    )
