"""Queueing and delivering e-mail through the outbox table.

``queue_mail`` renders a message and adds it to the session: it is committed with
the change that caused it, or not at all. ``deliver_due`` (run by the worker)
claims due rows with a compare-and-set update, so two workers never send one
message twice; on PostgreSQL it also skips rows another worker has locked.
"""

from __future__ import annotations

import email.utils
import logging
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app, render_template
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from mixer import clock
from mixer.extensions import db
from mixer.mail import transport as transports
from mixer.mail.models import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # a crashed worker's claim is retried after this


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message (calendar invites, certificates)."""

    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


def queue_mail(
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    org_id: int | None = None,
    kind: str = "general",
    dedupe_key: str | None = None,
    attachments: list[Attachment] | tuple[Attachment, ...] = (),
    unsubscribe_url: str | None = None,
) -> OutboxMessage | None:
    """Render ``mail/<template>.txt`` and ``.html`` and add the message to the outbox.

    Returns None when ``dedupe_key`` was queued before: it is never sent twice.
    """
    if dedupe_key and db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ):
        return None
    ctx = {"subject": subject, "unsubscribe_url": unsubscribe_url, **(context or {})}
    text = render_template(f"mail/{template}.txt", **ctx)
    html = render_template(f"mail/{template}.html", **ctx)
    msg = build_message(to, subject, text, html, attachments, unsubscribe_url)
    row = OutboxMessage(
        org_id=org_id,
        to_addr=to,
        subject=subject[:255],
        kind=kind,
        message_id=msg["Message-ID"],
        raw=msg.as_bytes(),
        dedupe_key=dedupe_key,
        next_attempt_at=clock.now(),
    )
    if dedupe_key is None:
        db.session.add(row)
        db.session.flush()
        return row
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # another transaction queued it first
        return None
    return row


def build_message(
    to: str,
    subject: str,
    text: str,
    html: str,
    attachments: list[Attachment] | tuple[Attachment, ...] = (),
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    """Assemble a multipart/alternative message (plus attachments) with our headers."""
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(clock.now())
    domain = email.utils.parseaddr(cfg["MAIL_FROM"])[1].rpartition("@")[2] or "mixer"
    msg["Message-ID"] = email.utils.make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    for att in attachments:
        maintype, _, subtype = att.mimetype.partition("/")
        msg.add_attachment(
            att.content, maintype=maintype, subtype=subtype, filename=att.filename
        )
    return msg


def _claim_mail(limit: int) -> list[int]:
    """Claim up to ``limit`` due messages for this worker; returns their ids."""
    now = clock.now()
    due = or_(
        (OutboxMessage.status == "queued") & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == "sending") & (OutboxMessage.locked_until < now),
    )
    candidates = db.session.scalars(
        select(OutboxMessage.id)
        .where(due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for mid in candidates:
        # Compare-and-set: only one worker turns a due row into "sending".
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == mid, due)
            .values(status="sending", locked_until=now + LEASE)
        )
        if result.rowcount == 1:
            claimed.append(mid)
    db.session.commit()
    return claimed


def backoff(attempts: int) -> timedelta:
    """Wait before retry ``attempts``: 30 s, doubling, at most 1 h."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def deliver_due(limit: int = 100) -> dict[str, int]:
    """Send due messages; returns counts of sent, retried and failed messages."""
    cfg = current_app.config
    counts = {"sent": 0, "retry": 0, "failed": 0}
    ids = _claim_mail(limit)
    if not ids:
        return counts
    transport = transports.from_config(cfg.get("MAIL_URL"), cfg["OUTBOX_FOLDER"])
    sender = email.utils.parseaddr(cfg["MAIL_FROM"])[1]
    try:
        for mid in ids:
            msg = db.session.get(OutboxMessage, mid)
            try:
                transport.send(sender, [msg.to_addr], msg.raw)
            except Exception as exc:  # noqa: BLE001 - any failure is retried later
                log.warning("mail %s to %s failed: %s", mid, msg.to_addr, exc)
                transport.close()
                msg.attempts += 1
                msg.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                msg.locked_until = None
                if msg.attempts >= cfg["MAIL_MAX_ATTEMPTS"]:
                    msg.status = "failed"
                    counts["failed"] += 1
                else:
                    msg.status = "queued"
                    msg.next_attempt_at = clock.now() + backoff(msg.attempts)
                    counts["retry"] += 1
            else:
                msg.status = "sent"
                msg.attempts += 1
                msg.sent_at = clock.now()
                msg.locked_until = None
                counts["sent"] += 1
            db.session.commit()
    finally:
        transport.close()
    return counts


def retry_message(msg: OutboxMessage) -> None:
    """Put a failed message back in the queue now (an admin's retry button)."""
    msg.status = "queued"
    msg.next_attempt_at = clock.now()
    msg.locked_until = None
    db.session.flush()
