"""Follow-up pages: the prompt from the e-mail (no password), the same prompt in
the app, the organizers' results page and the "close the event" button.

A GET never changes anything (mail scanners fetch every link in a message); a
POST saves the answers, from any link of the e-mail, as often as wanted until
the link expires. A link that cannot be used (broken, expired, someone else's)
gets ``followup/link_problem.html`` from the app's ``LinkError`` handler.
Closing an event is a GET (the confirmation: how many people get an e-mail, an
optional note) and then a POST.
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
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from mixer.errors import refusals
from mixer.events.access import managed_event
from mixer.events.models import Event, Registration
from mixer.extensions import db
from mixer.followup import answers, prompts, services
from mixer.followup.forms import CloseForm, PromptForm, prompt_form
from mixer.followup.models import FollowupPrompt
from mixer.followup.prompts import CHOICE_LABELS, QUESTION
from mixer.followup.results import results as results_of

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
        g.followup_open_count = prompts.open_count(current_user)
    return g.followup_open_count


@bp.app_template_global()
def followup_state(event: Event) -> dict[str, Any]:
    """What the event dashboard shows about follow-up: can it be closed, did
    the prompts go, when are they due."""
    followup = services.followup_for(event)
    done = followup is not None and followup.is_done
    return {
        "closable": not done and services.closable(event) is None,
        "done": done,
        "followup": followup,
    }


@bp.app_template_global()
def badge_followup(reg: Registration) -> services.AfterEvent | None:
    """Where the scanner's follow-up is, for a badge scanned after the event."""
    return services.after_event(reg)


def _render(prompt: FollowupPrompt, form: PromptForm, action: str, status: int = 200):
    """The prompt form page, posting to ``action``."""
    followup = services.followup_for(prompt.event)
    return (
        render_template(
            "followup/prompt.html",
            prompt=prompt,
            event=prompt.event,
            form=form,
            action=action,
            labels=CHOICE_LABELS,
            question=QUESTION,
            note=followup.note if followup is not None else None,
        ),
        status,
    )


@bp.route("/followup/p/<token>", methods=["GET", "POST"])
def answer(token: str):
    """The prompt behind an e-mailed link: shown on GET, saved once on POST."""
    prompt, _data = prompts.read_prompt_token(token, current_user)
    form = prompt_form(prompt, prompts.people_for(prompt), request.args.get("pick"))
    action = url_for("followup.answer", token=token)
    if not form.validate_on_submit():
        return _render(prompt, form, action, 422 if form.is_submitted() else 200)
    with refusals(form):
        pairs = answers.save_answers(prompt, form.answers())
        db.session.commit()
        session[DONE_KEY] = {
            "prompt": prompt.id,
            "paired": [
                p.a.name if p.b_id == prompt.user_id else p.b.name for p in pairs
            ],
        }
        return redirect(url_for("followup.thanks"))
    return _render(prompt, form, action, 422)


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
        people=prompts.people_for(prompt),
        labels=CHOICE_LABELS,
        paired=done.get("paired") or [],
    )


@bp.get("/followup")
@login_required
def mine():
    """The signed-in person's prompts: waiting for an answer, then answered."""
    open_prompts, answered = prompts.prompts_of(current_user)
    return render_template(
        "followup/mine.html", open_prompts=open_prompts, answered=answered
    )


@bp.route("/followup/prompts/<int:prompt_id>", methods=["GET", "POST"])
@login_required
def prompt(prompt_id: int):
    """Answer or change one's own prompt in the app (anyone else's is 404)."""
    found = prompts.prompt_of(current_user, prompt_id)
    if found is None:
        abort(404)
    form = prompt_form(found, prompts.people_for(found), request.args.get("pick"))
    action = url_for("followup.prompt", prompt_id=found.id)
    if not form.validate_on_submit():
        return _render(found, form, action, 422 if form.is_submitted() else 200)
    with refusals(form):
        pairs = answers.save_answers(found, form.answers())
        db.session.commit()
        flash(
            _("Saved your answers about %(title)s.", title=found.event.title), "success"
        )
        for pair in pairs:
            other = pair.a if pair.b_id == current_user.id else pair.b
            flash(
                _(
                    "You and %(name)s chose each other: see your e-mail.",
                    name=other.name,
                ),
                "success",
            )
        return redirect(url_for("followup.mine"))
    return _render(found, form, action, 422)


@bp.get("/events/<int:event_id>/followup")
def results(event_id: int):
    """The organizers' view of the follow-up: answers, ratings, pairs formed."""
    event = managed_event(event_id)
    return render_template(
        "followup/results.html",
        event=event,
        data=results_of(event),
        question=QUESTION,
    )


@bp.route("/events/<int:event_id>/close", methods=["GET", "POST"])
def close(event_id: int):
    """Confirm (GET: how many people get an e-mail, a note), then end the event
    now and send the follow-up prompts (POST; organizers only)."""
    event = managed_event(event_id)
    form = CloseForm()
    refused = refusals(form)
    confirmed = form.is_submitted() and form.confirm.data == "yes"
    if confirmed and form.validate_on_submit():
        with refused:
            closing = services.close_event(event, current_user, form.note.data)
            db.session.commit()
            _flash_closed(closing)
            return redirect(url_for("followup.results", event_id=event.id))
    elif confirmed and form.csrf_token.errors:
        abort(400)
    status = refused.status(422) if confirmed else 200
    return render_template(
        "followup/close.html",
        event=event,
        form=form,
        followup=services.followup_for(event),
        refusal=services.closable(event),
        mailed=services.mail_count(event),
        attendees=services.attendee_count(event),
    ), status


def _flash_closed(closing: services.Closing) -> None:
    """Tell the organizer what closing did."""
    if closing.already_closed:
        flash(_("This event was already closed; nobody gets a second prompt."), "info")
        return
    flash(
        ngettext(
            "Closed. Follow-up prompts are on their way to %(num)d person who "
            "checked in.",
            "Closed. Follow-up prompts are on their way to %(num)d people who "
            "checked in.",
            closing.attendees,
        ),
        "success",
    )
