"""An event's follow-up round: when its prompts go, closing the event, and sending
one prompt to each attendee who was checked in.

The prompts go a while after the event's end (``schedule_prompts``, heard from
``signals.event_scheduled`` in ``mixer.followup.listeners``), or at once when an
organizer closes the event (``close_event``, with an optional note of theirs).
The ``followup.prompts`` job (``send_prompts``) makes one prompt per attendee and
e-mails each once, ever; ``FOLLOWUP_REMINDER_DAYS`` later the
``followup.reminders`` job (``send_reminders``) reminds those who have not
answered, once.
What a prompt holds is in ``mixer.followup.prompts``; saving the answers and
pairing people in ``mixer.followup.answers``; the organizers' numbers in
``mixer.followup.results``. Plain functions that only ``flush()``; docs/followup.md
explains the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select, update

from mixer import clock, signals
from mixer.accounts.models import User
from mixer.accounts.services import find_user
from mixer.checkin.services import checked_in_count
from mixer.concurrency import changed_rows, insert_once, lock_row
from mixer.errors import DomainError
from mixer.events.models import Event, EventStatus, Registration
from mixer.events.notifications import finish_event
from mixer.extensions import db
from mixer.followup.models import CHOICES, NOTE_MAX, EventFollowup, FollowupPrompt
from mixer.followup.prompts import (
    CHOICE_LABELS,
    QUESTION,
    link_days,
    people_for,
    prompt_link,
    prompt_token,
)
from mixer.i18n import recipient_locale
from mixer.jobs import services as jobs
from mixer.jobs.models import Job, JobStatus
from mixer.mail.models import OutboxMessage
from mixer.mail.services import UNDELIVERABLE_TLD, queue_mail

JOB_KIND = "followup.prompts"
REMINDER_JOB = "followup.reminders"
PREFERENCE = "followup_prompts"  # the kind of mail a member may turn off


class FollowupError(DomainError):
    """A request about follow-up that cannot be met; the message is for people.

    409 when the state of things refuses it (a draft cannot be closed), 400 for
    bad input.
    """

    status = 409


# ---------------------------------------------------------------------------
# The round and its job


def delay() -> timedelta:
    """How long after an event's end the prompts go (``FOLLOWUP_DELAY_HOURS``)."""
    return timedelta(hours=float(current_app.config.get("FOLLOWUP_DELAY_HOURS", 2)))


def reminder_days() -> int:
    """Days after the prompts that the one reminder goes (``FOLLOWUP_REMINDER_DAYS``;
    0 sends none)."""
    return int(current_app.config.get("FOLLOWUP_REMINDER_DAYS", 3))


def job_key(event: Event, due: datetime) -> str:
    """The prompt job's dedupe key: one per event and due time (a move makes anew)."""
    return f"{JOB_KIND}:{event.id}:{clock.stamp(due)}"


def followup_for(event: Event) -> EventFollowup | None:
    """The event's follow-up round, if one was scheduled or the event was closed."""
    return db.session.scalar(
        select(EventFollowup).where(EventFollowup.event_id == event.id)
    )


def _followup_row(event: Event, due: datetime) -> EventFollowup:
    """The event's follow-up round, created when missing (race-safe: of two made
    at the same moment, the one that wins is used)."""
    found = followup_for(event)
    if found is None:
        insert_once(
            EventFollowup,
            {"event_id": event.id, "due_at": due, "prompt_count": 0},
            unique=("event_id",),
        )
        found = followup_for(event)
    if found is None:  # pragma: no cover - the unique row exists now
        raise RuntimeError(f"no follow-up round for event {event.id}")
    return found


def _pending_keys(event: Event) -> list[str]:
    """Dedupe keys of the event's prompt jobs still waiting to run."""
    return list(
        db.session.scalars(
            select(Job.dedupe_key).where(
                Job.dedupe_key.like(f"{JOB_KIND}:{event.id}:%"),
                Job.status == JobStatus.PENDING,
            )
        )
    )


def _enqueue(event: Event, followup: EventFollowup) -> None:
    """Make sure the prompt job for ``followup.due_at`` will run (and only it)."""
    key = job_key(event, followup.due_at)
    for stale in _pending_keys(event):
        if stale != key:
            jobs.cancel(stale)
    job = jobs.schedule(
        JOB_KIND,
        {"event_id": event.id, "due": clock.stamp(followup.due_at)},
        run_at=max(followup.due_at, clock.now()),
        dedupe_key=key,
        org_id=event.org_id,
    )
    if job is None and followup.sent_at is None:
        # The same key ran before without sending (it failed): run it again.
        known = db.session.scalar(select(Job).where(Job.dedupe_key == key))
        if known is not None and known.status in (JobStatus.DONE, JobStatus.FAILED):
            jobs.requeue(known)


def schedule_prompts(event: Event) -> EventFollowup | None:
    """Schedule the prompts at the event's end plus the delay; moved with the event.

    Nothing is scheduled for an event published after its follow-up was due (an
    event recorded after the fact sends no surprise mail; its organizers can
    still close it), nor once the prompts went or an organizer closed it.
    """
    followup = followup_for(event)
    if followup is not None and followup.is_done:
        return followup
    due = event.ends_at + delay()
    if followup is None and due <= clock.now():
        return None
    followup = _followup_row(event, due)
    followup.due_at = due
    _enqueue(event, followup)
    db.session.flush()
    return followup


def cancel_prompts(event: Event) -> None:
    """Cancel the pending prompt job of a cancelled event."""
    for key in _pending_keys(event):
        jobs.cancel(key)


# ---------------------------------------------------------------------------
# Closing an event


@dataclass
class Closing:
    """What closing an event did (or found already done)."""

    event: Event
    followup: EventFollowup
    attendees: int  # checked-in people the prompt is (or was) e-mailed to
    already_closed: bool = False


def closable(event: Event) -> str | None:
    """Why ``event`` cannot be closed now, or None when it can."""
    if event.status == EventStatus.DRAFT:
        return _(
            "This event is still a draft: it has not taken place, so there is "
            "nobody to follow up with yet."
        )
    if event.status == EventStatus.CANCELLED:
        return _("This event was cancelled, so there is nobody to follow up with.")
    if event.starts_at > clock.now():
        return _(
            "This event has not started yet (%(when)s). You can close "
            "it once it has begun.",
            when=event.when_text,
        )
    return None


def checked_in(event: Event) -> list[Registration]:
    """The event's registered people who were checked in, by registration id."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.is_checked_in)
            .order_by(Registration.id)
        )
    )


def attendee_count(event: Event) -> int:
    """How many registered people of the event were checked in."""
    return checked_in_count(event)["checked_in"]


def _accounts(regs: list[Registration]) -> dict[int, User]:
    """The account behind each registration (by link, else by e-mail address), as
    a prompt finds it (``_prompt_user``), keyed by registration id."""
    linked = {r.user_id for r in regs if r.user_id is not None}
    emails = {r.email.lower() for r in regs if r.user_id is None}
    users = db.session.scalars(
        select(User).where(User.id.in_(linked) | func.lower(User.email).in_(emails))
    ).all()
    by_id = {u.id: u for u in users}
    by_email = {(u.email or "").lower(): u for u in users}
    found = {}
    for reg in regs:
        user = (
            by_id.get(reg.user_id) if reg.user_id else by_email.get(reg.email.lower())
        )
        if user is not None:
            found[reg.id] = user
    return found


def gets_mail(reg: Registration, user: User | None) -> bool:
    """Whether a prompt for ``reg`` (whose account is ``user``) is e-mailed: not
    to an address that never receives mail, nor to a member who turned prompts
    off or whose account is deactivated (what ``queue_mail`` checks)."""
    if reg.email.rstrip(">").lower().endswith(UNDELIVERABLE_TLD):
        return False
    return user is None or (user.is_active and user.wants(PREFERENCE))


def mail_count(event: Event) -> int:
    """How many people closing ``event`` e-mails a prompt (what the confirmation
    says): those checked in, less the ones ``gets_mail`` leaves out."""
    regs = checked_in(event)
    accounts = _accounts(regs)
    return sum(gets_mail(reg, accounts.get(reg.id)) for reg in regs)


@dataclass
class AfterEvent:
    """Where an attendee finds the follow-up of an event that is over (what a
    badge scanned after the event says instead of "in your follow-ups")."""

    sent: bool  # the prompts went
    due_at: datetime | None = None  # when they go, while they have not
    prompt: FollowupPrompt | None = None  # the attendee's own prompt, once made


def after_event(reg: Registration) -> AfterEvent | None:
    """Where ``reg``'s follow-up is, once their event is over (None before)."""
    event = reg.event
    if event.status != EventStatus.ENDED and not event.is_past:
        return None
    followup = followup_for(event)
    if followup is None:  # an event recorded after the fact: no prompts are due
        return AfterEvent(sent=False)
    if followup.sent_at is None:  # scheduled, or closed and the job not yet run
        return AfterEvent(sent=False, due_at=followup.due_at)
    prompt = db.session.scalar(
        select(FollowupPrompt).where(FollowupPrompt.registration_id == reg.id)
    )
    return AfterEvent(sent=True, prompt=prompt)


def _locked(event_id: int) -> Event:
    """The event's row, locked until the transaction ends (one writer at a time)."""
    event = lock_row(Event, event_id)
    if event is None:
        raise FollowupError(_("No such event."), status=404)
    return event


def clean_note(note: str | None) -> str | None:
    """The organizer's note as kept: plain text, trimmed, at most ``NOTE_MAX``
    characters (FollowupError, 400, when longer), None when empty."""
    text = "\n".join(line.rstrip() for line in (note or "").strip().splitlines())
    if len(text) > NOTE_MAX:
        raise FollowupError(
            ngettext(
                "Keep the note to %(max)d characters (it has %(num)d).",
                "Keep the note to %(max)d characters (it has %(num)d).",
                len(text),
                max=NOTE_MAX,
            ),
            field="note",
            status=400,
        )
    return text or None


def close_event(event: Event, by: User | None, note: str | None = None) -> Closing:
    """End the event now and queue the follow-up prompts; closing twice does nothing.

    ``note`` (plain text, at most ``NOTE_MAX`` characters) is shown in each
    prompt e-mail and on the prompt page. Refuses (FollowupError, 409) a draft,
    a cancelled event, or one that has not started. The prompts go through the
    ``followup.prompts`` job at once.
    """
    note = clean_note(note)
    event = _locked(event.id)
    reason = closable(event)
    if reason:
        raise FollowupError(reason)
    followup = followup_for(event)
    if followup is not None and followup.is_done:
        return Closing(event, followup, mail_count(event), already_closed=True)
    now = clock.now()
    ended_now = event.status == EventStatus.PUBLISHED
    if ended_now:
        # Ended now; the events.finish job later finds it no longer published
        # and leaves it alone.
        event.status = EventStatus.ENDED
    due = now if followup is None or followup.due_at > now else followup.due_at
    followup = _followup_row(event, due)
    followup.due_at = due
    followup.closed_by_id = by.id if by is not None else None
    followup.note = note
    _enqueue(event, followup)
    db.session.flush()
    if ended_now:
        signals.event_closed.send(event, closed_by="organizer")
    return Closing(event, followup, mail_count(event))


# ---------------------------------------------------------------------------
# Sending the prompts (the job)


def send_prompts(event_id: int, due: str, job_id: int | None = None) -> dict[str, int]:
    """Make one prompt per checked-in attendee and e-mail each once, ever.

    Idempotent: prompts are unique per registration and each e-mail has a dedupe
    key, so a job that runs again (or a second job) sends nothing twice.
    """
    found = db.session.get(Event, event_id)
    if found is None or found.status in (EventStatus.DRAFT, EventStatus.CANCELLED):
        return {"prompts": 0, "skipped": 1}
    event = _locked(found.id)  # one sender per event at a time
    followup = followup_for(event)
    if followup is None or clock.stamp(followup.due_at) != due:
        return {"prompts": 0, "moved": 1}  # a later job has the new time
    now = clock.now()
    if followup.due_at > now:
        return {"prompts": 0, "early": 1}
    if event.status == EventStatus.PUBLISHED:
        finish_event(event.id, clock.stamp(event.ends_at))
    existing = {
        p.registration_id: p
        for p in db.session.scalars(
            select(FollowupPrompt).where(FollowupPrompt.event_id == event.id)
        )
    }
    mailed = 0
    people = checked_in(event)
    for number, reg in enumerate(people, start=1):
        prompt = existing.get(reg.id) or _new_prompt(event, reg)
        mailed += _mail_prompt(prompt) is not None
        if job_id and number % 200 == 0:
            jobs.set_progress(job_id, 100 * number // len(people))
    followup.sent_at = followup.sent_at or now
    _schedule_reminders(event, followup.sent_at)
    followup.prompt_count = (
        db.session.scalar(
            select(func.count(FollowupPrompt.id)).where(
                FollowupPrompt.event_id == event.id
            )
        )
        or 0
    )
    db.session.flush()
    return {"prompts": followup.prompt_count, "mailed": mailed}


def _schedule_reminders(event: Event, sent_at: datetime) -> None:
    """The one reminder job of the round, ``FOLLOWUP_REMINDER_DAYS`` after the
    prompts went (none when 0)."""
    days = reminder_days()
    if days <= 0:
        return
    jobs.schedule(
        REMINDER_JOB,
        {"event_id": event.id},
        run_at=sent_at + timedelta(days=days),
        dedupe_key=f"{REMINDER_JOB}:{event.id}",
        org_id=event.org_id,
    )


def send_reminders(event_id: int) -> dict[str, int]:
    """Remind each attendee who has not answered their prompt, once, ever.

    Runs take the event's row lock in turn; each prompt is then claimed by a
    conditional UPDATE (``reminded_at`` still empty, ``answered_at`` still
    empty) before its e-mail is queued, and the e-mail has its own dedupe key,
    so two workers, or the job run twice, remind nobody twice. A member who
    turned prompts off gets none (``queue_mail``).
    """
    found = db.session.get(Event, event_id)
    if found is None or found.status == EventStatus.CANCELLED:
        return {"reminded": 0, "skipped": 1}
    _locked(found.id)  # one reminder run per event at a time (SQLite: first write)
    now = clock.now()
    open_ids = db.session.scalars(
        select(FollowupPrompt.id)
        .where(
            FollowupPrompt.event_id == event_id,
            FollowupPrompt.answered_at.is_(None),
            FollowupPrompt.reminded_at.is_(None),
        )
        .order_by(FollowupPrompt.id)
    ).all()
    mailed = 0
    for prompt_id in open_ids:
        claimed = changed_rows(
            update(FollowupPrompt)
            .where(
                FollowupPrompt.id == prompt_id,
                FollowupPrompt.answered_at.is_(None),
                FollowupPrompt.reminded_at.is_(None),
            )
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if not claimed:
            continue
        prompt = db.session.get_one(FollowupPrompt, prompt_id)
        db.session.refresh(prompt)
        mailed += _mail_prompt(prompt, reminder=True) is not None
    db.session.flush()
    return {"reminded": mailed, "open": len(open_ids)}


def _new_prompt(event: Event, reg: Registration) -> FollowupPrompt:
    """A prompt for one attendee, tied to their account when they have one."""
    user_id = reg.user_id
    if user_id is None:
        account = find_user(reg.email)
        user_id = account.id if account is not None else None
    prompt = FollowupPrompt(event_id=event.id, registration_id=reg.id, user_id=user_id)
    db.session.add(prompt)
    db.session.flush()
    return prompt


def _mail_prompt(
    prompt: FollowupPrompt, reminder: bool = False
) -> OutboxMessage | None:
    """Queue the prompt's one e-mail, or its one reminder (None when it went
    before or is turned off)."""
    event, reg = prompt.event, prompt.registration
    kind = "followup.reminder" if reminder else "followup.prompt"
    key = f"{kind}:{event.id}:{reg.id}"
    user = prompt.user
    token = prompt_token(prompt)
    people = people_for(prompt)
    links = {
        p.registration.id: {
            choice: prompt_link(token, f"{p.registration.id}:{choice}")
            for choice in CHOICES
        }
        for p in people
    }
    context = {
        "event": event,
        "registration": reg,
        "people": people,
        "links": links,
        "labels": CHOICE_LABELS,
        "form_link": prompt_link(token),
        "question": QUESTION,
        "days": link_days(),
        "member": user is not None,
        "note": followup.note if (followup := followup_for(event)) else None,
        "organizer": _organizer_name(followup),
        "reminder": reminder,
    }
    # Whole sentences, lazy: translated when the mail is rendered, in the
    # recipient's language.
    if reminder and people:
        subject = _l(
            "A reminder: who would you like to keep in touch with from %(title)s?",
            title=event.title,
        )
    elif reminder:
        subject = _l("A reminder: how was %(title)s?", title=event.title)
    elif people:
        subject = _l(
            "Who would you like to keep in touch with from %(title)s?",
            title=event.title,
        )
    else:
        subject = _l("How was %(title)s?", title=event.title)
    return queue_mail(
        reg.email,
        subject,
        "followup_prompt",
        context,
        user=user,
        preference=PREFERENCE if user is not None else None,
        org=event.org,
        kind=kind,
        dedupe_key=key,
        locale=recipient_locale(user, event.org),
    )


def _organizer_name(followup: EventFollowup | None) -> str | None:
    """Who signs the note: the organizer who closed the event, when known."""
    if followup is None or followup.closed_by_id is None:
        return None
    user = db.session.get(User, followup.closed_by_id)
    return user.name if user is not None else None
