"""Helpers of the pairs tests: the pair's clock run through time, mail by kind.

``tick_until`` runs the schedule itself: each tick ``plan`` scheduled is run by
calling ``schedule.tick`` at its time, as fast as the clock allows.
``live_until`` runs the real ``mixer worker --once`` at every moment a job is
due, for the one lived walk through a term (``test_life.py``) and the job
queue's own edges.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from sqlalchemy import func, select

from mixer import clock
from mixer.extensions import db
from mixer.jobs import services as jobs
from mixer.jobs.models import Job
from mixer.mail.models import OutboxMessage
from mixer.pairs import schedule
from tests.helpers import mail_text


def worker(runner) -> None:
    """``mixer worker --once``, twice: nothing may happen the second time."""
    for _ in range(2):
        result = runner.invoke(args=["worker", "--once"])
        assert result.exit_code == 0, result.output


def live_until(runner, when: datetime) -> None:
    """Let time pass to ``when`` with a worker that runs every job on time."""
    while True:
        db.session.expire_all()
        due = db.session.scalar(
            select(func.min(Job.run_at)).where(
                Job.status == "pending", Job.run_at <= when
            )
        )
        if due is None:
            break
        clock.freeze(max(due, clock.now()))
        worker(runner)
    clock.freeze(when)
    worker(runner)


def tick_until(when: datetime) -> None:
    """Let time pass to ``when`` without a worker: each pair tick that ``plan``
    scheduled runs at its time (``schedule.tick``), twice, and nothing may happen
    the second time (as with a tick run again, or on a second worker)."""
    ran: set[int] = set()
    while True:
        db.session.expire_all()
        job = db.session.scalar(
            select(Job)
            .where(
                Job.kind == schedule.TICK, Job.status == "pending", Job.run_at <= when
            )
            .order_by(Job.run_at, Job.id)
            .limit(1)
        )
        if job is None:
            break
        assert job.id not in ran, f"the tick {job.dedupe_key} planned itself again"
        ran.add(job.id)
        clock.freeze(max(job.run_at, clock.now()))
        pair_id, key = job.payload["pair_id"], job.dedupe_key
        did = schedule.tick(pair_id)
        db.session.commit()
        again = schedule.tick(pair_id)
        assert not any(again.values()), (did, again)
        # Run, so no longer pending (``plan`` cancelled it already unless the
        # pair was over; a worker would mark it done).
        jobs.cancel(key)
        db.session.commit()
    clock.freeze(when)


def sent() -> Counter:
    """How many messages of each (kind, recipient) the outbox holds."""
    db.session.expire_all()
    rows = db.session.execute(select(OutboxMessage.kind, OutboxMessage.to_addr))
    return Counter((kind, to) for kind, to in rows)


def kinds() -> Counter:
    """How many messages of each kind the outbox holds."""
    counts: Counter = Counter()
    for (kind, _), n in sent().items():
        counts[kind] += n
    return counts


def answer_link(msg, label: str) -> str:
    """The link on the line starting with ``label`` in a message's text."""
    match = re.search(re.escape(label) + r":\s+(\S+)", mail_text(msg))
    assert match, f"no {label!r} link in {mail_text(msg)!r}"
    return match.group(1)


def path(url: str) -> str:
    """The path of an absolute link (the test client speaks paths)."""
    return re.sub(r"^https?://[^/]+", "", url)


def checked(html: str, name: str) -> list[str]:
    """The values of the checked inputs named ``name`` in a page."""
    return [
        re.search(r'value="([^"]*)"', tag).group(1)
        for tag in re.findall(r"<input[^>]*>", html)
        if f'name="{name}"' in tag and re.search(r"\schecked[\s>]", tag)
    ]


def mails(outbox, to: str, subject_part: str) -> list:
    """The messages to ``to`` whose subject contains ``subject_part``."""
    return [m for m in outbox(to) if subject_part in m["Subject"]]


class Ledger:
    """The outbox, step by step: each step names exactly the e-mails it adds.

    ``added(...)`` fails when anything else was queued (a duplicate, a stray
    reminder, a mail of the wrong kind) or when one of the named mails is missing.
    """

    def __init__(self) -> None:
        """Start from what the outbox holds now."""
        self.seen = sent()

    def added(self, *mails: tuple[str, str]) -> None:
        """Assert the outbox gained exactly ``mails`` ((kind, recipient) each)."""
        now = sent()
        assert now - self.seen == Counter(mails), (now - self.seen, Counter(mails))
        assert not self.seen - now
        self.seen = now


def both(kind: str, *people: str) -> list[tuple[str, str]]:
    """One mail of ``kind`` to each of ``people``."""
    return [(kind, to) for to in people]


def invite_of(msg, name: str = "invite.ics"):
    """The calendar attached to a message, parsed (exactly one such attachment)."""
    from icalendar import Calendar

    parts = [p for p in msg.iter_attachments() if p.get_filename() == name]
    assert len(parts) == 1, [p.get_filename() for p in msg.iter_attachments()]
    assert parts[0].get_content_type() == "text/calendar"
    return Calendar.from_ical(parts[0].get_payload(decode=True))


def series(cal) -> list[datetime]:
    """Every start of the calendar's one recurring VEVENT, from its RRULE."""
    from dateutil.rrule import rrulestr

    [vevent] = cal.walk("VEVENT")
    rule = vevent["rrule"].to_ical().decode()
    return list(rrulestr(rule, dtstart=vevent.decoded("dtstart")))
