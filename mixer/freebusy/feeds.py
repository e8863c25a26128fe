"""A person's calendar feed: save it (sealed), remove it, refresh it (the job),
and what the person reads about it.

Refreshes keep one pending ``freebusy.refresh`` job per person (as a pair keeps
one tick): saving schedules one now, each run schedules the next
``FREEBUSY_REFRESH_MINUTES`` later, removing cancels it. A failed fetch keeps
the intervals of the last good one (a calendar server's bad hour should not
make everyone free) and says why in words; they age out of the window.
"""

from __future__ import annotations

import base64
import logging
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select, update

from mixer import clock
from mixer.accounts.models import User
from mixer.concurrency import changed_rows, lock_row
from mixer.extensions import db
from mixer.freebusy import FreeBusyError
from mixer.freebusy.fetch import FeedProblem, check_form, get
from mixer.freebusy.models import BusyInterval, FreeBusyFeed
from mixer.freebusy.parse import busy_intervals
from mixer.jobs import services as jobs
from mixer.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)

REFRESH = "freebusy.refresh"
WINDOW_BEFORE = timedelta(days=1)  # busy intervals kept from now minus this…
WINDOW_AFTER = timedelta(days=60)  # …to now plus this
MAX_URL = 2000

# Why the last fetch failed, in words; %(detail)s is the stored detail.
PROBLEMS = {
    "address": _l("The address is not a full https:// address."),
    "private": _l(
        "%(detail)s is a private or local address; Mixer only fetches public ones."
    ),
    "unreachable": _l("Mixer could not connect to %(detail)s."),
    "timeout": _l("The calendar server did not answer within %(detail)s seconds."),
    "tls": _l("The secure connection failed (%(detail)s)."),
    "status": _l("The calendar server answered with HTTP status %(detail)s."),
    "redirects": _l("The address redirected too many times."),
    "too_large": _l("The feed is larger than %(detail)s MB, so it was not read."),
    "not_calendar": _l(
        "The address gave a web page or other file (%(detail)s), not a calendar. "
        "Copy the private iCal (ICS) address from your calendar's settings."
    ),
    "not_ics": _l("The address did not give an iCalendar (ICS) file."),
    "unreadable": _l("The calendar could not be read (%(detail)s)."),
    "too_many": _l("The calendar has more than %(detail)s events in two months."),
    "sealed": _l(
        "The saved address can no longer be read (the site's secret key changed). "
        "Paste it again."
    ),
}


# --- the address: sealed at rest, never shown or logged -----------------------


def _fernet() -> Fernet:
    """Fernet keyed from the app's SECRET_KEY (HKDF, a label of its own)."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"mixer freebusy feed"
    ).derive(str(current_app.config["SECRET_KEY"]).encode())
    return Fernet(base64.urlsafe_b64encode(key))


def allow_local() -> bool:
    """http:// and local addresses: only with the setting, and only in tests or
    debug (production refuses to start with the setting at all)."""
    app = current_app
    return bool(app.config.get("FREEBUSY_ALLOW_LOCAL")) and (app.testing or app.debug)


def feed_of(user_id: int) -> FreeBusyFeed | None:
    """The person's feed, if they gave one."""
    return db.session.scalar(
        select(FreeBusyFeed).where(FreeBusyFeed.user_id == user_id)
    )


def save_feed(user_id: int, url: str) -> FreeBusyFeed:
    """Keep (or replace) the person's feed address and fetch it soon.

    ``FreeBusyError`` on the field ``url`` for an address of the wrong form.
    """
    url = (url or "").strip()
    if url[:9].lower() == "webcal://":
        # Apple Calendar and iCloud share calendars as webcal://, which is
        # https:// by convention: people paste what their calendar shows.
        url = "https://" + url[9:]
    if len(url) > MAX_URL:
        raise FreeBusyError(_("Keep the address to 2,000 characters."), field="url")
    try:
        check_form(url, allow_local())
    except FeedProblem as exc:
        raise FreeBusyError(
            _(
                "Paste the full private address of your calendar, starting with "
                "https:// (for example https://calendar.example.org/private/….ics)."
            ),
            field="url",
        ) from exc
    # Two saves at once (two tabs) take turns, so the second replaces the first
    # rather than meeting its row's unique key.
    lock_row(User, user_id)
    feed = feed_of(user_id)
    if feed is None:
        feed = FreeBusyFeed(user_id=user_id)
        db.session.add(feed)
    feed.url_sealed = _fernet().encrypt(url.encode()).decode()
    feed.host = (urlsplit(url).hostname or "")[:255]
    feed.fetched_at = feed.synced_at = None
    feed.error = feed.error_detail = None
    feed.busy_count = 0
    db.session.execute(delete(BusyInterval).where(BusyInterval.user_id == user_id))
    db.session.flush()
    schedule_refresh(user_id, clock.now())
    return feed


def remove_feed(user_id: int) -> bool:
    """Forget the person's feed and every busy interval from it. Was there one?"""
    _cancel_refreshes(user_id)
    db.session.execute(delete(BusyInterval).where(BusyInterval.user_id == user_id))
    gone = changed_rows(
        delete(FreeBusyFeed)
        .where(FreeBusyFeed.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return bool(gone)


# --- refreshing ------------------------------------------------------------------


def _prefix(user_id: int) -> str:
    return f"{REFRESH}:{user_id}:"


def _cancel_refreshes(user_id: int) -> None:
    """Cancel the person's pending refreshes (a running one finds no feed)."""
    db.session.execute(
        update(Job)
        .where(
            Job.dedupe_key.like(f"{_prefix(user_id)}%"),
            Job.status == JobStatus.PENDING,
        )
        .values(status=JobStatus.CANCELLED, finished_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def schedule_refresh(user_id: int, at: datetime) -> None:
    """Keep exactly one pending refresh for the person, at ``at``.

    The key is the person's prefix (what cancelling finds) and a fresh nonce: a
    "fetch now" in the second a refresh ran must not meet that finished job's key.
    """
    _cancel_refreshes(user_id)
    jobs.schedule(
        REFRESH,
        {"user_id": user_id},
        run_at=at,
        dedupe_key=f"{_prefix(user_id)}{clock.stamp(at)}:{secrets.token_hex(4)}",
    )


def refresh(user_id: int) -> dict[str, int]:
    """Fetch the person's feed now, store its busy intervals, plan the next run."""
    feed = feed_of(user_id)
    if feed is None:
        return {"skipped": 1}
    now = clock.now()
    start, end = now - WINDOW_BEFORE, now + WINDOW_AFTER
    cfg = current_app.config
    feed.fetched_at = now
    try:
        try:
            url = _fernet().decrypt(feed.url_sealed.encode()).decode()
        except InvalidToken as exc:
            raise FeedProblem("sealed") from exc
        data = get(
            url,
            timeout=float(cfg["FREEBUSY_TIMEOUT_SECONDS"]),
            max_bytes=int(cfg["FREEBUSY_MAX_BYTES"]),
            allow_local=allow_local(),
        )
        found = busy_intervals(data, start, end)
    except FeedProblem as exc:
        # The user's id and the word only: the address is a secret.
        log.info("calendar feed of user %s: %s", user_id, exc.code)
        feed.error, feed.error_detail = exc.code, exc.detail or None
        _plan_next(user_id, now)
        db.session.flush()
        return {"failed": 1}
    db.session.execute(delete(BusyInterval).where(BusyInterval.user_id == user_id))
    if found:
        db.session.execute(
            insert(BusyInterval),
            [{"user_id": user_id, "starts_at": s, "ends_at": e} for s, e in found],
        )
    feed.synced_at = now
    feed.error = feed.error_detail = None
    feed.busy_count = len(found)
    _plan_next(user_id, now)
    db.session.flush()
    return {"busy": len(found)}


def _plan_next(user_id: int, now: datetime) -> None:
    minutes = int(current_app.config["FREEBUSY_REFRESH_MINUTES"])
    schedule_refresh(user_id, now + timedelta(minutes=minutes))


# --- what the person reads -------------------------------------------------------


def problem_text(feed: FreeBusyFeed) -> str | None:
    """Why the last fetch failed, in the reader's words; None when it worked."""
    if feed.error is None:
        return None
    text = PROBLEMS.get(feed.error)
    if text is None:
        return _("The calendar could not be fetched.")
    return str(text) % {"detail": feed.error_detail or "?"}


def shown_address(feed: FreeBusyFeed) -> str:
    """The host and an ellipsis: enough to recognise, never the secret part."""
    return f"{feed.host}/…"
