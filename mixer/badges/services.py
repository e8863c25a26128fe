"""Badges for registrations: what each prints, single badges and cached batches.

The PDF engine (``mixer.badges.render``) draws whatever ``BadgeData`` it gets; this
module maps registrations to ``BadgeData``, makes the QR URL (``BASE_URL/c/<token>``)
and keeps batch PDFs in the instance folder under the engine's fingerprint, so a
batch is drawn once until something printed on it changes. Big batches are drawn
by the job worker (``badges.batch``, see ``mixer.badges.jobs``). The cache, the job
and its progress page are the shared printouts (``mixer.printouts``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mixer.badges.render import LAYOUTS, BadgeData, BadgeError, batch_fingerprint
from mixer.badges.render import render_badges_pdf as _render_pdf
from mixer.events.models import Event, MixerRole, Registration
from mixer.extensions import db
from mixer.formatting import local_text
from mixer.jobs.models import Job
from mixer.printouts import services as printouts
from mixer.urls import absolute_url

INLINE_LIMIT = 50  # badges drawn during the request; more go to the job worker
BATCH_JOB = "badges.batch"
DEFAULT_LAYOUT = "a4-8"


def badge_scan_url(reg: Registration) -> str:
    """The absolute URL a badge's QR code encodes: ``BASE_URL/c/<token>``."""
    return absolute_url("checkin.badge", token=reg.badge_token)


def badge_role(reg: Registration, event: Event) -> str:
    """The ribbon: organizer or speaker from the event, else mentor/mentee, else
    attendee (people who answered "either" wear the attendee ribbon)."""
    if reg.user_id is not None and any(o.id == reg.user_id for o in event.organizers):
        return "organizer"
    if _name_key(reg.name) in _speaker_names(event):
        return "speaker"
    if reg.role in (MixerRole.MENTOR, MixerRole.MENTEE):
        return str(reg.role)
    return "attendee"


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _speaker_names(event: Event) -> set[str]:
    names = re.split(r",|;| and | & ", event.speakers or "")
    names += [s.speaker_name or "" for s in event.sessions]
    return {_name_key(n) for n in names if n.strip()}


# The ribbons' words (mixer.badges.render.ROLES has the English and the colours).
ROLE_LABELS = {
    "mentor": _l("Mentor"),
    "mentee": _l("Mentee"),
    "speaker": _l("Speaker"),
    "organizer": _l("Organizer"),
    "attendee": _l("Attendee"),
    "either": _l("Mentor & mentee"),
}
HELP_LABEL = _l("Can help with")
# TRANSLATORS: the alternative text of the QR code image on a badge.
QR_ALT = _l("QR code")


@dataclass(frozen=True)
class BadgeWords:
    """What a badge says in one language: worked out once per batch."""

    lang: str
    roles: dict[str, str]
    help: str
    title: str = ""  # the PDF's title ("Badges: Spring mixer")
    qr_alt: str = ""


def badge_words(event: Event) -> BadgeWords:
    """The badge's words in the event's organization's default language (a badge
    is worn at the event, whoever prints it)."""
    lang = event.org.default_locale or "en"
    with force_locale(lang):
        roles = {key: str(label) for key, label in ROLE_LABELS.items()}
        title = (
            _("Badges: %(title)s", title=event.title) if event.title else _("Badges")
        )
        return BadgeWords(lang, roles, str(HELP_LABEL), title, str(QR_ALT))


def badge_data(reg: Registration, words: BadgeWords | None = None) -> BadgeData:
    """Everything printed on ``reg``'s badge, in ``words``' language (default:
    the organization's, ``badge_words``)."""
    event = reg.event
    words = words or badge_words(event)
    start = event.starts_at.astimezone(ZoneInfo(event.timezone))
    role = badge_role(reg, event)
    return BadgeData(
        name=reg.name,
        qr_url=badge_scan_url(reg),
        role=role,
        pronouns=(reg.user.pronouns or "") if reg.user is not None else "",
        department=reg.department or "",
        tags=list(reg.offers or []),
        event_title=event.title,
        event_date=local_text(start, "%a %d %b %Y, %H:%M", words.lang),
        organization=event.org.name,
        role_label=words.roles[role],
        help_label=words.help,
        document_title=words.title,
        qr_alt=words.qr_alt,
        lang=words.lang,
    )


def attendee_badge_pdf(reg: Registration) -> bytes:
    """One person's badge as a 4 × 3 in PDF page (BadgeError 409 without a seat)."""
    if not reg.holds_seat:
        raise BadgeError(
            _("A badge is ready once you hold a seat at the event."), status=409
        )
    return _render_pdf([badge_data(reg)], "badge-4x3")


def batch_registrations(event: Event) -> list[Registration]:
    """Whose badges a batch prints: registered people, by name."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.holds_seat)
            .options(selectinload(Registration.user))
            .order_by(Registration.name, Registration.id)
        )
    )


def check_layout(layout: str | None) -> str:
    """A known layout key (default A4), or BadgeError naming the choices."""
    layout = layout or DEFAULT_LAYOUT
    if layout not in LAYOUTS:
        raise BadgeError(
            _(
                "Unknown badge layout %(layout)s; use one of %(choices)s.",
                layout=repr(layout),
                choices=", ".join(LAYOUTS),
            ),
            field="layout",
        )
    return layout


@dataclass
class Batch:
    """One event's badge batch in one layout: what it prints and where it is kept."""

    event: Event
    layout: str
    badges: list[BadgeData]
    fingerprint: str

    @property
    def printout(self) -> printouts.Printout:
        """The batch as a printout: cached under its fingerprint, drawn by a job."""
        return printouts.Printout(
            area="badges",
            event_id=self.event.id,
            org_id=self.event.org_id,
            variant=self.layout,
            fingerprint=self.fingerprint,
            filename=f"badges-event-{self.event.id}-{self.layout}.pdf",
            job_kind=BATCH_JOB,
        )

    @property
    def path(self) -> Path | None:
        """The cached PDF's local file with the local store (None with S3)."""
        return self.printout.path

    @property
    def ready(self) -> bool:
        """Whether the PDF for exactly these badges is cached."""
        return self.printout.ready

    @property
    def dedupe_key(self) -> str:
        """The job key: one job per event, layout and content."""
        return self.printout.dedupe_key

    @property
    def filename(self) -> str:
        """The name the download is saved under."""
        return self.printout.filename


def cache_folder(event_id: int) -> str:
    """The store folder (key prefix) of an event's batch PDFs."""
    return printouts.cache_folder("badges", event_id)


def batch_for(event: Event, layout: str | None) -> Batch:
    """The event's current batch: its badges and their fingerprint (no drawing)."""
    layout = check_layout(layout)
    words = badge_words(event)
    badges = [badge_data(reg, words) for reg in batch_registrations(event)]
    if not badges:
        raise BadgeError(_("Nobody is registered yet: there are no badges to print."))
    return Batch(event, layout, badges, batch_fingerprint(badges, layout))


def render_batch(
    batch: Batch,
    progress: Callable[[float], None] | None = None,
    *,
    processes: int | None = 1,
) -> bytes:
    """Draw the batch into its cache file (atomically), drop older versions and
    return the PDF.

    In this process by default (a web request draws up to ``INLINE_LIMIT``); the
    job worker passes ``processes=None`` for a pool of rendering processes.
    """
    pdf = _render_pdf(
        batch.badges, batch.layout, progress=progress, processes=processes
    )
    return printouts.store(batch.printout, pdf)


def cached_batch(batch: Batch) -> bytes | None:
    """The batch's cached PDF, or None when it is not drawn (or was just replaced)."""
    return printouts.cached(batch.printout)


def schedule_batch(batch: Batch) -> Job:
    """The job drawing ``batch`` (scheduled once; re-run when its file is gone)."""
    return printouts.schedule(batch.printout, {"layout": batch.layout})


def batch_job(event: Event, job_id: int) -> Job | None:
    """A badge job of ``event`` by id (for the progress page), or None."""
    return printouts.job_of(event.id, job_id, BATCH_JOB)
