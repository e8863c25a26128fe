"""The follow-up features as a person meets them: labels, headings, errors, phones.

One small world (a Mentor Mixer that ended, a pair, an open ask) and cheap checks
that hold across the prompt, pair, ask and organizer pages: every form control
has a label a screen reader says, radio groups sit in fieldsets with legends,
headings do not skip levels, an error on the long prompt form is summarised at
its top, plain-text e-mails say why they came and how to stop them, and on a
360 px phone nothing scrolls sideways and the main buttons are big enough to tap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from mixer import clock
from mixer.asks.services import create_ask
from mixer.checkin import services as checkin
from mixer.connections.services import connect
from mixer.extensions import db
from mixer.followup import services as followup
from mixer.followup.models import FollowupPrompt
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair
from tests.helpers import PASSWORD, csrf_from, mail_text

T0 = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # a Thursday morning
START = T0 + timedelta(hours=8)
END = START + timedelta(hours=2)


@dataclass
class World:
    """Ana met Ben and Cai at a closed mixer, has Ben as mentor, and asks on a topic."""

    org: object
    event: object
    prompt_id: int
    pair_id: int
    ask_id: int


@pytest.fixture
def world(app, make_org, make_user, make_event, make_registration, runner) -> World:
    """The mixer is over and closed; the prompts went out through the worker."""
    clock.freeze(T0)
    org = make_org(slug="ux", name="Riverside")
    olu = make_user(
        org, role="organizer", name="Olu Organizer", email="olu@ux.example.org"
    )
    people = {
        name: make_user(
            org,
            name=f"{name} Example",
            email=f"{name.lower()}@ux.example.org",
            department=dept,
            offers=offers,
        )
        for name, dept, offers in (
            ("Ana", "Finance", []),
            ("Ben", "Legal", ["public speaking"]),
            ("Cai", "Sales", ["public speaking"]),
        )
    }
    event = make_event(
        org,
        olu,
        kind="mentor_mixer",
        title="Spring Mixer",
        starts_at=START,
        ends_at=END,
        rounds=3,
        minutes_per_round=8,
    )
    regs = {
        name: make_registration(
            event, email=u.email, name=u.name, user=u, source="member"
        )
        for name, u in people.items()
    }
    clock.freeze(START + timedelta(minutes=10))
    for reg in regs.values():
        checkin.check_in(reg)
    connect(event.id, regs["Ana"].id, regs["Ben"].id, "rotation")
    connect(event.id, regs["Ana"].id, regs["Cai"].id, "scan")
    db.session.commit()
    clock.freeze(END + timedelta(minutes=30))
    followup.close_event(event, olu)
    db.session.commit()
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    pair = create_pair(
        org, people["Ben"], people["Ana"], kind="mentoring", mentor=people["Ben"]
    )
    ask = create_ask(org, people["Ana"], "public speaking")
    db.session.commit()
    prompt = db.session.scalar(
        select(FollowupPrompt).where(FollowupPrompt.registration_id == regs["Ana"].id)
    )
    return World(org, event, prompt.id, pair.id, ask.id)


class _Controls(HTMLParser):
    """Form controls, labels, fieldsets and headings inside <main>."""

    def __init__(self) -> None:
        super().__init__()
        self.in_main = False
        self.labels_for: set[str] = set()
        self.open_labels = 0
        self.fieldsets: list[dict] = []  # a stack: has it a legend?
        self.controls: list[dict] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag, attrs):
        """Track where each control sits and what names it."""
        a = dict(attrs)
        if tag == "main":
            self.in_main = True
        if not self.in_main:
            return
        if tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
        elif tag == "fieldset":
            self.fieldsets.append({"legend": False})
        elif tag == "legend" and self.fieldsets:
            self.fieldsets[-1]["legend"] = True
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        elif tag in ("input", "select", "textarea"):
            kind = a.get("type", "text") if tag == "input" else tag
            if kind in ("hidden", "submit", "button"):
                return
            self.controls.append(
                {
                    "name": a.get("name"),
                    "type": kind,
                    "id": a.get("id"),
                    "wrapped": self.open_labels > 0,
                    "aria": bool(a.get("aria-label") or a.get("aria-labelledby")),
                    "in_legend_fieldset": any(f["legend"] for f in self.fieldsets),
                }
            )

    def handle_endtag(self, tag):
        """Close labels, fieldsets and <main>."""
        if tag == "main":
            self.in_main = False
        elif tag == "label" and self.open_labels:
            self.open_labels -= 1
        elif tag == "fieldset" and self.fieldsets:
            self.fieldsets.pop()


def _problems(html: str) -> list[str]:
    """What a screen-reader user would trip over on one page."""
    page = _Controls()
    page.feed(html)
    found = []
    for c in page.controls:
        if not (c["wrapped"] or c["aria"] or (c["id"] and c["id"] in page.labels_for)):
            found.append(f"no label: {c['name']}")
        if c["type"] == "radio" and not c["in_legend_fieldset"]:
            found.append(f"radio outside a fieldset with a legend: {c['name']}")
    if page.headings[:1] != [1]:
        found.append(f"does not start with one h1: {page.headings}")
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        if after > before + 1:
            found.append(f"heading h{after} after h{before}")
    return found


def test_every_control_is_labelled_and_headings_follow_in_order(world, client, auth):
    pages = {
        "ana@ux.example.org": [
            f"/followup/prompts/{world.prompt_id}",
            f"/pairs/{world.pair_id}",
            f"/asks/{world.ask_id}",
            "/o/ux/asks/new",
            "/followup",
            "/pairs",
            "/asks",
        ],
        "olu@ux.example.org": [
            f"/events/{world.event.id}/followup",
            "/o/ux/pairs",
            "/o/ux/recognition",
            "/o/ux/testimonials",
        ],
    }
    problems = {}
    for email, urls in pages.items():
        auth.login(email)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            if found := _problems(response.get_data(as_text=True)):
                problems[url] = found
        auth.logout()
    assert problems == {}
    # The parser is not blind: the prompt has its four-way choices and a rating.
    auth.login("ana@ux.example.org")
    prompt = _Controls()
    prompt.feed(client.get(f"/followup/prompts/{world.prompt_id}").get_data(True))
    radios = [c for c in prompt.controls if c["type"] == "radio"]
    assert {c["name"] for c in radios} >= {"rating"} and len(radios) == 2 * 4 + 5


def test_an_error_on_the_prompt_is_summarised_at_its_top(world, client, auth):
    auth.login("ana@ux.example.org")
    url = f"/followup/prompts/{world.prompt_id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(
        url, data={"csrf_token": token, "rating": "4", "testimonial": "Lovely."}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = html.index("data-error-summary")
    assert summary < html.index("People you met")  # read before the long form
    assert 'href="#consent"' in html[summary:]  # a link to the box to tick
    assert 'aria-describedby="consent-help"' in html  # the box names its error
    assert 'id="consent-help"' in html
    assert re.search(r'<input checked[^>]*value="4"', html)  # answers are kept


def test_plain_text_mails_say_why_they_came_and_how_to_stop(world, outbox):
    intro = outbox("ana@ux.example.org")
    prompts = [m for m in intro if "keep in touch with" in str(m["Subject"])]
    intros = [m for m in intro if str(m["Subject"]).startswith("Meet ")]
    assert prompts and intros
    for msg in (prompts[0], intros[0]):
        text = mail_text(msg)
        assert "You get this e-mail because" in text
        assert "Unsubscribe from these e-mails: http" in text
        assert msg["List-Unsubscribe"]
    text = mail_text(intros[0])
    # The first check-in comes before the how-to, and a date alone has no zone.
    assert text.index("First check-in:") < text.index("The calendar invite")
    ends = db.session.get(Pair, world.pair_id).term_ends_at
    assert f"until {ends:%a} {ends.day} {ends:%b %Y}." in text


@pytest.mark.once  # layout on a phone: the SQLite pass only
@pytest.mark.browser
def test_a_phone_never_scrolls_sideways_and_main_buttons_are_big(
    world, live_server, browser, outbox
):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", "ana@ux.example.org")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    buttons = {
        f"/followup/prompts/{world.prompt_id}": "Save my answers",
        f"/pairs/{world.pair_id}": "Log the check-in",
        f"/asks/{world.ask_id}": "Ask them",
    }
    for url, button in buttons.items():
        page.goto(live_server + url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{url} scrolls sideways: {width} px"
        height = page.get_by_role("button", name=button).bounding_box()["height"]
        assert height >= 44, f"{url}: {button!r} is {height} px tall"
    # The prompt's save button stays on screen while one scrolls the choices.
    page.goto(f"{live_server}/followup/prompts/{world.prompt_id}")
    box = page.get_by_role("button", name="Save my answers").bounding_box()
    assert box["y"] + box["height"] <= 740
    # The introduction e-mail fits a phone too (long addresses break).
    intro = next(
        m for m in outbox("ana@ux.example.org") if "Meet " in str(m["Subject"])
    )
    page.set_content(intro.get_body(preferencelist=("html",)).get_content())
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert errors == []
    context.close()
