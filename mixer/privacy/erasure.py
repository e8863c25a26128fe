"""Erasure: a person erases their account, or an admin a member's data in one
organization (``docs/privacy.md`` says what goes and what stays, and why).

What makes figures is kept; what makes a person is not. Registrations, pairs,
meetings, connections, follow-up ratings and choices stay as rows (so every
count, rate and tally adds up as before) but lose their names, addresses, words
and files. The account itself is kept as an empty, inactive row named "Former
member", because pairs and registrations point at it: the other side of a pair
then reads "Former member".

Both ways go through ``erase_in_org``; ``erase_account`` runs it with no
organization (everything, everywhere) and then empties the account.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, or_, select, update
from sqlalchemy.sql import ColumnElement

from mixer import clock, storage
from mixer.accounts.models import ApiToken, SignIn, User
from mixer.accounts.services import authenticate
from mixer.asks.models import Ask
from mixer.audit.services import forget_actor, record
from mixer.charter.models import CharterAck
from mixer.checkin.models import DoorHelper
from mixer.concurrency import changed_rows
from mixer.connections.models import ConnectionNote
from mixer.errors import DomainError
from mixer.events.models import (
    CalendarFeed,
    Event,
    EventSession,
    Registration,
    event_organizer,
    new_badge_token,
)
from mixer.extensions import db
from mixer.followup.models import FollowupPrompt
from mixer.freebusy.feeds import remove_feed
from mixer.mail.models import MessageStatus, OutboxMessage
from mixer.orgs.models import Invitation, Membership, Organization
from mixer.orgs.services import remove_member
from mixer.pairs.models import Pair, PairFeedback, PairMeeting
from mixer.printouts.services import cache_folder
from mixer.recognition.models import Award, Testimonial
from mixer.roster.models import RosterEntry, RosterList, RosterMentor
from mixer.slots.models import SlotBooking
from mixer.speakers.models import (
    Material,
    SessionSpeaker,
    SpeakerInvitation,
    SpeakerProfile,
)
from mixer.speakers.storage import remove_on_commit
from mixer.sso.models import SsoIdentity
from mixer.webhooks.models import WebhookDelivery, WebhookEndpoint

FORMER_MEMBER = "Former member"
# Addresses in the reserved ``.invalid`` domain never receive mail (RFC 2606;
# ``queue_mail`` drops them), and each is unique, as the tables require.
ERASED_DOMAIN = "erased.invalid"
# Cached PDFs that print people's names (badge sheets, rotation printouts).
PRINTOUT_AREAS = ("badges", "rotations")
# Without a password, erasing needs a sign-in this recent (an e-mailed link).
FRESH_SIGN_IN = 15


class ErasureError(DomainError):
    """An erasure that cannot be done as asked; the message is for people."""


def check_reauthenticated(user: User, password: str | None) -> None:
    """Refuse unless the person proved again that it is them: their password,
    or (without one) a sign-in made in the last ``FRESH_SIGN_IN`` minutes."""
    if user.password_hash:
        found = authenticate(user.email, password or "")
        if found is None or found.id != user.id:
            raise ErasureError(_("That is not your password."), field="password")
        return
    sign_in = user.current_sign_in
    fresh = clock.now() - timedelta(minutes=FRESH_SIGN_IN)
    if sign_in is None or sign_in.created_at < fresh:
        raise ErasureError(
            ngettext(
                "Sign in again with an e-mailed link first, then erase within "
                "%(num)d minute.",
                "Sign in again with an e-mailed link first, then erase within "
                "%(num)d minutes.",
                FRESH_SIGN_IN,
            ),
            field="password",
        )


def erased_address(kind: str, row_id: int) -> str:
    """A unique address that is nobody's and receives no mail."""
    return f"erased-{kind}{row_id}@{ERASED_DOMAIN}"


def erase_account(user: User) -> dict[str, int]:
    """Erase a person everywhere, at their own request; what was done, counted.

    Refused (``OrgError``, nothing changed) while they are an organization's
    only admin: someone must be able to run it. The account stays as an empty,
    inactive "Former member" that cannot sign in; its sign-ins, tokens and
    calendar feeds go, and every organization they were in records
    ``person.erased`` with a neutral reference (the account's number).
    """
    addresses = {user.email.lower()}
    known_as = [user.name, user.email]  # forgotten in the audit trail below
    orgs = [m.org for m in user.memberships]
    # Emptied first, so the mail the leaving sends (a pair closed) names nobody.
    _empty_account(user)
    done = erase_in_org(user, None, addresses)
    for org in orgs:
        record(
            org.id,
            "person.erased",
            f"A member erased their own account (person #{user.id}).",
            subject=("user", user.id),
            details={"by": "self", **done},
            actor=user,
        )
    # Their name as it was on entries of what they did, as admins, goes too, and
    # so do their name and address in what the trail says was done to them.
    forget_actor(user.id, known_as)
    db.session.flush()
    return done


def erase_member(membership: Membership, by: User) -> dict[str, int]:
    """An admin erases a member's data in their organization; what was done.

    The person leaves the organization, and everything the organization holds
    about them (places at its events, notes, answers' words, pair notes,
    testimonials, files, mail) is erased as for their own erasure. Their
    account belongs to them: its name, address and other organizations are
    untouched. An admin erases themselves from their profile (409 here).
    """
    if membership.user_id == by.id:
        raise ErasureError(
            _("Erase your own data from your profile (Your data)."), status=409
        )
    user, org = membership.user, membership.org
    known_as = [user.name, user.email]
    done = erase_in_org(user, org, {user.email.lower()})
    # The organization's trail forgets them too (its "member.removed" named them).
    forget_actor(user.id, known_as, org_id=org.id)
    record(
        org.id,
        "person.erased",
        f"An admin erased a member's data in {org.name} (person #{user.id}).",
        subject=("user", user.id),
        details={"by": "admin", **done},
        actor=by,
    )
    db.session.flush()
    return done


def erase_in_org(
    user: User, org: Organization | None, addresses: set[str]
) -> dict[str, int]:
    """Erase what ``org`` (None: every organization) holds about ``user``, whose
    addresses (before any change) are ``addresses``; counts of what was done."""
    org_ids = _scope(user, org, addresses)
    roster = _drop_roster(user, org_ids)
    for membership in list(user.memberships):
        if membership.org_id in org_ids:
            remove_member(membership)  # closes their open pairs there, both told
    regs = _registrations(user, addresses, org_ids)
    for reg in regs:
        strip_registration(reg, FORMER_MEMBER, erased_address("r", reg.id))
        reg.badge_token = new_badge_token()  # an old badge's QR code stops working
    reg_ids = [reg.id for reg in regs]
    done = {
        "registrations": len(regs),
        "notes": _delete(ConnectionNote, ConnectionNote.author_id.in_(reg_ids)),
        "answers": _clear(
            FollowupPrompt,
            FollowupPrompt.registration_id.in_(reg_ids),
            comment=None,
            reflection=None,
        ),
        "pair_notes": _strip_pair_notes(user, org_ids),
        "feedback": _clear(
            PairFeedback,
            PairFeedback.user_id == user.id,
            PairFeedback.pair_id.in_(select(Pair.id).where(Pair.org_id.in_(org_ids))),
            helped=None,
        ),
        "asks": _clear(
            Ask, Ask.requester_id == user.id, Ask.org_id.in_(org_ids), note=None
        ),
        "testimonials": _delete(
            Testimonial,
            Testimonial.author_id == user.id,
            Testimonial.org_id.in_(org_ids),
        ),
        "awards": _clear(
            Award, Award.user_id == user.id, Award.org_id.in_(org_ids), citation=None
        ),
        "files": _delete_material(user, org_ids),
        "mail": _cancel_mail(addresses, None if org is None else org_ids),
        "webhook_deliveries": _drop_deliveries(addresses, org_ids),
        **roster,
    }
    events = select(Event.id).where(Event.org_id.in_(org_ids))
    sessions = select(EventSession.id).where(EventSession.event_id.in_(events))
    _delete(
        SessionSpeaker,
        SessionSpeaker.user_id == user.id,
        SessionSpeaker.session_id.in_(sessions),
    )
    _delete(DoorHelper, DoorHelper.user_id == user.id, DoorHelper.event_id.in_(events))
    db.session.execute(
        delete(event_organizer).where(
            event_organizer.c.user_id == user.id,
            event_organizer.c.event_id.in_(events),
        )
    )
    _clear(
        SpeakerInvitation,
        SpeakerInvitation.email.in_(addresses),
        SpeakerInvitation.event_id.in_(events),
        name=FORMER_MEMBER,
        email=f"erased-invitation@{ERASED_DOMAIN}",
    )
    _delete(Invitation, Invitation.email.in_(addresses), Invitation.org_id.in_(org_ids))
    _delete(
        CalendarFeed, CalendarFeed.user_id == user.id, CalendarFeed.org_id.in_(org_ids)
    )
    _delete(ApiToken, ApiToken.user_id == user.id, ApiToken.org_id.in_(org_ids))
    # Their line about what to talk about in a five-minute slot (the booking
    # itself stays: the host's recognition counts it).
    _clear(
        SlotBooking,
        SlotBooking.guest_id == user.id,
        SlotBooking.org_id.in_(org_ids),
        about="",
    )
    _drop_printouts({reg.event_id for reg in regs})
    db.session.flush()
    return done


def _drop_roster(user: User, org_ids: list[int]) -> dict[str, int]:
    """Delete the person's check-in lists (with their private notes), their
    places on others' lists (with the keeper's notes about them: a note about
    someone who left is no one's to keep), their student-mentor role and their
    charter acknowledgements, in these organizations; counts."""
    mine = select(Membership.id).where(
        Membership.user_id == user.id, Membership.org_id.in_(org_ids)
    )
    done = {
        "checkin_lists": _delete(RosterList, RosterList.owner_id.in_(mine)),
        "on_checkin_lists": _delete(RosterEntry, RosterEntry.student_id.in_(mine)),
        "charter_acknowledgements": _delete(
            CharterAck, CharterAck.membership_id.in_(mine)
        ),
    }
    _delete(RosterMentor, RosterMentor.membership_id.in_(mine))
    return done


def strip_registration(reg: Registration, name: str, email: str) -> None:
    """Keep a place's facts (status, times, role, department) without its person:
    name and address replaced, dietary needs, tags and level gone."""
    reg.name, reg.email = name, email
    reg.dietary, reg.level = None, None
    reg.offers, reg.seeks = [], []


def _empty_account(user: User) -> None:
    """The account as an inactive, nameless row no one can sign in to."""
    profile = db.session.scalar(
        select(SpeakerProfile).where(SpeakerProfile.user_id == user.id)
    )
    if profile is not None:
        if profile.photo_key:
            remove_on_commit(profile.photo_key)
        db.session.delete(profile)
    user.name, user.email = FORMER_MEMBER, erased_address("u", user.id)
    user.pronouns = user.bio = user.password_hash = None
    user.offers, user.seeks = [], []
    user.email_confirmed_at = user.last_login_at = None
    user.is_active_account = False
    _delete(SignIn, SignIn.user_id == user.id)
    _delete(ApiToken, ApiToken.user_id == user.id)
    _delete(CalendarFeed, CalendarFeed.user_id == user.id)
    _delete(SsoIdentity, SsoIdentity.user_id == user.id)
    remove_feed(user.id)  # the calendar address and its busy times
    db.session.flush()


def _scope(user: User, org: Organization | None, addresses: set[str]) -> list[int]:
    """The organizations to erase in: ``org``, or every one that holds anything
    about the person (memberships, places at events, pairs, asks, awards)."""
    if org is not None:
        return [org.id]
    return list(
        db.session.scalars(
            select(Organization.id).where(
                or_(
                    Organization.id.in_(
                        select(Membership.org_id).where(Membership.user_id == user.id)
                    ),
                    Organization.id.in_(
                        select(Event.org_id)
                        .join(Registration, Registration.event_id == Event.id)
                        .where(
                            or_(
                                Registration.user_id == user.id,
                                Registration.email.in_(addresses),
                            )
                        )
                    ),
                    Organization.id.in_(
                        select(Pair.org_id).where(
                            or_(Pair.a_id == user.id, Pair.b_id == user.id)
                        )
                    ),
                    Organization.id.in_(
                        select(Ask.org_id).where(Ask.requester_id == user.id)
                    ),
                    Organization.id.in_(
                        select(Award.org_id).where(Award.user_id == user.id)
                    ),
                    Organization.id.in_(
                        select(Testimonial.org_id).where(
                            Testimonial.author_id == user.id
                        )
                    ),
                    Organization.id.in_(
                        select(Event.org_id)
                        .join(Material, Material.event_id == Event.id)
                        .where(Material.uploaded_by_id == user.id)
                    ),
                )
            )
        )
    )


def _registrations(
    user: User, addresses: set[str], org_ids: Iterable[int]
) -> list[Registration]:
    """The person's places at the organizations' events: by account, or by an
    address of theirs (a guest sign-up before they had an account)."""
    return list(
        db.session.scalars(
            select(Registration)
            .join(Event, Event.id == Registration.event_id)
            .where(
                Event.org_id.in_(list(org_ids)),
                or_(
                    Registration.user_id == user.id,
                    Registration.email.in_(addresses),
                ),
            )
        )
    )


def _delete(model: Any, *conditions: ColumnElement[bool]) -> int:
    """Delete the rows matching every condition; how many."""
    return changed_rows(
        delete(model).where(*conditions).execution_options(synchronize_session="fetch")
    )


def _clear(model: Any, *conditions: ColumnElement[bool], **values: Any) -> int:
    """Set ``values`` on the rows matching every condition (and still holding
    anything to clear); how many."""
    changed = or_(*(getattr(model, k).is_not(None) for k in values))
    return changed_rows(
        update(model)
        .where(*conditions, changed)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )


def _strip_pair_notes(user: User, org_ids: list[int]) -> int:
    """Take the person's own "what helped" out of their pairs' meetings (the
    other side's words are theirs and stay); how many meetings changed."""
    key = str(user.id)
    meetings = db.session.scalars(
        select(PairMeeting)
        .join(Pair, Pair.id == PairMeeting.pair_id)
        .where(
            Pair.org_id.in_(org_ids),
            or_(Pair.a_id == user.id, Pair.b_id == user.id),
        )
    )
    changed = 0
    for meeting in meetings:
        if key in (meeting.notes or {}):
            meeting.notes = {k: v for k, v in meeting.notes.items() if k != key}
            changed += 1
    return changed


def _delete_material(user: User, org_ids: list[int]) -> int:
    """Delete the files and links the person uploaded to the organizations'
    sessions; the stored files go once the erasure commits. How many."""
    items = db.session.scalars(
        select(Material)
        .join(Event, Event.id == Material.event_id)
        .where(Material.uploaded_by_id == user.id, Event.org_id.in_(org_ids))
    ).all()
    for item in items:
        if item.storage_key:
            remove_on_commit(item.storage_key)
        db.session.delete(item)
    return len(items)


def _cancel_mail(addresses: set[str], org_ids: list[int] | None) -> int:
    """Delete mail to the person (queued: it never goes; sent or failed: its
    copy holds their data), of the organizations or, with None, any mail.
    A message a worker is handing to the mail server right now goes its way."""
    conditions = [
        OutboxMessage.to_addr.in_(addresses),
        OutboxMessage.status != MessageStatus.SENDING,
    ]
    if org_ids is not None:
        conditions.append(OutboxMessage.org_id.in_(org_ids))
    return _delete(OutboxMessage, *conditions)


def _drop_deliveries(addresses: set[str], org_ids: list[int]) -> int:
    """Delete the organizations' webhook deliveries whose body names one of the
    person's addresses (registrations and pairs carry name and e-mail): waiting
    ones are never sent, sent ones keep no copy. A delivery whose attempt is under
    way finds itself gone and stops (``webhooks.delivery.attempt``)."""
    if not addresses:
        return 0
    endpoints = select(WebhookEndpoint.id).where(WebhookEndpoint.org_id.in_(org_ids))
    naming = or_(
        *(WebhookDelivery.body.contains(json.dumps(a)[1:-1]) for a in addresses)
    )
    return _delete(WebhookDelivery, WebhookDelivery.endpoint_id.in_(endpoints), naming)


def _drop_printouts(event_ids: set[int]) -> None:
    """Forget the cached badge sheets and printouts that print the person's name
    (drawn again, without it, when next asked for)."""
    store = storage.get_store()
    for event_id in sorted(event_ids):
        for area in PRINTOUT_AREAS:
            for key in store.list(cache_folder(area, event_id)):
                store.delete(key)
