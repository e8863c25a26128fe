"""Fixtures for follow-up tests: a Mentor Mixer that took place, with people who
checked in and met (rotations, a badge scan), on a frozen clock."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from mixer.checkin import services as checkin
from mixer.connections.services import connect
from mixer.extensions import db

T0 = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # a Thursday morning
START = T0 + timedelta(hours=8)  # the mixer: 17:00–19:00 UTC
END = START + timedelta(hours=2)


@dataclass
class Room:
    """An organization, its organizer and a Mentor Mixer with registrations."""

    org: object
    organizer: object
    event: object
    regs: dict[str, object] = field(default_factory=dict)  # by first name
    users: dict[str, object] = field(default_factory=dict)


@pytest.fixture
def clock_at() -> datetime:
    """``frozen`` stops the clock on the morning of the mixer."""
    return T0


@pytest.fixture
def room(frozen, make_org, make_user, make_event, make_registration) -> Room:
    """Acme's "Spring Mixer" tonight: Ana, Ben, Cai and Dee are members; Gus is a
    guest without an account. Nobody is checked in yet."""
    org = make_org(slug="acme", name="Acme")
    organizer = make_user(org, role="organizer", name="Olga Organizer")
    event = make_event(
        org,
        organizer,
        kind="mentor_mixer",
        title="Spring Mixer",
        starts_at=START,
        ends_at=END,
        timezone="Europe/London",
        capacity=20,
        rounds=3,
        minutes_per_round=8,
    )
    found = Room(org, organizer, event)
    people = [
        ("Ana", "mentee", "Finance"),
        ("Ben", "mentor", "Legal"),
        ("Cai", "mentor", "Sales"),
        ("Dee", "mentee", "IT"),
    ]
    for name, role, dept in people:
        user = make_user(
            org,
            name=f"{name} Example",
            email=f"{name.lower()}@acme.example.org",
            password=None,
            department=dept,
        )
        found.users[name] = user
        found.regs[name] = make_registration(
            event,
            email=user.email,
            name=user.name,
            user=user,
            source="member",
            role=role,
            department=dept,
        )
    found.regs["Gus"] = make_registration(
        event, email="gus@elsewhere.example.net", name="Gus Guest", role="either"
    )
    return found


def check_in(room: Room, *names: str) -> None:
    """Check people in through the check-in service, as the door does."""
    for name in names:
        reg = room.regs[name]
        checkin.check_in(reg)
    db.session.commit()


def meet(room: Room, first: str, second: str, source: str = "scan") -> None:
    """Record that two people met (a badge scan unless told otherwise)."""
    connect(room.event.id, room.regs[first].id, room.regs[second].id, source)
    db.session.commit()


def count(model, *where) -> int:
    """Rows of ``model`` matching ``where``, read fresh."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def prompt_mails(outbox, to: str | None = None):
    """The follow-up prompt e-mails in the outbox (parsed MIME)."""
    return [m for m in outbox(to) if _is_prompt(m)]


def _is_prompt(msg) -> bool:
    """Whether a parsed message is a follow-up prompt (by its subject)."""
    subject = str(msg["Subject"])
    return subject.startswith("Who would you like to keep in touch with") or (
        subject.startswith("How was ")
    )


def pick_link(msg, registration_id: int, choice: str) -> str:
    """The one-tap link in a prompt e-mail for one person and one choice."""
    from tests.helpers import mail_text

    pattern = rf"https?://\S+\?pick={registration_id}(?::|%3A){choice}\b"
    match = re.search(pattern, mail_text(msg))
    assert match, f"no {choice} link for {registration_id} in {mail_text(msg)}"
    return match.group(0)


def answer_link(msg) -> str:
    """The link to the whole prompt form in a prompt e-mail."""
    from tests.helpers import mail_text

    match = re.search(r"Answer here: (\S+)", mail_text(msg))
    assert match, mail_text(msg)
    return match.group(1)


class _FormReader(HTMLParser):
    """Reads the prompt form as a browser would submit it, untouched."""

    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "fu-form" in (a.get("class") or ""):
            self._in_form, self.action = True, a.get("action")
        if not self._in_form:
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            if a.get("name"):
                self.fields[a["name"]] = a.get("value") or (
                    "y" if kind == "checkbox" else ""
                )
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.fields[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False


def read_form(html: str) -> tuple[str, dict[str, str]]:
    """(action, fields) of the prompt form on a page, as a browser would send."""
    reader = _FormReader()
    reader.feed(html)
    assert reader.action, "no prompt form on the page"
    fields = {k: v.removeprefix("\n") for k, v in reader.fields.items()}
    return reader.action, fields


def local(link: str) -> str:
    """An absolute link from an e-mail as a path the test client sends to the app
    (the client keeps cookies per host, and e-mails name BASE_URL's host)."""
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def follow_and_submit(client, link: str, **changes: str):
    """Open an e-mailed link (GET), then send the form with ``changes`` (POST)."""
    page = client.get(local(link))
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    action, fields = read_form(page.get_data(as_text=True))
    fields.update(changes)
    return page, client.post(action, data=fields)
