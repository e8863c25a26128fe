"""20 phones scan one badge at the same instant: exactly one check-in."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from tests.checkin.conftest import count_checked_in

SCANNERS = 20


def _scan(base: str, secret: str, token: str, barrier: threading.Barrier) -> dict:
    request = urllib.request.Request(
        f"{base}/api/v1/checkins",
        data=json.dumps({"token": token}).encode(),
        headers={
            "Authorization": f"Bearer {secret}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    barrier.wait()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as exc:
        return {"http_error": exc.code, "body": exc.read().decode()}


def test_twenty_simultaneous_scans_make_one_check_in(
    app, live_server, door, make_registration
):
    reg = make_registration(door.event, name="Grace Hopper")
    token, secret = reg.badge_token, door.token  # read here: threads have no app
    barrier = threading.Barrier(SCANNERS)
    with ThreadPoolExecutor(SCANNERS) as pool:
        answers = list(
            pool.map(
                lambda _: _scan(live_server, secret, token, barrier),
                range(SCANNERS),
            )
        )
    statuses = sorted(a.get("status", str(a)) for a in answers)
    assert statuses.count("checked_in") == 1, answers
    assert statuses.count("already_checked_in") == SCANNERS - 1, answers
    assert {a["checked_in_at"] for a in answers} == {
        next(a for a in answers if a["status"] == "checked_in")["checked_in_at"]
    }
    assert count_checked_in(door.event.id) == 1
