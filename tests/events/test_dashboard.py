"""The organizer's numbers about an event's people (``mixer.events.dashboard``)."""

from __future__ import annotations

from mixer.events import dashboard


def test_catering_summary_and_csv(make_event, make_registration, org):
    event = make_event(org, capacity=4)
    for dietary in ["Vegan", "vegan", None, "Halal", "=HYPERLINK(1)"]:
        make_registration(event, dietary=dietary)
    summary = dict(dashboard.catering_summary(event))
    assert summary == {"Vegan": 2, "Halal": 1, "No special needs": 1}  # 5th waits
    csv_text = "".join(dashboard.registrations_csv(event))
    assert csv_text.splitlines()[0].startswith("id,name,email,status")
    assert "'=HYPERLINK(1)" in csv_text and ",=HYPERLINK" not in csv_text
