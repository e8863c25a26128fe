"""Testimonials and awards through the services (the views only call these)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from mixer import clock
from mixer.extensions import db
from mixer.jobs.models import Job
from mixer.recognition import models, services
from mixer.recognition.services import RecognitionError, submit_testimonial
from mixer.worker import run_once
from tests.helpers import mail_text
from tests.recognition.conftest import MARCH


@pytest.fixture
def org(app, frozen, make_org):
    return make_org(slug="acme", name="Acme")


def submit(org, key="prompt:1", body="Mixer changed my week.", **kw):
    kw.setdefault("author_name", "Bo Chen")
    return submit_testimonial(org.id, body=body, source_key=key, **kw)


# ---------------------------------------------------------------------------
# Testimonials


def test_submit_is_pending_and_idempotent_on_the_source_key(org):
    first = submit(org, body="  Good talk.  ", event_id=None)
    db.session.commit()
    assert (first.status, first.body) == ("pending", "Good talk.")
    again = submit(org, body="Better words.", author_name="Bo C.")
    db.session.commit()
    assert again.id == first.id
    assert (again.body, again.author_name) == ("Better words.", "Bo C.")
    assert db.session.scalar(select(func.count()).select_from(models.Testimonial)) == 1


def test_empty_body_makes_nothing(org):
    assert submit(org, body="   \n ") is None
    assert submit(org, body=None) is None
    assert db.session.scalar(select(func.count()).select_from(models.Testimonial)) == 0


def test_changed_words_are_reviewed_again_and_hidden_ones_stay_hidden(org, make_user):
    moderator = make_user(org, role="organizer")
    testimonial = submit(org, body="Original.")
    services.moderate(testimonial, "approve", moderator)
    db.session.commit()
    # The same words again (a re-save of the form) leave the approval alone,
    # also when the browser sends its line breaks as CRLF.
    assert submit(org, body="Original.").status == "approved"
    para = submit(org, key="prompt:2", body="One.\r\n\r\nTwo.\r\n")
    assert para.body == "One.\n\nTwo."  # paragraphs the pages can split
    services.moderate(para, "approve", moderator)
    assert submit(org, key="prompt:2", body="One.\r\n\r\nTwo.").status == "approved"
    # Changed words are neither dropped nor published unread: back to pending,
    # and off the public pages until an organizer reads them.
    again = submit(org, body="Edited after approval.")
    db.session.commit()
    assert again.id == testimonial.id
    assert (again.status, again.body) == ("pending", "Edited after approval.")
    assert (again.moderated_by_id, again.moderated_at) == (None, None)
    assert services.approved_testimonials(org.id) == [para]
    # What a moderator hid stays hidden, words and all.
    services.moderate(again, "hide", moderator)
    db.session.commit()
    hidden = submit(org, body="Please show it now.")
    assert (hidden.status, hidden.body) == ("hidden", "Edited after approval.")


def test_words_changed_after_the_moderator_read_them_are_not_approved(org, make_user):
    moderator = make_user(org, role="organizer")
    shown = submit(org, body="Kind words.")
    db.session.commit()
    seen = services.words_key(shown)  # what the moderation page carried
    submit(org, body="Something else entirely.")  # the author edits meanwhile
    db.session.commit()
    with pytest.raises(RecognitionError, match="changed these words") as exc:
        services.moderate(shown, "approve", moderator, seen=seen)
    assert exc.value.status == 409
    db.session.rollback()
    db.session.refresh(shown)
    assert (shown.status, shown.moderated_by_id) == ("pending", None)
    # Read again, the new words can be approved; hiding needs no reading.
    services.moderate(shown, "approve", moderator, seen=services.words_key(shown))
    assert shown.status == "approved" and shown.body == "Something else entirely."
    services.moderate(shown, "hide", moderator, seen="stale")
    assert shown.status == "hidden"
    # Pending words their author took back (another connection) after this
    # request read them: a clear refusal, not an error page.
    gone = submit(org, key="prompt:gone", body="Soon gone.")
    db.session.commit()
    assert gone.body == "Soon gone."  # read by "this request"
    with db.engine.begin() as other:
        other.execute(
            delete(models.Testimonial).where(models.Testimonial.id == gone.id)
        )
    with pytest.raises(RecognitionError, match="took these words back meanwhile"):
        services.moderate(gone, "approve", moderator)


def test_taking_words_back_frees_their_source_for_new_words(org, make_user):
    moderator = make_user(org, role="organizer")
    pending = submit(org, key="prompt:1", body="Draft words.")
    db.session.commit()
    assert services.withdraw_testimonial("prompt:1") is True
    assert db.session.get(models.Testimonial, pending.id) is None  # never seen
    approved = submit(org, key="prompt:1", body="Public words.")
    services.moderate(approved, "approve", moderator)
    db.session.commit()
    assert services.withdraw_testimonial("prompt:1") is True
    db.session.commit()
    # Hidden, with the moderator's record, and no longer the source's words.
    assert (approved.status, approved.moderated_by_id) == ("hidden", moderator.id)
    assert approved.source_key == f"withdrawn:{approved.id}"
    assert services.testimonial_by_source("prompt:1") is None
    assert services.withdraw_testimonial("prompt:1") is False
    # The author's consent is gone: no moderator can publish the words again.
    for action in ("approve", "pending"):
        with pytest.raises(RecognitionError, match="took these words back"):
            services.moderate(approved, action, moderator)
    db.session.rollback()
    assert services.approved_testimonials(org.id) == []
    # New words later are new, and wait for a moderator like any others.
    fresh = submit(org, key="prompt:1", body="Second thoughts, all good.")
    db.session.commit()
    assert fresh.id != approved.id and fresh.status == "pending"
    assert services.approved_testimonials(org.id) == []


def test_a_concurrent_submission_of_the_same_source_is_absorbed(org, monkeypatch):
    submit(org, body="First.", source="pair", key="pair:4:7")
    db.session.commit()
    # The other request inserted between our look-up and our insert: the unique
    # source_key refuses our row and we update theirs instead.
    real = services.testimonial_by_source
    calls = iter([None])
    monkeypatch.setattr(
        services, "testimonial_by_source", lambda key: next(calls, None) or real(key)
    )
    result = submit(org, body="Second.", source="pair", key="pair:4:7")
    db.session.commit()
    assert result.body == "Second."
    assert db.session.scalar(select(func.count()).select_from(models.Testimonial)) == 1


def test_unknown_source_is_refused(org):
    with pytest.raises(ValueError):
        submit(org, source="api")


def test_moderation_counts_and_order(org, make_user, make_event):
    moderator = make_user(org, role="organizer")
    event = make_event(org)
    approved = submit(org, "prompt:1", "Approved words", event_id=event.id)
    hidden = submit(org, "prompt:2", "Hidden words")
    pending = submit(org, "prompt:3", "Pending words")
    services.moderate(approved, "approve", moderator)
    services.moderate(hidden, "hide", moderator)
    db.session.commit()
    assert services.testimonial_counts(org) == {
        "pending": 1,
        "approved": 1,
        "hidden": 1,
    }
    listed = services.list_testimonials(org).items
    assert [t.id for t in listed] == [pending.id, approved.id, hidden.id]
    assert [t.id for t in services.list_testimonials(org, "hidden").items] == [
        hidden.id
    ]
    assert (approved.moderated_by_id, approved.moderated_at) == (
        moderator.id,
        clock.now(),
    )
    assert services.approved_testimonials(org.id) == [approved]
    assert services.approved_testimonials(org.id, event.id) == [approved]
    assert services.approved_testimonials(org.id, event.id + 1) == []
    services.moderate(hidden, "pending", moderator)  # un-hide
    assert hidden.status == "pending"
    with pytest.raises(ValueError):
        services.moderate(hidden, "delete", moderator)


def test_another_organizations_testimonial_is_not_found(org, make_org):
    mine = submit(org)
    other = make_org()
    assert services.get_testimonial(other, mine.id) is None
    assert services.get_testimonial(org, mine.id) == mine


# ---------------------------------------------------------------------------
# Awards


def test_draft_then_publish_notifies_once(month_data, outbox):
    org, ada, olga = month_data["org"], month_data["ada"], month_data["organizer"]
    award = services.save_draft(org, MARCH, ada.id, "", olga)
    db.session.commit()
    assert award.status == "draft"
    assert award.citation == (
        "For 2 mentoring check-ins in March 2026, and for the difference their "
        "mentees say it made."
    )
    assert award.score == 13
    # (Gus left the organization in the fixture: his pairs' "closed" notes only.)
    assert [m for m in outbox() if "Micro-Mentor" in m["Subject"]] == []
    published = services.publish(
        org, MARCH, olga, user_id=ada.id, citation=award.citation
    )
    db.session.commit()
    assert (published.status, published.confirmed_by_id) == ("published", olga.id)
    assert published.published_at == clock.now()
    # A double click, then an unpublish and the same person again: one e-mail.
    services.publish(org, MARCH, olga, user_id=ada.id, citation=award.citation)
    services.unpublish(org, MARCH, month_data["admin"])
    services.publish(org, MARCH, olga, user_id=ada.id, citation=award.citation)
    db.session.commit()
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
    award = services.save_draft(org, MARCH, ada.id, "Thank you, Ada.", olga)
    services.publish(org, MARCH, olga, user_id=ada.id, citation=award.citation)
    with pytest.raises(RecognitionError, match="already published") as exc:
        services.save_draft(org, MARCH, cy.id, "Cy instead", olga)
    assert exc.value.status == 409
    with pytest.raises(RecognitionError, match="already published"):
        services.publish(org, MARCH, olga, user_id=cy.id, citation="Cy instead")
    assert services.award_for(org, MARCH).user_id == ada.id


def test_publish_refuses_a_draft_changed_since_it_was_reviewed(month_data):
    org, olga = month_data["org"], month_data["organizer"]
    ada, cy = month_data["ada"], month_data["cy"]
    services.save_draft(org, MARCH, ada.id, "For Ada.", olga)
    services.save_draft(org, MARCH, cy.id, "For Cy.", olga)  # another organizer
    with pytest.raises(RecognitionError, match="changed since you reviewed"):
        services.publish(org, MARCH, olga, user_id=ada.id, citation="For Ada.")
    # Browsers send line breaks as CRLF: still the same citation.
    services.save_draft(org, MARCH, cy.id, "For Cy.\r\nThank you.", olga)
    award = services.publish(
        org, MARCH, olga, user_id=cy.id, citation="For Cy.\r\nThank you."
    )
    assert (award.status, award.citation) == ("published", "For Cy.\nThank you.")


def test_only_candidates_of_an_ended_month_can_be_drafted(month_data):
    org, olga = month_data["org"], month_data["organizer"]
    with pytest.raises(RecognitionError, match="ranked candidates"):
        services.save_draft(org, MARCH, month_data["bo"].id, "Bo", olga)
    with pytest.raises(RecognitionError, match="not over yet") as exc:
        services.save_draft(org, "2026-04", month_data["ada"].id, "Ada", olga)
    assert "from 1 May 2026" in str(exc.value)
    with pytest.raises(RecognitionError, match="under 400"):
        services.save_draft(org, MARCH, month_data["ada"].id, "x" * 401, olga)
    with pytest.raises(RecognitionError, match="no draft"):
        services.publish(org, "2026-02", olga, user_id=1, citation="x")
    assert db.session.scalar(select(func.count()).select_from(models.Award)) == 0


def test_draft_ready_reminder_goes_to_organizers_once_a_month(
    month_data, outbox, runner
):
    org, olga = month_data["org"], month_data["organizer"]
    ada = month_data["ada"]
    award = services.save_draft(org, MARCH, ada.id, "For Ada.", olga)
    services.publish(org, MARCH, olga, user_id=ada.id, citation=award.citation)
    db.session.commit()
    job = db.session.scalar(select(Job).where(Job.kind == services.DRAFT_JOB))
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
    assert f"{services.DRAFT_JOB}:{org.id}:2026-05" in keys


def test_no_reminder_for_a_month_without_candidates_or_already_published(
    month_data, outbox
):
    org = month_data["org"]
    assert services.send_draft_ready(org.id, "2025-01") == {"sent": 0}
    clock.freeze(clock.now().replace(day=1, month=4, hour=9))
    olga, ada = month_data["organizer"], month_data["ada"]
    award = services.save_draft(org, MARCH, ada.id, "For Ada.", olga)
    services.publish(org, MARCH, olga, user_id=ada.id, citation=award.citation)
    assert services.send_draft_ready(org.id, MARCH) == {"sent": 0}
    assert services.send_draft_ready(10_000, MARCH) == {"sent": 0}


def test_two_organizers_drafting_the_same_month_share_one_award(
    month_data, monkeypatch
):
    org, olga = month_data["org"], month_data["organizer"]
    services.save_draft(org, MARCH, month_data["ada"].id, "For Ada.", olga)
    db.session.commit()
    # The other organizer's row appeared after our look-up: the unique
    # (org, month) refuses a second award and ours becomes an update.
    real = services.award_for
    calls = iter([None])
    monkeypatch.setattr(
        services, "award_for", lambda o, m: next(calls, None) or real(o, m)
    )
    award = services.save_draft(org, MARCH, month_data["cy"].id, "For Cy.", olga)
    db.session.commit()
    assert (award.user_id, award.citation) == (month_data["cy"].id, "For Cy.")
    assert db.session.scalar(select(func.count()).select_from(models.Award)) == 1
