"""Two people choosing each other at the same instant still become one pair.

Each side answers from its own client in its own thread (its own request context
and database session), released together at a barrier. Without the event lock in
``save_answers`` each transaction could miss the other's uncommitted choice on
PostgreSQL and no pair would form.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from mixer import clock
from mixer.extensions import db
from mixer.followup import services
from mixer.pairs.models import Pair
from tests.followup.conftest import (
    START,
    check_in,
    count,
    local,
    meet,
    pick_link,
    prompt_mails,
    read_form,
)


def test_simultaneous_mutual_choices_make_exactly_one_pair(app, room, outbox):
    clock.advance(START - clock.now() + timedelta(minutes=5))
    check_in(room, "Ana", "Ben")
    meet(room, "Ana", "Ben", source="rotation")
    services.close_event(room.event, room.organizer)
    services.send_prompts(
        room.event.id, clock.stamp(services.followup_for(room.event).due_at)
    )
    db.session.commit()
    links = {
        "Ana": pick_link(
            prompt_mails(outbox, "ana@acme.example.org")[0],
            room.regs["Ben"].id,
            "mentee",
        ),
        "Ben": pick_link(
            prompt_mails(outbox, "ben@acme.example.org")[0],
            room.regs["Ana"].id,
            "mentor",
        ),
    }
    prepared = []
    for link in links.values():
        browser = app.test_client()
        page = browser.get(local(link))
        assert page.status_code == 200
        prepared.append((browser, *read_form(page.get_data(as_text=True))))
    barrier = threading.Barrier(len(prepared))

    def send(item):
        browser, action, fields = item
        barrier.wait()
        return browser.post(action, data=fields).status_code

    with ThreadPoolExecutor(max_workers=len(prepared)) as pool:
        statuses = list(pool.map(send, prepared))
    assert statuses == [302, 302]
    assert count(Pair) == 1
    assert count(Pair, Pair.mentor_id == room.users["Ana"].id) == 1
