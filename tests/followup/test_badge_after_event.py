"""A badge scanned between attendees after the event says where the follow-up
is (when it comes, or a link to the scanner's own prompt), not "in your
follow-ups after the event"."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from mixer import clock
from mixer.accounts.services import set_password
from mixer.connections.models import Connection
from mixer.extensions import db
from mixer.followup import services
from mixer.followup.models import FollowupPrompt
from tests.followup.conftest import END, START, check_in, read_form
from tests.helpers import PASSWORD

BEFORE = "You'll find each other in your follow-ups after the event"


def _links(page: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', page)


def test_a_scan_after_the_event_points_to_the_follow_up(client, auth, room):
    check_in(room, "Ana", "Ben", "Cai", "Dee")
    set_password(room.users["Ana"], PASSWORD)
    db.session.commit()
    auth.login(room.users["Ana"].email)
    ben, cai, dee = (room.regs[n].badge_token for n in ("Ben", "Cai", "Dee"))
    assert BEFORE in client.get(f"/c/{ben}").get_data(as_text=True)  # during it

    # Over, the prompts not sent yet: when they come.
    due = services.followup_for(room.event).due_at
    clock.freeze(END + timedelta(minutes=30))
    page = client.get(f"/c/{cai}").get_data(as_text=True)
    assert BEFORE not in page
    assert "you met Cai Example" in page
    assert "your follow-up comes on Thu 05 Mar 2026, 21:00 GMT" in page
    assert due == END + timedelta(hours=2)
    assert "/followup" in _links(page)

    # The prompts went: a link to Ana's own prompt, where Dee (scanned now) is.
    clock.freeze(due + timedelta(minutes=1))
    services.send_prompts(room.event.id, clock.stamp(due))
    db.session.commit()
    prompt = db.session.scalar(
        select(FollowupPrompt).where(
            FollowupPrompt.registration_id == room.regs["Ana"].id
        )
    )
    page = client.get(f"/c/{dee}").get_data(as_text=True)
    assert BEFORE not in page
    assert "Dee Example is on your follow-up for this event" in page
    assert f"/followup/prompts/{prompt.id}" in _links(page)
    assert "Answer your follow-up" in page
    prompt_page = client.get(f"/followup/prompts/{prompt.id}").get_data(as_text=True)
    assert "Dee Example" in prompt_page
    assert db.session.scalar(
        select(Connection).where(
            Connection.a_id == min(room.regs["Ana"].id, room.regs["Dee"].id),
            Connection.b_id == max(room.regs["Ana"].id, room.regs["Dee"].id),
        )
    )

    # Answered: the link to change the answers, and to the pairs.
    action, fields = read_form(prompt_page)
    fields["rating"] = "4"
    saved = client.post(action, data=fields)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:800]
    page = client.get(f"/c/{ben}").get_data(as_text=True)
    assert BEFORE not in page
    assert "You answered your follow-up already" in page
    assert f"/followup/prompts/{prompt.id}" in _links(page)
    assert "/pairs" in _links(page)
    assert "Answer your follow-up" not in page


def test_someone_not_checked_in_is_told_no_follow_up_came(client, auth, room):
    clock.freeze(START + timedelta(minutes=45))
    check_in(room, "Ben")
    set_password(room.users["Ana"], PASSWORD)
    db.session.commit()
    services.close_event(room.event, room.organizer)  # early: ended now
    db.session.commit()
    auth.login(room.users["Ana"].email)
    ben = room.regs["Ben"].badge_token
    page = client.get(f"/c/{ben}").get_data(as_text=True)
    assert BEFORE not in page
    assert (
        "its follow-up goes by e-mail on Thu 05 Mar 2026, 17:45 GMT to the people "
        "who were checked in at the door, and you were not checked in"
    ) in page
    due = services.followup_for(room.event).due_at
    services.send_prompts(room.event.id, clock.stamp(due))
    db.session.commit()
    page = client.get(f"/c/{ben}").get_data(as_text=True)
    assert "you met Ben Example" in page
    assert BEFORE not in page
    assert "none came to you" in page
    assert not [link for link in _links(page) if "/followup/prompts/" in link]
