"""Pages of the asks feature: ask for a micro-mentor, pick people, answer asks.

``/asks`` is a person's own inbox (their asks, and asks of them); an ask's page
``/asks/<id>`` is for the person who wrote it only, everyone else gets 404. The
e-mailed answer links work without signing in: GET shows a confirmation (mail
scanners fetch links), POST records the answer.
"""

from __future__ import annotations

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
from flask_login import current_user, login_required

from mixer.asks import services
from mixer.asks.forms import ActionForm, AnswerForm, AskForm, PickForm, TopicForm
from mixer.asks.models import MentorRequest
from mixer.asks.services import AskError
from mixer.errors import LinkError
from mixer.extensions import db, limiter
from mixer.orgs.access import org_required, require_membership
from mixer.web import link_problem

bp = Blueprint("asks", __name__)


def _own(request_id: int) -> MentorRequest:
    """The ask, for its writer while still a member (404 for everyone else)."""
    ask = services.request_for(request_id, current_user)
    if ask is None:
        abort(404)
    require_membership(services.org_of(ask))
    return ask


@bp.get("/asks")
@login_required
def index():
    """The person's asks and the asks waiting for their answer."""
    waiting, answered = services.asks_of(current_user)
    return render_template(
        "asks/index.html",
        mine=services.my_requests(current_user),
        waiting=waiting,
        answered=answered,
        memberships=sorted(current_user.memberships, key=lambda m: m.org.name),
        form=AnswerForm(formdata=None),
    )


@bp.route("/o/<slug>/asks/new", methods=["GET", "POST"])
@org_required()
def new():
    """Ask for a micro-mentor on a topic."""
    form = AskForm()
    if request.method == "GET" and request.args.get("topic"):
        form.topic.data = request.args["topic"][: services.TOPIC_MAX]
    if form.validate_on_submit():
        try:
            ask = services.create_request(
                g.org, current_user, form.topic.data, form.note.data
            )
        except AskError as exc:
            db.session.rollback()
            getattr(form, exc.field or "topic").errors.append(str(exc))
        else:
            db.session.commit()
            return redirect(url_for("asks.show", request_id=ask.id))
    status = 422 if form.errors else 200
    return render_template(
        "asks/new.html",
        form=form,
        tags=services.offered_tags(g.org),
        open_count=len(services.open_asks(current_user, g.org)),
    ), status


def _render_show(ask: MentorRequest, status: int = 200, pick_form=None):
    """The ask's page; what it shows depends on where the ask stands."""
    suggestions = services.suggested(ask) if ask.status == "open" else []
    return render_template(
        "asks/show.html",
        ask=ask,
        suggestions=suggestions,
        asked=services.asked(ask),
        waiting=services.is_waiting(ask),
        nearby=(
            services.nearby_topics(g.org, ask.topic)
            if ask.status == "open" and not suggestions
            else []
        ),
        organizers_told=services.organizers_told(ask),
        pair=services.pair_of(ask) if ask.status == "matched" else None,
        pick_form=pick_form or PickForm(formdata=None),
        action_form=ActionForm(formdata=None),
        max_picks=services.MAX_PICKS,
        days=services.ANSWER_DAYS,
    ), status


@bp.get("/asks/<int:request_id>")
@login_required
def show(request_id: int):
    """One ask: suggestions to pick from, or where it stands."""
    return _render_show(_own(request_id))


@bp.post("/asks/<int:request_id>/ask")
@login_required
def pick(request_id: int):
    """Ask the people the requester picked."""
    ask = _own(request_id)
    form = PickForm()
    if form.validate_on_submit():
        try:
            chosen = services.ask(ask, current_user, form.people.data or [])
        except AskError as exc:
            db.session.rollback()
            form.people.errors = [str(exc)]
            if exc.status == 409:  # the ranking moved on: show the fresh list
                services.refresh(ask, current_user)
                db.session.commit()
        else:
            db.session.commit()
            flash(
                f"Asked {len(chosen)} {'person' if len(chosen) == 1 else 'people'}. "
                "We will e-mail you as soon as someone accepts.",
                "success",
            )
            return redirect(url_for("asks.show", request_id=ask.id))
    return _render_show(ask, 422, pick_form=form)


def _action(request_id: int, act, done: str):
    """Run one button's service on the requester's own ask, then back to it."""
    ask = _own(request_id)
    if ActionForm().validate_on_submit():
        try:
            act(ask)
        except AskError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(done, "success")
    return redirect(url_for("asks.show", request_id=ask.id))


@bp.post("/asks/<int:request_id>/withdraw")
@login_required
def withdraw(request_id: int):
    """Withdraw an open ask; nobody is e-mailed about it."""
    return _action(
        request_id,
        lambda ask: services.withdraw(ask, current_user),
        "Your ask is withdrawn. Nobody else will be asked.",
    )


@bp.post("/asks/<int:request_id>/refresh")
@login_required
def refresh(request_id: int):
    """Rank the suggestions again (people change what they offer)."""
    return _action(
        request_id,
        lambda ask: services.refresh(ask, current_user),
        "The suggestions are up to date.",
    )


@bp.post("/asks/<int:request_id>/organizers")
@login_required
def organizers(request_id: int):
    """Pass an ask nobody offers on to the organizers."""
    return _action(
        request_id,
        lambda ask: services.tell_organizers(ask, current_user),
        "The organizers have your ask and can reply to you by e-mail.",
    )


@bp.post("/asks/<int:request_id>/topic")
@login_required
def topic(request_id: int):
    """Switch to a nearby topic that people offer, before anyone was asked."""
    form = TopicForm()
    return _action(
        request_id,
        lambda ask: services.change_topic(ask, current_user, form.topic.data or ""),
        "The topic is changed; here is who offers it.",
    )


def _confirm(row, form: AnswerForm, status: int):
    """The confirmation page of an e-mailed answer link (nothing changes yet)."""
    choice = form.choice.data or request.args.get("choice")
    return render_template(
        "asks/answer.html",
        row=row,
        ask=row.request,
        choice=choice if choice in services.CHOICES else None,
        department=services.department_of(row.request),
        expires_at=services.expires_at(row),
        form=form,
    ), status


@bp.route("/asks/answer/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def answer_link(token: str):
    """GET: confirm the choice from the e-mail; POST: record it (spends the link).

    A POST that does not validate (an expired form, no choice) shows the
    confirmation again with the reason, as a 422, and spends nothing.
    """
    form = AnswerForm()
    try:
        if not form.validate_on_submit():
            row, _ = services.read_answer_token(token, current_user)
            services.check_answerable(row)
            return _confirm(row, form, 422 if form.is_submitted() else 200)
        outcome = services.answer_by_token(token, form.choice.data, current_user)
    except LinkError as exc:
        db.session.rollback()
        return link_problem(
            exc, "This answer link cannot be used", template="asks/link_problem.html"
        )
    except AskError as exc:
        db.session.rollback()
        return render_template("asks/answer_closed.html", message=str(exc)), exc.status
    db.session.commit()
    return render_template("asks/answered.html", outcome=outcome)


@bp.post("/asks/answers/<int:suggestion_id>")
@login_required
def answer_inbox(suggestion_id: int):
    """Accept or decline an ask from the signed-in person's inbox."""
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            outcome = services.answer(suggestion_id, current_user, form.choice.data)
        except AskError as exc:
            db.session.rollback()
            if exc.status == 404:
                abort(404)
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(services.answer_message(outcome), "success")
    return redirect(url_for("asks.index"))
