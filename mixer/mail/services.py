"""Queueing and delivering e-mail through the outbox table.

``queue_mail`` renders a message and adds it to the session: it is committed with
the change that caused it, or not at all. ``deliver_due`` (run by the worker)
claims due rows (see ``mixer.jobs.queue``), hands them to the transport
``MAIL_URL`` names and records the outcome of each message in its own commit.
Delivery is at least once: a worker killed between the server's "250 OK" and
its commit sends that one message again after the lease runs out, with the same
``Message-ID`` (it is part of the stored message), so receivers can drop it.
"""

from __future__ import annotations

import email.policy
import email.utils
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any, Protocol

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import case, delete, func, select, update

from mixer import clock
from mixer.concurrency import changed_rows, insert_once
from mixer.errors import DomainError, NotFound
from mixer.extensions import db
from mixer.i18n import DEFAULT_LOCALE
from mixer.jobs import queue
from mixer.jobs.models import Job
from mixer.jobs.services import failed_jobs
from mixer.mail import preferences
from mixer.mail import transport as transports
from mixer.mail.models import MessageStatus, OutboxMessage
from mixer.mail.preferences import NOTIFICATION_KINDS


class Recipient(Protocol):
    """What mail needs to know of a person (``mixer.accounts.models.User``)."""

    id: int
    name: str
    email: str

    @property
    def is_active(self) -> bool: ...

    def wants(self, kind: str) -> bool: ...


log = logging.getLogger(__name__)

# A claim's lease, renewed by a heartbeat while the worker sends; a crashed
# worker's claim is due again after this (WORKER_LEASE_SECONDS).
LEASE = queue.DEFAULT_LEASE
DEFAULT_BATCH = 10  # MAIL_BATCH_SIZE: a crash holds back at most this many
STALLED_AFTER = timedelta(minutes=5)  # queued this long: is a worker running?


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message (calendar invites, certificates)."""

    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


UNDELIVERABLE_TLD = ".invalid"


def queue_mail(
    to: str,
    subject: Any,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    user: Recipient | None = None,
    preference: str | None = None,
    org: Any = None,
    kind: str | None = None,
    dedupe_key: str | None = None,
    attachments: Sequence[Attachment] = (),
    unsubscribe_url: str | None = None,
    reply_to: str | None = None,
    locale: str | None = None,
) -> OutboxMessage | None:
    """Render ``mail/<template>.txt`` and ``.html`` and add the message to the outbox.

    The message is in ``locale``, the recipient's language
    (``mixer.i18n.recipient_locale(user, org)``), else English: never the
    language of the request that happens to queue it. ``subject`` may be a lazy
    string (``lazy_gettext``): it is translated into that language here.

    With ``user`` and ``preference`` (a key of ``NOTIFICATION_KINDS``) nothing is
    queued when the person turned that kind of mail off or the account is
    deactivated, and the message carries a one-click unsubscribe link for it.
    Returns None when nothing was queued, also when ``dedupe_key`` was queued
    before: such a message goes out once, ever, or when ``to`` is in the
    ``.invalid`` top-level domain, which never receives mail (RFC 2606; a walk-in
    registered without an e-mail address has one).
    """
    if to.rstrip(">").lower().endswith(UNDELIVERABLE_TLD):
        return None
    if preference is not None:
        if preference not in NOTIFICATION_KINDS:
            raise ValueError(
                f"unknown notification kind {preference!r}; "
                f"one of {', '.join(NOTIFICATION_KINDS)}"
            )
        if user is None:
            raise ValueError("queue_mail(preference=...) needs the user it is for")
        if not user.is_active or not user.wants(preference):
            return None
        if unsubscribe_url is None:
            unsubscribe_url = preferences.unsubscribe_url(user.id, preference)
    if dedupe_key and db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ):
        return None
    with force_locale(locale or DEFAULT_LOCALE):
        # No line breaks in a header, and no space at either end (split drops it).
        subject = " ".join(str(subject).split())
        ctx = {
            "subject": subject,
            "user": user,
            "preference": preference,
            "unsubscribe_url": unsubscribe_url,
            "org": org,  # the layout names the organization
            **(context or {}),
        }
        text = render_template(f"mail/{template}.txt", **ctx)
        html = render_template(f"mail/{template}.html", **ctx)
    display_name = user.name if user is not None and user.email == to else ""
    msg = build_message(
        to,
        subject,
        text,
        html,
        attachments=attachments,
        unsubscribe_url=unsubscribe_url,
        reply_to=reply_to,
        display_name=display_name,
    )
    values = {
        "org_id": org.id if org is not None else None,
        "to_addr": to,
        "subject": subject[:255].rstrip(),
        "kind": kind or preference or "general",
        "message_id": msg["Message-ID"],
        "raw": msg.as_bytes(policy=wire_policy(to)),  # CRLF line ends
        "dedupe_key": dedupe_key,
        "next_attempt_at": clock.now(),
    }
    if dedupe_key is None:
        row = OutboxMessage(**values)
        db.session.add(row)
        db.session.flush()
        return row
    new_id = insert_once(OutboxMessage, values)
    return db.session.get(OutboxMessage, new_id) if new_id else None


def build_message(
    to: str,
    subject: str,
    text: str,
    html: str,
    *,
    attachments: Sequence[Attachment] = (),
    unsubscribe_url: str | None = None,
    reply_to: str | None = None,
    display_name: str = "",
) -> EmailMessage:
    """Assemble a multipart/alternative message (plus attachments) with our headers."""
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_FROM"]
    # username/domain rather than addr_spec: an internationalised address
    # (用户@例子.广告) is refused by the addr_spec parser but is sent as SMTPUTF8.
    username, _, domain = to.rpartition("@")
    msg["To"] = Address(display_name=display_name, username=username, domain=domain)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(clock.now())
    msg["Message-ID"] = email.utils.make_msgid(domain=_sender_domain())
    # Out-of-office replies and auto-responders stay quiet for machine mail.
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" there.
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    for att in attachments:
        maintype, _, subtype = att.mimetype.partition("/")
        msg.add_attachment(
            att.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=att.filename,
        )
    return msg


class _SubjectFolding(email.policy.EmailPolicy):
    """Writes the Subject with ``email.header.Header``'s folder.

    The newer folder of ``email.policy`` sometimes breaks the line straight after
    "Subject:" (a subject with a long word and a "(" or ":" reads back with a
    leading space) or doubles a space next to an encoded word ("Mixer  — Ops");
    ``Header`` folds at spaces, encodes non-ASCII text as RFC 2047 words of at
    most a line each, and reads back exactly as written.
    """

    def fold(self, name: str, value: Any) -> str:
        if name.lower() != "subject":
            return super().fold(name, value)
        text = str(value)
        charset = "us-ascii" if text.isascii() else "utf-8"
        folded = Header(
            text, charset, maxlinelen=self.max_line_length, header_name=name
        ).encode(linesep=self.linesep)
        return f"{name}: {folded}{self.linesep}"

    def fold_binary(self, name: str, value: Any) -> bytes:
        if name.lower() != "subject":
            return super().fold_binary(name, value)
        return self.fold(name, value).encode("ascii")


SMTP_POLICY = _SubjectFolding() + email.policy.SMTP
SMTPUTF8_POLICY = _SubjectFolding() + email.policy.SMTPUTF8


def wire_policy(to: str) -> email.policy.Policy:
    """How a message is written out: plain SMTP (7-bit headers, RFC 2047 words),
    or SMTPUTF8 (RFC 6532: UTF-8 headers) when the address is not ASCII; the
    transport then asks the server for SMTPUTF8 too. Either way the Subject is
    folded by :class:`_SubjectFolding`."""
    return SMTP_POLICY if to.isascii() else SMTPUTF8_POLICY


def _sender_domain() -> str:
    address = email.utils.parseaddr(current_app.config["MAIL_FROM"])[1]
    return address.rpartition("@")[2] or "mixer.invalid"


def make_transport() -> transports.Transport:
    """The transport the configuration names (ValueError if MAIL_URL is malformed)."""
    cfg = current_app.config
    return transports.from_config(
        cfg.get("MAIL_URL"), cfg["OUTBOX_FOLDER"], cfg.get("BASE_URL", "")
    )


def deliver_due(limit: int | None = None) -> dict[str, int]:
    """Send due messages; returns counts of sent, retried and failed messages.

    Commits after every message, so a crash never forgets a delivery. A
    heartbeat renews the claim's lease while the batch is sent.
    """
    cfg = current_app.config
    counts = {"sent": 0, "retry": 0, "failed": 0}
    transport = make_transport()
    lease = queue.lease_length()
    token, ids = queue.claim(
        OutboxMessage,
        ready=MessageStatus.QUEUED,
        active=MessageStatus.SENDING,
        due_column=OutboxMessage.next_attempt_at,
        limit=limit or int(cfg.get("MAIL_BATCH_SIZE", DEFAULT_BATCH)),
        lease=lease,
    )
    if not ids:
        transport.close()
        return counts
    max_attempts = int(cfg["MAIL_MAX_ATTEMPTS"])
    sender = email.utils.parseaddr(cfg["MAIL_FROM"])[1]
    try:
        with queue.Heartbeat(OutboxMessage, token, lease) as beat:
            for position, mid in enumerate(ids):
                if not beat.fresh:
                    # The lease could not be renewed (the database is away): hand the
                    # rest back rather than race a worker that takes them over.
                    _release(ids[position:], token)
                    break
                outcome = _deliver_one(transport, sender, mid, token, max_attempts)
                db.session.commit()
                if outcome == "unreachable":
                    counts["retry"] += 1
                    counts["retry"] += _release(
                        ids[position + 1 :], token, clock.now() + queue.backoff(1)
                    )
                    break
                if outcome in counts:
                    counts[outcome] += 1
    finally:
        transport.close()
        db.session.rollback()
    return counts


def _deliver_one(
    transport: transports.Transport,
    sender: str,
    mid: int,
    token: str,
    max_attempts: int,
) -> str:
    """Try one claimed message; "sent", "retry", "failed", "unreachable" or "lost"."""
    msg = db.session.get(OutboxMessage, mid)
    if msg is None or msg.claimed_by != token:
        log.warning("mail %s: our claim was lost before sending; skipped", mid)
        return "lost"
    # End the read transaction before talking to a slow server: an idle open
    # transaction would hold back PostgreSQL's vacuum for as long as SMTP takes.
    db.session.expunge(msg)
    db.session.rollback()
    if msg.attempts > max_attempts:
        # Only a claim that never finished (the worker died) gets here.
        queue.finish(
            OutboxMessage,
            mid,
            token,
            status=MessageStatus.FAILED,
            attempts=max_attempts,
            last_error=(msg.last_error or "")
            + "\nGave up: the worker stopped while sending it.",
        )
        return "failed"
    try:
        transport.send(sender, [msg.to_addr], msg.raw)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
        if isinstance(exc, transports.DeliveryError):
            error, permanent, batch = str(exc), exc.permanent, exc.whole_batch
            log.warning("mail %s to %s not delivered: %s", mid, msg.to_addr, exc)
        else:
            error, permanent, batch = f"{type(exc).__name__}: {exc}", False, False
            log.exception("mail %s to %s: unexpected error", mid, msg.to_addr)
        if permanent or msg.attempts >= max_attempts:
            queue.finish(
                OutboxMessage,
                mid,
                token,
                status=MessageStatus.FAILED,
                last_error=error[:2000],
            )
            return "failed"
        queue.finish(
            OutboxMessage,
            mid,
            token,
            status=MessageStatus.QUEUED,
            last_error=error[:2000],
            next_attempt_at=clock.now() + queue.backoff(msg.attempts),
        )
        return "unreachable" if batch else "retry"
    if not queue.finish(
        OutboxMessage, mid, token, status=MessageStatus.SENT, sent_at=clock.now()
    ):  # pragma: no cover - needs a stall longer than the lease
        log.error("mail %s was sent after its claim expired", mid)
        return "lost"
    return "sent"


def _release(ids: list[int], token: str, at: datetime | None = None) -> int:
    """Hand claimed messages back untried, due at ``at`` (or as they were)."""
    count = queue.release(
        OutboxMessage,
        ids,
        token,
        ready=MessageStatus.QUEUED,
        due_column=OutboxMessage.next_attempt_at,
        at=at,
    )
    db.session.commit()
    return count


# --- the admin page ----------------------------------------------------------


@dataclass
class OutboxOverview:
    """What an organization's admins see on the outbox page."""

    counts: dict[str, int]
    problems: list[OutboxMessage]
    problems_total: int
    failed_jobs: list[Job]
    oldest_due: datetime | None = None
    stalled: bool = False


def outbox_overview(org_id: int, limit: int = 100) -> OutboxOverview:
    """Counts by status, failed and retrying messages and failed jobs of an org."""
    mine = OutboxMessage.org_id == org_id
    counts = dict.fromkeys(("queued", "retrying", "sending", "sent", "failed"), 0)
    rows = db.session.execute(
        select(OutboxMessage.status, OutboxMessage.attempts, func.count())
        .where(mine)
        .group_by(OutboxMessage.status, OutboxMessage.attempts)
    )
    for status, attempts, n in rows:
        retrying = status == MessageStatus.QUEUED and attempts
        counts["retrying" if retrying else status] += n
    problem = mine & (
        (OutboxMessage.status == MessageStatus.FAILED)
        | (
            (OutboxMessage.status == MessageStatus.QUEUED)
            & (OutboxMessage.attempts > 0)
        )
    )
    problems = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(problem)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        )
    )
    oldest_due = db.session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            mine, OutboxMessage.status == MessageStatus.QUEUED
        )
    )
    return OutboxOverview(
        counts=counts,
        problems=problems,
        problems_total=counts["failed"] + counts["retrying"],
        failed_jobs=failed_jobs(org_id),
        oldest_due=oldest_due,
        stalled=oldest_due is not None and oldest_due < clock.now() - STALLED_AFTER,
    )


def retry_message(org_id: int, message_id: int) -> OutboxMessage:
    """Queue a failed or retrying message of an organization for delivery now.

    A failed message starts over with a full set of attempts. ``NotFound`` when
    the organization has no such message; ``DomainError`` (409) when it is sent
    or being sent.
    """
    msg = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.org_id == org_id
        )
    )
    if msg is None:
        raise NotFound(_("There is no message %(id)s here.", id=message_id))
    if msg.status not in (MessageStatus.QUEUED, MessageStatus.FAILED):
        if msg.status == MessageStatus.SENT:
            raise DomainError(_("That message is sent already."), status=409)
        raise DomainError(_("That message is sending already."), status=409)
    _requeue(OutboxMessage.id == msg.id)
    db.session.refresh(msg)
    return msg


def retry_failed(org_id: int) -> int:
    """Queue every failed message of an organization for delivery now; how many."""
    return _requeue(
        (OutboxMessage.org_id == org_id)
        & (OutboxMessage.status == MessageStatus.FAILED)
    )


def _requeue(where: Any) -> int:
    # Compare-and-set on the status, so a message a worker claimed meanwhile is
    # left alone. Failed messages get their attempts back; retrying ones keep them.
    result = changed_rows(
        update(OutboxMessage)
        .where(
            where,
            OutboxMessage.status.in_((MessageStatus.QUEUED, MessageStatus.FAILED)),
        )
        .values(
            attempts=case(
                (OutboxMessage.status == MessageStatus.FAILED, 0),
                else_=OutboxMessage.attempts,
            ),
            status=MessageStatus.QUEUED,
            next_attempt_at=clock.now(),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return result


def prune_sent(older_than: timedelta) -> int:
    """Delete sent messages older than ``older_than`` (they hold old links)."""
    result = changed_rows(
        delete(OutboxMessage)
        .where(
            OutboxMessage.status == MessageStatus.SENT,
            OutboxMessage.sent_at < clock.now() - older_than,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return result
