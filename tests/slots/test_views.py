"""The slots pages: find and book, the loser's page, my week, offers, the
e-mailed "did it help?" link, and a page in German."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mixer import clock
from mixer.extensions import db
from mixer.slots.models import Helped, SlotBooking, SlotOffer
from mixer.slots.services import book
from tests.helpers import link_in

TUE = datetime(2026, 3, 3, 11, 30, tzinfo=UTC)


def _post(client, url, data):
    html = client.get("/o/acme/slots").get_data(as_text=True)
    from tests.helpers import csrf_from

    return client.post(url, data={"csrf_token": csrf_from(html), **data})


def test_book_by_tap_then_the_loser_sees_the_next_slots(client, auth, world):
    auth.login(world.guest.email)
    page = client.get("/o/acme/slots?topic=negotiation").get_data(as_text=True)
    assert "Ada Host" in page and TUE.isoformat() in page
    assert "Only the slots of" not in page
    # One person's slots say so, with the way back to everyone's.
    one = client.get(f"/o/acme/slots?person={world.host.id}").get_data(as_text=True)
    assert "Only the slots of <bdi>Ada Host</bdi>." in one
    assert ">Show everyone's slots</a>" in one
    done = _post(
        client,
        "/o/acme/slots/book",
        {"offer_id": world.offer.id, "starts_at": TUE.isoformat(), "about": "Deals"},
    )
    assert done.status_code == 302
    booking_id = db.session.scalar(select(SlotBooking.id))
    # The week opens at the new booking, which stands out (:target).
    assert done.headers["Location"].endswith(f"#booking-{booking_id}")
    week = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "With <bdi>Ada Host</bdi>" in week and "<bdi>Deals</bdi>" in week
    # "Cancel booking" and "Move" say which booking they act on.
    assert week.count(f'aria-describedby="booking-{booking_id}-what"') == 2
    assert ">Cancel booking</button>" in week
    auth.logout()
    auth.login(world.colleague.email)
    lost = _post(
        client,
        "/o/acme/slots/book",
        {"offer_id": world.offer.id, "starts_at": TUE.isoformat()},
    )
    html = lost.get_data(as_text=True)
    assert lost.status_code == 409
    assert "Someone else has just booked that slot." in html
    assert "The next free slots of <bdi>Ada Host</bdi>:" in html
    assert (TUE + timedelta(minutes=5)).isoformat() in html
    assert db.session.scalar(select(SlotBooking.guest_id)) == world.guest.id


def test_offer_created_edited_and_deleted(client, auth, world):
    auth.login(world.host.email)
    form = {
        "kind": "once",
        "on_date": "2026-03-05",
        "start_time": "09:00",
        "end_time": "09:15",
        "slot_minutes": "5",
        "timezone": "Europe/Berlin",
        "place": "Room 4",
        "topics": "negotiation",
        "active": "y",
    }
    saved = _post(client, "/o/acme/slots/offers/new", form)
    assert saved.status_code == 302
    offer = db.session.scalars(select(SlotOffer).order_by(SlotOffer.id.desc())).first()
    assert offer.on_date.isoformat() == "2026-03-05" and offer.place == "Room 4"
    bad = _post(
        client, f"/o/acme/slots/offers/{offer.id}", {**form, "timezone": "Mars/Base"}
    )
    assert bad.status_code == 400 and "Choose a time zone" in bad.get_data(as_text=True)
    # Said at the top too (below a phone's fold the field's error goes unseen).
    summary = (
        bad.get_data(as_text=True).split('id="offer-problems"')[1].split("</div>")[0]
    )
    assert "not saved yet" in summary and '<a href="#timezone">Time zone</a>' in summary
    gone = _post(client, f"/o/acme/slots/offers/{offer.id}/delete", {})
    assert gone.status_code == 302
    db.session.expire_all()
    assert db.session.get(SlotOffer, offer.id).deleted_at is not None
    assert client.get(f"/o/acme/slots/offers/{offer.id}").status_code == 404


def test_did_it_help_link_shows_then_saves(client, world, outbox):
    booking = book(world.offer.id, world.guest, TUE)
    db.session.commit()
    clock.freeze(TUE + timedelta(minutes=6))
    from mixer.jobs.services import run_due

    run_due()
    db.session.commit()
    msg = outbox(world.guest.email)[-1]
    link = link_in(msg, r"/slots/helped/[^ ]*answer=yes")
    url = link.replace("http://mixer.test", "")
    shown = client.get(url).get_data(as_text=True)
    assert "Did it help?" in shown
    # The e-mail's choice stands out, and the page says a tap still saves it.
    assert "Tap your answer to save it." in shown
    assert 'value="yes">Yes</button>' in shown  # primary, not yet pressed
    db.session.expire_all()
    assert db.session.get(SlotBooking, booking.id).helped is None  # GET only shows
    from tests.helpers import csrf_from

    saved = client.post(
        url, data={"csrf_token": csrf_from(shown), "answer": "somewhat"}
    ).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SlotBooking, booking.id).helped == Helped.SOMEWHAT
    # The saved answer is the one shown as chosen, not the e-mail's "yes".
    assert "Thank you. Your answer is saved." in saved
    assert 'value="somewhat" aria-pressed="true">Somewhat' in saved
    assert 'value="yes" class="secondary outline" aria-pressed="false">' in saved
    assert "answer=yes" not in re.search(r'<form method="post"[^>]*>', saved)[0]


def test_my_week_in_german(client, auth, world):
    world.guest.locale = "de"
    db.session.commit()
    book(world.offer.id, world.guest, TUE)
    db.session.commit()
    auth.login(world.guest.email)
    html = client.get("/o/acme/slots/week").get_data(as_text=True)
    assert 'lang="de"' in html and "Ada Host" in html
    assert "Verschieben" in html  # "Move"


def _find_cost(client) -> tuple[int, float]:
    from time import perf_counter

    from tests.events.test_dashboard_queries import counting_queries

    client.get("/o/acme/slots")
    db.session.expire_all()
    with counting_queries() as seen:
        began = perf_counter()
        response = client.get("/o/acme/slots")
        took = perf_counter() - began
    assert response.status_code == 200
    return len(seen), took


def test_find_costs_the_same_statements_for_few_or_many_offers(
    client, auth, world, make_user
):
    from mixer.slots.services import create_offer
    from tests.slots.conftest import weekly

    auth.login(world.guest.email)
    few, _ = _find_cost(client)
    for n in range(30):
        host = make_user(
            world.org,
            name=f"Host {n}",
            offers=["negotiation"],
            department=f"Dept {n % 5}",
        )
        offer = create_offer(world.org, host, weekly(weekdays=[1, 2, 3, 4, 5]))
        db.session.flush()
        book(offer.id, make_user(world.org, name=f"Guest {n}"), TUE)
    db.session.commit()
    many, took = _find_cost(client)
    assert many == few
    print(f"find page, 31 offers: {many} statements, {took * 1000:.0f} ms")
