"""E-mailed answer links: refused clearly when expired, used, tampered or not
the holder's, and nothing changes; pause or close; one-sided renewal is private."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from mixer import clock
from mixer.extensions import db
from mixer.pairs import answers, lifecycle, links
from mixer.pairs.lifecycle import create_pair
from mixer.pairs.models import Pair
from mixer.tokens import make
from tests.helpers import csrf_from, mail_text

from .helpers import answer_link, kinds, mails, path, sent, tick_until

FIRST_SLOT = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)


@pytest.fixture
def asked(world):
    """A peer pair whose check-in #1 was just asked about."""
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    tick_until(FIRST_SLOT)
    return pair.id


def _ask(outbox, to: str):
    """The latest \"did you meet?\" e-mail to ``to``."""
    return [m for m in outbox(to) if m["Subject"].startswith("Did you meet")][-1]


def _state(pair_id: int) -> tuple:
    """What an answer could change."""
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)
    return (
        pair.status,
        pair.missed_in_row,
        [(c.number, c.status, c.due_at, dict(c.notes or {})) for c in pair.meetings],
    )


def _post(client, url: str, **data):
    """POST to a link with a CSRF token from a page that has a form."""
    for source in ("/login", "/profile"):  # a page with a form, signed in or not
        page = client.get(source)
        if page.status_code == 200:
            break
    return client.post(
        path(url), data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data}
    )


def test_expired_link_is_refused_and_changes_nothing(asked, client, outbox):
    yes = answer_link(_ask(outbox, "bo@acme.example.org"), "Yes, we met")
    before = _state(asked)
    clock.advance(links.MEETING_LINK_AGE + timedelta(minutes=1))
    for response in (client.get(path(yes)), _post(client, yes, answer="met")):
        assert response.status_code == 410
        body = response.get_data(as_text=True)
        assert "This link has expired" in body and "Nothing was changed" in body
    assert _state(asked) == before


def test_tampered_link_is_refused(asked, client, outbox):
    yes = answer_link(_ask(outbox, "bo@acme.example.org"), "Yes, we met")
    before = _state(asked)
    head, _, tail = yes.rpartition(".")
    forged = f"{head}.{'A' if tail[0] != 'A' else 'B'}{tail[1:]}"
    for response in (client.get(path(forged)), _post(client, forged, answer="met")):
        assert response.status_code == 400
        assert "not valid" in response.get_data(as_text=True)
    # A token made for another purpose (the unsubscribe link's) is refused too.
    other_purpose = make("unsubscribe", {"p": asked, "n": 1, "u": 1, "a": "met"})
    assert client.get(f"/pairs/{asked}/checkin/{other_purpose}").status_code == 400
    assert _state(asked) == before


def test_used_link_is_refused_the_second_time(asked, client, outbox):
    mail = _ask(outbox, "bo@acme.example.org")
    skipped = answer_link(mail, "We skipped this one")
    assert _post(client, skipped, answer="skipped", note="Sick.").status_code == 200
    after = _state(asked)
    assert after[2][0][1] == "skipped"
    # The same link, and the e-mail's other buttons (they share one use), are spent.
    for url in (skipped, answer_link(mail, "Yes, we met")):
        response = _post(client, url, answer="met")
        assert response.status_code == 410
        assert "already been used" in response.get_data(as_text=True)
    assert _state(asked) == after


def test_another_pairs_or_another_persons_link_is_refused(
    asked, world, client, auth, outbox, make_user
):
    yes = answer_link(_ask(outbox, "bo@acme.example.org"), "Yes, we met")
    before = _state(asked)
    # Bo's token under another pair's address.
    carol = make_user(world.org, email="carol@acme.example.org")
    other = create_pair(world.org, world.mentor, carol, kind="peer")
    db.session.commit()
    token = yes.rsplit("/", 1)[1]
    response = client.get(f"/pairs/{other.id}/checkin/{token}")
    assert response.status_code == 400
    assert "another pair" in response.get_data(as_text=True)
    # Someone else signed in opens Bo's link: refused, not answered as Bo.
    auth.login("carol@acme.example.org")
    for response in (client.get(path(yes)), _post(client, yes, answer="met")):
        assert response.status_code == 400
        assert "sent to someone else" in response.get_data(as_text=True)
    assert _state(asked) == before
    # Signed in as Bo himself, it works.
    auth.logout()
    auth.login("bo@acme.example.org")
    assert _post(client, yes, answer="met").status_code == 200
    assert _state(asked)[2][0][1] == "met"


def test_a_get_never_changes_anything(asked, client, outbox):
    """Mail scanners open every link: only the POST records."""
    mail = _ask(outbox, "bo@acme.example.org")
    before = _state(asked)
    for label in ("Yes, we met", "We moved it", "We skipped this one"):
        assert client.get(path(answer_link(mail, label))).status_code == 200
    assert _state(asked) == before


def test_moved_needs_a_date_in_the_term(asked, client, outbox):
    moved = answer_link(_ask(outbox, "ada@acme.example.org"), "We moved it")
    before = _state(asked)
    response = _post(client, moved, answer="moved", moved_date="", moved_time="")
    assert response.status_code == 422
    assert "on which day" in response.get_data(as_text=True)
    response = _post(client, moved, answer="moved", moved_date="2027-01-01")
    assert response.status_code == 422
    assert "before the term ends" in response.get_data(as_text=True)
    response = _post(client, moved, answer="moved", moved_date="2026-03-01")
    assert "in the future" in response.get_data(as_text=True)
    assert _state(asked) == before  # and the link still works:
    assert (
        _post(client, moved, answer="moved", moved_date="2026-03-06").status_code == 200
    )
    assert _state(asked)[2][0][1:3] == (
        "moved",
        datetime(2026, 3, 6, 12, 30, tzinfo=UTC),
    )


def test_unanswered_then_late_link_cannot_rewrite_a_missed_meeting(
    asked, client, outbox
):
    yes = answer_link(_ask(outbox, "bo@acme.example.org"), "Yes, we met")
    tick_until(FIRST_SLOT + timedelta(days=3))
    after = _state(asked)
    assert after[2][0][1] == "missed"
    page = client.get(path(yes))
    assert "closed as missed" in page.get_data(as_text=True)
    response = _post(client, yes, note="We did meet!")
    assert response.status_code == 409
    assert "closed as missed" in response.get_data(as_text=True)
    assert _state(asked) == after


def test_pause_or_close_links(world, client, outbox):
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    pair_id = pair.id
    # Three check-ins missed in a row (4, 18 March and 1 April).
    tick_until(datetime(2026, 4, 4, 12, 30, tzinfo=UTC))
    assert kinds()["pairs.standing"] == 2 and kinds()["pairs.nudge"] == 2
    mail = mails(outbox, "bo@acme.example.org", "Pause or")[0]
    # The GET shows the choice, preselected; nothing changes yet.
    page = client.get(path(answer_link(mail, "Pause for now")))
    assert 'value="pause"' in page.get_data(as_text=True)
    assert _state(pair_id)[0] == "active"
    # Bo closes the pair.
    close = answer_link(mail, "Close the pair")
    assert _post(client, close, choice="close").status_code == 200
    db.session.expire_all()
    pair = db.session.get(Pair, pair_id)
    assert (pair.status, pair.open_key) == ("closed", None)
    assert all(c.status not in ("scheduled", "moved") for c in pair.meetings)
    # Both are told, with the calendar series withdrawn (SEQUENCE up).
    assert sent()[("pairs.status", "ada@acme.example.org")] == 1
    notice = mails(outbox, "ada@acme.example.org", "closed")[0]
    assert "Bo Chen closed your pair." in mail_text(notice)
    [cancel] = list(notice.iter_attachments())
    cal = Calendar.from_ical(cancel.get_payload(decode=True))
    assert cal["method"] == "CANCEL"
    assert cal.walk("VEVENT")[0]["sequence"] == 1
    # Nothing more happens to a closed pair, and the two may pair up again.
    before = sum(kinds().values())
    tick_until(datetime(2026, 6, 30, tzinfo=UTC))
    assert sum(kinds().values()) == before
    assert _post(client, close, choice="close").status_code == 410
    assert create_pair(world.org, world.mentor, world.mentee, kind="peer") is not None


def test_pause_then_resume_from_the_links_and_page(world, client, auth, outbox):
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    pair_id = pair.id
    tick_until(datetime(2026, 4, 4, 12, 30, tzinfo=UTC))
    mail = mails(outbox, "ada@acme.example.org", "Pause or")[0]
    assert (
        _post(client, answer_link(mail, "Pause for now"), choice="pause").status_code
        == 200
    )
    state = _state(pair_id)
    assert state[0] == "paused" and state[1] == 0
    assert [c[1] for c in state[2]] == ["missed", "missed", "missed"]
    # Paused: no reminders, no questions, however long.
    before = kinds()
    tick_until(datetime(2026, 5, 1, tzinfo=UTC))
    assert kinds() == before
    # Bo resumes from the pair page: a new check-in two days on, a new invite.
    auth.login("bo@acme.example.org")
    page = client.get(f"/pairs/{pair_id}")
    response = client.post(
        f"/pairs/{pair_id}/resume",
        data={"csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    assert response.status_code == 302
    state = _state(pair_id)
    assert state[0] == "active"
    assert state[2][-1][1:3] == (
        "scheduled",
        datetime(2026, 5, 4, 12, 30, tzinfo=UTC),  # Friday 1 May → Monday
    )
    resumed = [
        m for m in outbox("ada@acme.example.org") if "start again" in m["Subject"]
    ]
    [invite] = list(resumed[0].iter_attachments())
    vevent = Calendar.from_ical(invite.get_payload(decode=True)).walk("VEVENT")[0]
    assert vevent["sequence"] == 2  # paused (1), resumed (2)
    assert vevent.decoded("dtstart") == datetime(2026, 5, 4, 12, 30, tzinfo=UTC)


def test_one_sided_renewal_stays_private(world, client, outbox):
    pair = create_pair(world.org, world.mentor, world.mentee, kind="peer")
    db.session.commit()
    pair_id = pair.id
    clock.freeze(pair.term_ends_at + timedelta(days=4))
    tick_until(clock.now())
    assert _state(pair_id)[0] == "ended"
    # A worker catching up settles the overdue check-ins without nudging anyone.
    assert "pairs.nudge" not in kinds() and kinds()["pairs.feedback"] == 2
    link = [
        m for m in outbox("ada@acme.example.org") if "how did it go" in m["Subject"]
    ]
    url = re.search(r"https?://\S+/feedback/\S+", mail_text(link[0])).group(0)
    before = sent()
    page = client.get(path(url))
    assert "Your term with Bo Chen" in page.get_data(as_text=True)
    response = client.post(
        path(url),
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "rating": "3",
            "renew": "y",
            "testimonial": "Lovely",  # without consent: asked to tick the box
        },
    )
    assert response.status_code == 422
    assert "Tick the box" in response.get_data(as_text=True)
    response = client.post(
        path(url),
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "rating": "3",
            "renew": "y",
        },
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Your feedback is saved" in body and "You both" not in body
    assert sent() == before  # nobody is told anything
    assert db.session.scalar(select(func.count()).select_from(Pair)) == 1
    # The link worked once.
    assert client.get(path(url)).status_code == 410


def test_a_paused_pairs_question_is_gone_and_says_so(asked, world, client, outbox):
    yes = answer_link(_ask(outbox, "bo@acme.example.org"), "Yes, we met")
    lifecycle.pause(db.session.get(Pair, asked), world.mentor)
    db.session.commit()
    before = _state(asked)
    response = _post(client, yes, answer="met")
    assert response.status_code == 410
    assert "no longer planned" in response.get_data(as_text=True)
    assert _state(asked) == before


def test_an_answer_that_loses_a_race_keeps_only_its_note(asked, world, outbox):
    """Both opened their link; Ada confirms first. Bo's answer becomes a note."""
    ada_url = answer_link(_ask(outbox, "ada@acme.example.org"), "We skipped this one")
    bo_url = answer_link(_ask(outbox, "bo@acme.example.org"), "Yes, we met")
    ada = links.read_meeting_link(asked, ada_url.rsplit("/", 1)[1])
    bo = links.read_meeting_link(asked, bo_url.rsplit("/", 1)[1])
    assert ada.answerable and bo.answerable
    assert answers.answer_meeting(ada, "skipped", "Ill this week.") == "answered"
    assert answers.answer_meeting(bo, "met", "Short call.") == "noted"
    db.session.commit()
    state = _state(asked)
    assert state[1] == 1  # one miss (the skip), not a meeting
    assert state[2][0][1] == "skipped"
    assert state[2][0][3] == {
        str(world.mentor.id): "Ill this week.",
        str(world.mentee.id): "Short call.",
    }


def test_a_note_on_a_moved_meeting_from_the_other_persons_link(
    asked, world, client, outbox
):
    """Bo moves the check-in; Ada's older link still takes her note (no error)."""
    moved = answer_link(_ask(outbox, "bo@acme.example.org"), "We moved it")
    assert (
        _post(client, moved, answer="moved", moved_date="2026-03-06").status_code == 200
    )
    ada_link = answer_link(_ask(outbox, "ada@acme.example.org"), "We moved it")
    page = client.get(path(ada_link))
    assert "answered already" in page.get_data(as_text=True)
    response = _post(client, ada_link, note="Friday is better for me.")
    assert response.status_code == 200
    assert "Your note is saved" in response.get_data(as_text=True)
    state = _state(asked)
    assert state[2][0][1:3] == ("moved", datetime(2026, 3, 6, 12, 30, tzinfo=UTC))
    assert state[2][0][3][str(world.mentor.id)] == "Friday is better for me."


def test_a_link_e_mailed_before_stamps_ended_in_z_still_answers(asked, world, client):
    """Links already in inboxes carry the due time as ``20260304T123000``."""

    def old_link(due: str) -> str:
        token = make(
            links.MEETING,
            {
                "p": asked,
                "n": 1,
                "d": due,
                "u": world.mentee.id,
                "a": "met",
                "jti": due,
            },
        )
        return f"/pairs/{asked}/checkin/{token}"

    # About another moment (as after a move): not answered from this link.
    other = old_link("20260304T133000")
    assert "we will ask again then" in client.get(other).get_data(as_text=True)
    assert not links.read_meeting_link(asked, other.rsplit("/", 1)[1]).answerable
    # About the meeting's own moment: answered as ever.
    same = old_link("20260304T123000")
    assert links.read_meeting_link(asked, same.rsplit("/", 1)[1]).answerable
    assert _post(client, same, answer="met").status_code == 200
    assert _state(asked)[2][0][1] == "met"
