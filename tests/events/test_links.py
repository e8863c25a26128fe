"""The links sent about a registration (``mixer.events.links``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mixer import clock
from mixer.errors import LinkError
from mixer.events import links, registration
from mixer.extensions import db


def test_an_old_cancel_link_does_not_cancel_a_new_registration(
    make_event, make_registration, org, frozen
):
    event = make_event(org)
    first = make_registration(event, email="ana@example.org")
    old_token = links.cancel_token(first)
    registration.cancel_registration(first)
    db.session.commit()
    clock.advance(timedelta(minutes=5))
    again = make_registration(event, email="ana@example.org")
    with pytest.raises(LinkError, match="earlier registration"):
        links.registration_from_cancel_token(old_token)
    assert links.registration_from_cancel_token(links.cancel_token(again)) == again
