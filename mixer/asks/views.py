"""Pages of the asks feature: ask for a micro-mentor, pick people, answer asks.

``/asks`` is a person's own inbox (their asks, and asks of them); an ask's page
``/asks/<id>`` is for the person who wrote it only, everyone else gets 404. The
e-mailed answer links work without signing in: GET shows a confirmation (mail
scanners fetch links), POST records the answer. A link that cannot be used gets
``asks/link_problem.html`` (the app's ``LinkError`` handler finds it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
from flask_babel import ngettext
from flask_login import current_user, login_required

from mixer.asks import services
from mixer.asks.forms import ActionForm, AnswerForm, AskForm, PickForm, TopicForm
from mixer.asks.links import read_answer_token
from mixer.asks.matching import (
    department_name,
    nearby_topics,
    offered_tags,
    reason_text,
)
from mixer.asks.models import ANSWER_DAYS, Ask, AskStatus, AskSuggestion
from mixer.asks.services import AskError
from mixer.errors import refusals
from mixer.extensions import db, limiter
from mixer.orgs.access import org_required, require_membership

bp = Blueprint("asks", __name__)


@bp.app_template_filter("ask_reason")
def ask_reason(stored: str | None) -> str:
    """A suggestion's reason in the page's language."""
    return reason_text(stored)


@bp.app_template_global()
def pick_messages(max_picks: int) -> dict[str, str]:
    """What the pick form's script says after each number of people picked
    (``static/js/asks.js``), keyed by that number, in the page's language."""
    messages = {}
    for picked in range(1, max_picks + 1):
        left = max_picks - picked
        messages[str(picked)] = (
            ngettext(
                "You picked %(num)d; you can pick %(left)d more.",
                "You picked %(num)d; you can pick %(left)d more.",
                picked,
                left=left,
            )
            if left
            else ngettext(
                "You picked %(num)d, the most at once.",
                "You picked %(num)d, the most at once.",
                picked,
            )
        )
    return messages


def _own(ask_id: int) -> Ask:
    """The ask, for its writer while still a member (404 for everyone else)."""
    ask = services.ask_for(ask_id, current_user)
    if ask is None:
        abort(404)
    require_membership(ask.org)
    return ask


@bp.get("/asks")
@login_required
def index():
    """The person's asks and the asks waiting for their answer."""
    waiting, answered = services.asks_of(current_user)
    return render_template(
        "asks/index.html",
        mine=services.my_asks(current_user),
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
        with refusals(form):
            ask = services.create_ask(
                g.org, current_user, form.topic.data, form.note.data
            )
            db.session.commit()
            return redirect(url_for("asks.show", ask_id=ask.id))
    return render_template(
        "asks/new.html",
        form=form,
        tags=offered_tags(g.org),
        open_count=len(services.open_asks(current_user, g.org)),
    ), 422 if form.errors else 200


def _render_show(ask: Ask, status: int = 200, pick_form: PickForm | None = None):
    """The ask's page; what it shows depends on where the ask stands."""
    suggestions = ask.suggested if ask.is_open else []
    return render_template(
        "asks/show.html",
        ask=ask,
        suggestions=suggestions,
        asked=ask.asked,
        waiting=ask.is_waiting,
        nearby=(
            nearby_topics(g.org, ask.topic) if ask.is_open and not suggestions else []
        ),
        organizers_told=ask.organizers_told_at is not None,
        pair=services.pair_of(ask) if ask.status == AskStatus.MATCHED else None,
        pick_form=pick_form or PickForm(formdata=None),
        action_form=ActionForm(formdata=None),
        max_picks=services.MAX_PICKS,
        days=ANSWER_DAYS,
    ), status


@bp.get("/asks/<int:ask_id>")
@login_required
def show(ask_id: int):
    """One ask: suggestions to pick from, or where it stands."""
    return _render_show(_own(ask_id))


@bp.post("/asks/<int:ask_id>/ask")
@login_required
def pick(ask_id: int):
    """Ask the people the asker picked."""
    ask = _own(ask_id)
    form = PickForm()
    refused = refusals(form)
    if form.validate_on_submit():
        with refused:
            chosen = services.ask_people(ask, current_user, form.people.data or [])
            db.session.commit()
            flash(
                ngettext(
                    "Asked %(num)d person. "
                    "We will e-mail you as soon as someone accepts.",
                    "Asked %(num)d people. "
                    "We will e-mail you as soon as someone accepts.",
                    len(chosen),
                ),
                "success",
            )
            return redirect(url_for("asks.show", ask_id=ask.id))
        if refused.status() == 409:  # the ranking moved on: show the fresh list
            services.refresh(ask, current_user)
            db.session.commit()
    return _render_show(ask, 422, pick_form=form)


def _action(ask_id: int, act: Callable[[Ask], Any], done: str):
    """Run one button's service on the asker's own ask, then back to it."""
    ask = _own(ask_id)
    if ActionForm().validate_on_submit():
        with refusals():
            act(ask)
            db.session.commit()
            flash(done, "success")
    return redirect(url_for("asks.show", ask_id=ask.id))


@bp.post("/asks/<int:ask_id>/withdraw")
@login_required
def withdraw(ask_id: int):
    """Withdraw an open ask; nobody is e-mailed about it."""
    return _action(
        ask_id,
        lambda ask: services.withdraw(ask, current_user),
        _("Your ask is withdrawn. Nobody else will be asked."),
    )


@bp.post("/asks/<int:ask_id>/refresh")
@login_required
def refresh(ask_id: int):
    """Rank the suggestions again (people change what they offer)."""
    return _action(
        ask_id,
        lambda ask: services.refresh(ask, current_user),
        _("The suggestions are up to date."),
    )


@bp.post("/asks/<int:ask_id>/organizers")
@login_required
def organizers(ask_id: int):
    """Pass an ask nobody offers on to the organizers."""
    return _action(
        ask_id,
        lambda ask: services.tell_organizers(ask, current_user),
        _("The organizers have your ask and can reply to you by e-mail."),
    )


@bp.post("/asks/<int:ask_id>/topic")
@login_required
def topic(ask_id: int):
    """Switch to a nearby topic that people offer, before anyone was asked."""
    form = TopicForm()
    return _action(
        ask_id,
        lambda ask: services.change_topic(ask, current_user, form.topic.data or ""),
        _("The topic is changed; here is who offers it."),
    )


def _confirm(row: AskSuggestion, form: AnswerForm, status: int):
    """The confirmation page of an e-mailed answer link (nothing changes yet)."""
    choice = form.choice.data or request.args.get("choice")
    ask = row.ask
    return render_template(
        "asks/answer.html",
        row=row,
        ask=ask,
        choice=choice if choice in services.CHOICES else None,
        department=department_name(ask.requester_id, ask.org_id),
        expires_at=row.expires_at,
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
            row, _data = read_answer_token(token, current_user)
            services.check_answerable(row)
            return _confirm(row, form, 422 if form.is_submitted() else 200)
        outcome = services.answer_by_token(token, form.choice.data, current_user)
    except AskError as exc:
        # An ask that moved on (matched, withdrawn, lapsed, answered) is no broken
        # link: its own page says what happened, with the refusal's status.
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
        with refusals():
            outcome = services.answer(suggestion_id, current_user, form.choice.data)
            db.session.commit()
            flash(services.answer_message(outcome), "success")
    return redirect(url_for("asks.index"))
