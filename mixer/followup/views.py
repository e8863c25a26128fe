"""Follow-up pages: the prompt from the e-mail (no password), the same prompt in
the app, the organizers' results page and the "close the event" button.

A GET never changes anything (mail scanners fetch every link in a message); a
POST saves the answers and spends the e-mailed link.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from mixer.errors import LinkError
from mixer.events.access import managed_event
from mixer.events.models import Event
from mixer.extensions import db
from mixer.followup import services
from mixer.followup.forms import CloseForm, PromptForm, prompt_form
from mixer.followup.models import FollowupPrompt
from mixer.followup.services import CHOICE_LABELS, QUESTION, FollowupError
from mixer.web import link_problem

bp = Blueprint("followup", __name__)
DONE_KEY = "followup_done"


@bp.app_template_global()
def followup_open_count() -> int:
    """Open prompts of the signed-in person (for a badge in the navigation).

    Counted once a request: the navigation and the org home both show it.
    """
    if not current_user.is_authenticated:
        return 0
    if "followup_open_count" not in g:
        g.followup_open_count = services.open_count(current_user)
    return g.followup_open_count


@bp.app_template_global()
def followup_state(event: Event) -> dict[str, Any]:
    """What the event dashboard shows about follow-up: can it be closed, did
    the prompts go, when are they due."""
    followup = services.followup_for(event)
    done = followup is not None and (
        followup.sent_at is not None or followup.closed_by_id is not None
    )
    return {
        "closable": not done and services.closable(event) is None,
        "done": done,
        "followup": followup,
    }


def _link_problem(reason: str, message: str, status: int | None = None):
    """A clear page for a prompt link that cannot be used; nothing changed."""
    return link_problem(
        LinkError(reason, message),
        template="followup/link_problem.html",
        status=status,
    )


def _render(prompt: FollowupPrompt, form: PromptForm, action: str, status: int = 200):
    """The prompt form page, posting to ``action``."""
    return (
        render_template(
            "followup/prompt.html",
            prompt=prompt,
            event=prompt.event,
            form=form,
            action=action,
            labels=CHOICE_LABELS,
            question=QUESTION,
        ),
        status,
    )


def _save(prompt: FollowupPrompt, form: PromptForm, data: dict | None):
    """Save through the service; the formed pairs, or None after an inline error."""
    try:
        pairs = services.save_answers(prompt, form.answers(), token_data=data)
    except FollowupError as exc:
        db.session.rollback()
        target = form[exc.field] if exc.field in ("rating", "consent") else None
        (target.errors if target else form.form_errors).append(str(exc))
        return None
    db.session.commit()
    return pairs


@bp.route("/followup/p/<token>", methods=["GET", "POST"])
def answer(token: str):
    """The prompt behind an e-mailed link: shown on GET, saved once on POST."""
    try:
        prompt, data = services.read_prompt_token(token)
    except LinkError as exc:
        return _link_problem(exc.reason, str(exc))
    if current_user.is_authenticated and not services.belongs_to(prompt, current_user):
        return _link_problem(
            "other",
            "This link was sent to someone else, so it does not open here.",
            403,
        )
    form = prompt_form(prompt, services.people_for(prompt), request.args.get("pick"))
    action = url_for("followup.answer", token=token)
    if not form.validate_on_submit():
        return _render(prompt, form, action, 422 if form.is_submitted() else 200)
    try:
        pairs = _save(prompt, form, data)
    except LinkError as exc:  # spent by a second tab or a double click
        db.session.rollback()
        return _link_problem(exc.reason, str(exc))
    if pairs is None:
        return _render(prompt, form, action, 422)
    session[DONE_KEY] = {
        "prompt": prompt.id,
        "paired": [p.a.name if p.b_id == prompt.user_id else p.b.name for p in pairs],
    }
    return redirect(url_for("followup.thanks"))


@bp.get("/followup/thanks")
def thanks():
    """The confirmation after answering from an e-mail: what was saved.

    Shown once: it lists private choices, and the browser may be a shared one.
    """
    done = session.pop(DONE_KEY, None) or {}
    prompt = db.session.get(FollowupPrompt, done.get("prompt") or 0)
    if prompt is None:
        return redirect(url_for("followup.mine"))
    return render_template(
        "followup/thanks.html",
        prompt=prompt,
        event=prompt.event,
        people=services.people_for(prompt),
        labels=CHOICE_LABELS,
        paired=done.get("paired") or [],
    )


@bp.get("/followup")
@login_required
def mine():
    """The signed-in person's prompts: waiting for an answer, then answered."""
    open_prompts, answered = services.prompts_of(current_user)
    return render_template(
        "followup/mine.html", open_prompts=open_prompts, answered=answered
    )


@bp.route("/followup/prompts/<int:prompt_id>", methods=["GET", "POST"])
@login_required
def prompt(prompt_id: int):
    """Answer or change one's own prompt in the app (anyone else's is 404)."""
    found = services.prompt_of(current_user, prompt_id)
    if found is None:
        abort(404)
    form = prompt_form(found, services.people_for(found), request.args.get("pick"))
    action = url_for("followup.prompt", prompt_id=found.id)
    if not form.validate_on_submit():
        return _render(found, form, action, 422 if form.is_submitted() else 200)
    pairs = _save(found, form, None)
    if pairs is None:
        return _render(found, form, action, 422)
    flash(f"Saved your answers about {found.event.title}.", "success")
    for pair in pairs:
        other = pair.a if pair.b_id == current_user.id else pair.b
        flash(f"You and {other.name} chose each other: see your e-mail.", "success")
    return redirect(url_for("followup.mine"))


@bp.get("/events/<int:event_id>/followup")
def results(event_id: int):
    """The organizers' view of the follow-up: answers, ratings, pairs formed."""
    event = managed_event(event_id)
    return render_template(
        "followup/results.html",
        event=event,
        data=services.results(event),
        form=CloseForm(),
        question=QUESTION,
    )


@bp.post("/events/<int:event_id>/close")
def close(event_id: int):
    """End the event now and send the follow-up prompts (organizers only)."""
    event = managed_event(event_id)
    if not CloseForm().validate_on_submit():
        abort(400)
    try:
        closing = services.close_event(event, current_user)
    except FollowupError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("followup.results", event_id=event.id))
    db.session.commit()
    if closing.already_closed:
        flash("This event was already closed; nobody gets a second prompt.", "info")
    else:
        flash(
            f"Closed. Follow-up prompts are on their way to {closing.attendees} "
            f"{'person' if closing.attendees == 1 else 'people'} who checked in.",
            "success",
        )
    return redirect(url_for("followup.results", event_id=event.id))
