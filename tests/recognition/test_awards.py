"""The Micro-Mentor of the Month through its services (the views only call these)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mixer import clock
from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.recognition import RecognitionError, awards, models
from mixer.worker import run_once
from tests.audit import audited
from tests.helpers import mail_text
from tests.recognition.conftest import MARCH


def test_draft_then_publish_notifies_once(month_data, outbox):
    org, ada, olga = month_data["org"], month_data["ada"], month_data["organizer"]
    award = awards.save_draft(org, MARCH, ada.id, "", olga)
    db.session.commit()
    assert award.status == "draft"
    assert award.citation == (
        "For 2 mentoring check-ins in March 2026, and for the difference their "
        "mentees say it made."
    )
    assert award.score == 13
    # (Gus left the organization in the fixture: his pairs' "closed" notes only.)
    assert [m for m in outbox() if "Micro-Mentor" in m["Subject"]] == []
    published = awards.publish(
        org, MARCH, olga, user_id=ada.id, citation=award.citation
    )
    db.session.commit()
    assert (published.status, published.confirmed_by_id) == ("published", olga.id)
    assert published.published_at == clock.now()
    # A double click, then an unpublish and the same person again: one e-mail.
    awards.publish(org, MARCH, olga, user_id=ada.id, citation=award.citation)
    awards.unpublish(org, MARCH, month_data["admin"])
    awards.publish(org, MARCH, olga, user_id=ada.id, citation=award.citation)
    db.session.commit()
    # The audit trail: each publication and the unpublish (not the double click).
    trail = audited("award.")
    admin = month_data["admin"]
    assert [(e.action, e.actor_id, e.org_id) for e in trail] == [
        ("award.published", olga.id, org.id),
        ("award.unpublished", admin.id, org.id),
        ("award.published", olga.id, org.id),
    ]
    assert trail[1].summary == f"Unpublished the award of March 2026 to {ada.name}"
    assert trail[1].details == {"month": MARCH, "user_id": ada.id}
    assert (trail[0].subject_type, trail[0].subject_id) == ("award", award.id)
    (msg,) = outbox(ada.email)
    assert msg["Subject"] == (
        "You are Riverside College's Micro-Mentor of the Month for March 2026"
    )
    text = mail_text(msg)
    assert "http://mixer.test/o/riverside/awards/2026-03" in text
    assert "http://mixer.test/o/riverside/awards/2026-03/certificate.pdf" in text
    assert award.citation in text
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert 'href="http://mixer.test/o/riverside/awards/2026-03"' in html
    assert "See your award" in html


def test_a_published_month_is_not_silently_replaced(month_data):
    org, olga = month_data["org"], month_data["organizer"]
    ada, cy = month_data["ada"], month_data["cy"]
    award = awards.save_draft(org, MARCH, ada.id, "Thank you, Ada.", olga)
    awards.publish(org, MARCH, olga, user_id=ada.id, citation=award.citation)
    with pytest.raises(RecognitionError, match="already published") as exc:
        awards.save_draft(org, MARCH, cy.id, "Cy instead", olga)
    assert exc.value.status == 409
    with pytest.raises(RecognitionError, match="already published"):
        awards.publish(org, MARCH, olga, user_id=cy.id, citation="Cy instead")
    assert awards.award_for(org, MARCH).user_id == ada.id


def test_publish_refuses_a_draft_changed_since_it_was_reviewed(month_data):
    org, olga = month_data["org"], month_data["organizer"]
    ada, cy = month_data["ada"], month_data["cy"]
    awards.save_draft(org, MARCH, ada.id, "For Ada.", olga)
    awards.save_draft(org, MARCH, cy.id, "For Cy.", olga)  # another organizer
    with pytest.raises(RecognitionError, match="changed since you reviewed"):
        awards.publish(org, MARCH, olga, user_id=ada.id, citation="For Ada.")
    # Browsers send line breaks as CRLF: still the same citation.
    awards.save_draft(org, MARCH, cy.id, "For Cy.\r\nThank you.", olga)
    award = awards.publish(
        org, MARCH, olga, user_id=cy.id, citation="For Cy.\r\nThank you."
    )
    assert (award.status, award.citation) == ("published", "For Cy.\nThank you.")


def test_only_candidates_of_an_ended_month_can_be_drafted(month_data):
    org, olga = month_data["org"], month_data["organizer"]
    with pytest.raises(RecognitionError, match="ranked candidates"):
        awards.save_draft(org, MARCH, month_data["bo"].id, "Bo", olga)
    with pytest.raises(RecognitionError, match="not over yet") as exc:
        awards.save_draft(org, "2026-04", month_data["ada"].id, "Ada", olga)
    assert "from 1 May 2026" in str(exc.value)
    with pytest.raises(RecognitionError, match="under 400"):
        awards.save_draft(org, MARCH, month_data["ada"].id, "x" * 401, olga)
    with pytest.raises(RecognitionError, match="no draft"):
        awards.publish(org, "2026-02", olga, user_id=1, citation="x")
    assert db.session.scalar(select(func.count()).select_from(models.Award)) == 0


def test_draft_ready_reminder_goes_to_organizers_once_a_month(
    month_data, outbox, runner
):
    org, olga = month_data["org"], month_data["organizer"]
    ada = month_data["ada"]
    award = awards.save_draft(org, MARCH, ada.id, "For Ada.", olga)
    awards.publish(org, MARCH, olga, user_id=ada.id, citation=award.citation)
    db.session.commit()
    job = db.session.scalar(select(Job).where(Job.kind == awards.DRAFT_JOB))
    assert job.payload == {"org_id": org.id, "month": "2026-04"}
    assert job.run_at.isoformat() == "2026-05-01T09:00:00+00:00"
    # April's points: Ada's check-in reported at midnight on 1 April.
    clock.freeze(job.run_at + timedelta(minutes=1))
    run_once()
    run_once()
    organizers = {month_data["organizer"].email, month_data["admin"].email}
    reminders = [m for m in outbox() if "ready to review" in m["Subject"]]
    assert sorted(m["To"].addresses[0].addr_spec for m in reminders) == sorted(
        organizers
    )
    text = mail_text(reminders[0])
    assert "1. Ada Lovelace: 3 points" in text
    assert "http://mixer.test/o/riverside/recognition?month=2026-04" in text
    assert reminders[0]["List-Unsubscribe"]
    # …and May's reminder is already waiting for 1 June.
    keys = set(db.session.scalars(select(Job.dedupe_key)))
    assert f"{awards.DRAFT_JOB}:{org.id}:2026-05" in keys


def test_no_reminder_for_a_month_without_candidates_or_already_published(
    month_data, outbox
):
    org = month_data["org"]
    assert awards.send_draft_ready(org.id, "2025-01") == {"sent": 0}
    clock.freeze(clock.now().replace(day=1, month=4, hour=9))
    olga, ada = month_data["organizer"], month_data["ada"]
    award = awards.save_draft(org, MARCH, ada.id, "For Ada.", olga)
    awards.publish(org, MARCH, olga, user_id=ada.id, citation=award.citation)
    assert awards.send_draft_ready(org.id, MARCH) == {"sent": 0}
    assert awards.send_draft_ready(10_000, MARCH) == {"sent": 0}
