"""What happened, told to whoever cares: how a lower feature reaches a higher one.

Events, orgs and pairs sit below follow-up, pairs and recognition: they must not
import them. When something happens that a higher feature reacts to, the lower
one sends a signal here, and the higher feature subscribes in its own
``listeners.py`` (imported by ``create_app``), as Indico and pretix do::

    # mixer/events/lifecycle.py (sends)
    signals.event_cancelled.send(event)

    # mixer/followup/listeners.py (listens)
    @signals.event_cancelled.connect
    def _cancel_prompts(event: Event, **_: Any) -> None:
        services.cancel_prompts(event)

Receivers run at once, in the sender's transaction: what they write is
committed with the change that caused it, or rolled back with it, and an
exception in a receiver refuses the whole change. A receiver only ``flush()``es,
like any service. The sender is the first argument; everything else is a
keyword. ``docs/development.md`` lists who sends and who listens.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

event_scheduled = _signals.signal(
    "event-scheduled",
    doc="""A published event's times are set: it was published, or it moved.

    Sender: the ``Event`` (already flushed with its new times). Sent by
    ``mixer.events.lifecycle``. Listeners: follow-up (schedules the prompts for
    a while after the end).""",
)

event_cancelled = _signals.signal(
    "event-cancelled",
    doc="""An event was cancelled.

    Sender: the ``Event``. Sent by ``mixer.events.lifecycle``. Listeners:
    follow-up (cancels the prompts).""",
)

sign_in_for_stranger = _signals.signal(
    "sign-in-for-stranger",
    doc="""Someone asked for a sign-in link for an address that has no account:
    is it a guest some feature knows (registered for an event by e-mail)?

    Sender: the address (valid, lower case). Each receiver returns the guest's
    name, or None when it knows nobody by that address; with a name, the sender
    e-mails a first sign-in link (the account is made when it is used). Sent by
    ``mixer.accounts.services.send_magic_link``. Listeners: events (a
    registration that is registered or waitlisted).""",
)

password_sign_in = _signals.signal(
    "password-sign-in",
    doc="""A person is about to sign in by password or an e-mailed link (a magic
    link, a password reset, an invitation): may they?

    Sender: the ``User``. Each receiver returns None, or ``(organization name,
    address to sign in at instead)`` to refuse; the sender then raises
    ``mixer.accounts.services.PasswordsOff`` pointing there. Sent by
    ``mixer.accounts.services.check_password_sign_in`` (from
    ``browser.log_in`` and the sign-in and reset links). Listeners: sso (an
    organization with passwords switched off, for its members who are not
    admins).""",
)

planning_ties = _signals.signal(
    "planning-ties",
    doc="""A Mentor Mixer is being planned: which people in the room are tied to
    each other in ways the rotations cannot see from below (an open pair)?

    Sender: the organization id; keyword ``users``, the account ids in the room.
    Each receiver returns a set of ``(user id, user id)`` pairs to keep apart.
    Sent by ``mixer.rotations.memory.ties_for``. Listeners: pairs (open pairs:
    active or paused).""",
)

member_leaving = _signals.signal(
    "member-leaving",
    doc="""A person is being taken out of an organization (before the membership
    row is deleted).

    Sender: the ``Membership``. Sent by ``mixer.orgs.services.remove_member``.
    Listeners: pairs (closes the person's open pairs there; both are told).""",
)

testimonial_unpublished = _signals.signal(
    "testimonial-unpublished",
    doc="""Approved words stopped being public (hidden, returned to moderation,
    changed by their author or taken back), before the caller commits.

    Sender: the organization id. Sent by ``mixer.recognition.testimonials``.
    Listeners: insights (forgets the organization's stored figures, which may
    quote them).""",
)

pair_feedback_given = _signals.signal(
    "pair-feedback-given",
    doc="""One side of a pair gave end-of-term feedback.

    Sender: the ``Pair``. Keywords: ``user`` (who gave it), ``testimonial`` (their
    words for others, or empty) and ``consent`` (whether they may be shown). Sent
    by ``mixer.pairs.lifecycle.submit_feedback``. Listeners: recognition (files
    words given with consent as a testimonial to moderate).""",
)

pair_ended = _signals.signal(
    "pair-ended",
    doc="""A pair is no longer open: it was closed, or its term ended (a mentor's
    place may have opened).

    Sender: the ``Pair``. Sent by ``mixer.pairs.schedule`` (``withdraw`` when
    closing, ``_end_term``). Listeners: follow-up (forms the mutual choices that
    capacity held back, through the ``followup.held`` job).""",
)

availability_changed = _signals.signal(
    "availability-changed",
    doc="""A member changed how many people they mentor at most
    (``mentoring_capacity``) or their "not before" date (``available_from``).

    Sender: the ``Membership`` (flushed with its new values). Sent by
    ``Membership.update_mentoring`` (the profile page and the members API).
    Listeners: follow-up (forms the mutual choices that the old values held back,
    through the ``followup.held`` job).""",
)

checked_in = _signals.signal(
    "checked-in",
    doc="""Someone was let in: a registration got its check-in time (not a
    repeat, a replayed scan or a refusal).

    Sender: the registration id. Sent by ``mixer.checkin.services`` (every way
    in: scan, API, door link, walk-in). Listeners: observability (counts
    check-ins for ``/metrics`` once the transaction commits).""",
)

registration_created = _signals.signal(
    "registration-created",
    doc="""Someone signed up for an event (a new place, or a cancelled one used
    again).

    Sender: the ``Registration`` (flushed, with its status: pending for a guest
    until confirmed, else registered or waitlisted). Sent by
    ``mixer.events.registration.register``. Listeners: observability (counts
    registrations by source and status for ``/metrics`` once the transaction
    commits).""",
)

registration_cancelled = _signals.signal(
    "registration-cancelled",
    doc="""A place was cancelled (by the person, an organizer or the API).

    Sender: the ``Registration`` (flushed, cancelled). Sent by
    ``mixer.events.registration.cancel_registration``. Listeners: webhooks
    (``registration.cancelled``).""",
)

event_closed = _signals.signal(
    "event-closed",
    doc="""An event is over: a published event became ended, because an organizer
    closed it or because its end passed (whichever came first; once per event).

    Sender: the ``Event`` (flushed, ended). Keyword ``closed_by``: "organizer"
    or "schedule". Sent by ``mixer.followup.services.close_event`` and
    ``mixer.events.notifications.finish_event``. Listeners: webhooks
    (``event.closed``).""",
)

pair_created = _signals.signal(
    "pair-created",
    doc="""Two members were paired (after a mixer, an ask, or a renewal).

    Sender: the ``Pair`` (flushed). Sent by ``mixer.pairs.lifecycle.create_pair``.
    Listeners: webhooks (``pair.created``).""",
)
