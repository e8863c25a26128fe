"""Testimonials through their services (the views only call these)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from mixer import clock
from mixer.extensions import db
from mixer.recognition import RecognitionError, models, testimonials
from mixer.recognition.testimonials import submit_testimonial
from tests.audit import audited

# Every test here runs with the clock stopped (set up before the organization).
pytestmark = pytest.mark.usefixtures("frozen")


def submit(org, key="prompt:1", body="Mixer changed my week.", **kw):
    kw.setdefault("author_name", "Bo Chen")
    return submit_testimonial(org.id, body=body, source_key=key, **kw)


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
    testimonials.moderate(testimonial, "approve", moderator)
    db.session.commit()
    # The same words again (a re-save of the form) leave the approval alone,
    # also when the browser sends its line breaks as CRLF.
    assert submit(org, body="Original.").status == "approved"
    para = submit(org, key="prompt:2", body="One.\r\n\r\nTwo.\r\n")
    assert para.body == "One.\n\nTwo."  # paragraphs the pages can split
    testimonials.moderate(para, "approve", moderator)
    assert submit(org, key="prompt:2", body="One.\r\n\r\nTwo.").status == "approved"
    # Changed words are neither dropped nor published unread: back to pending,
    # and off the public pages until an organizer reads them.
    again = submit(org, body="Edited after approval.")
    db.session.commit()
    assert again.id == testimonial.id
    assert (again.status, again.body) == ("pending", "Edited after approval.")
    assert (again.moderated_by_id, again.moderated_at) == (None, None)
    assert testimonials.approved_testimonials(org.id) == [para]
    # What a moderator hid stays hidden, words and all.
    testimonials.moderate(again, "hide", moderator)
    db.session.commit()
    hidden = submit(org, body="Please show it now.")
    assert (hidden.status, hidden.body) == ("hidden", "Edited after approval.")
    # The audit trail names the author, never the words.
    trail = audited("testimonial.")
    assert [(e.action, e.actor_id, e.subject_id) for e in trail] == [
        ("testimonial.approved", moderator.id, testimonial.id),
        ("testimonial.approved", moderator.id, para.id),
        ("testimonial.hidden", moderator.id, testimonial.id),
    ]
    assert trail[2].summary == "Hid Bo Chen's words"
    assert trail[2].details == {"changes": {"status": ["pending", "hidden"]}}
    assert "Edited" not in str([(e.summary, e.details) for e in trail])


def test_words_changed_after_the_moderator_read_them_are_not_approved(org, make_user):
    moderator = make_user(org, role="organizer")
    shown = submit(org, body="Kind words.")
    db.session.commit()
    seen = testimonials.words_key(shown)  # what the moderation page carried
    submit(org, body="Something else entirely.")  # the author edits meanwhile
    db.session.commit()
    with pytest.raises(RecognitionError, match="changed these words") as exc:
        testimonials.moderate(shown, "approve", moderator, seen=seen)
    assert exc.value.status == 409
    db.session.rollback()
    db.session.refresh(shown)
    assert (shown.status, shown.moderated_by_id) == ("pending", None)
    # Read again, the new words can be approved; hiding needs no reading.
    testimonials.moderate(
        shown, "approve", moderator, seen=testimonials.words_key(shown)
    )
    assert shown.status == "approved" and shown.body == "Something else entirely."
    testimonials.moderate(shown, "hide", moderator, seen="stale")
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
        testimonials.moderate(gone, "approve", moderator)


def test_taking_words_back_frees_their_source_for_new_words(org, make_user):
    moderator = make_user(org, role="organizer")
    pending = submit(org, key="prompt:1", body="Draft words.")
    db.session.commit()
    assert testimonials.withdraw_testimonial("prompt:1") is True
    assert db.session.get(models.Testimonial, pending.id) is None  # never seen
    approved = submit(org, key="prompt:1", body="Public words.")
    testimonials.moderate(approved, "approve", moderator)
    db.session.commit()
    assert testimonials.withdraw_testimonial("prompt:1") is True
    db.session.commit()
    # Hidden, with the moderator's record, and no longer the source's words.
    assert (approved.status, approved.moderated_by_id) == ("hidden", moderator.id)
    assert approved.source_key == f"withdrawn:{approved.id}"
    assert testimonials.testimonial_by_source("prompt:1") is None
    assert testimonials.withdraw_testimonial("prompt:1") is False
    # The author's consent is gone: no moderator can publish the words again.
    for action in ("approve", "pending"):
        with pytest.raises(RecognitionError, match="took these words back"):
            testimonials.moderate(approved, action, moderator)
    db.session.rollback()
    assert testimonials.approved_testimonials(org.id) == []
    # New words later are new, and wait for a moderator like any others.
    fresh = submit(org, key="prompt:1", body="Second thoughts, all good.")
    db.session.commit()
    assert fresh.id != approved.id and fresh.status == "pending"
    assert testimonials.approved_testimonials(org.id) == []


def test_unknown_source_is_refused(org):
    with pytest.raises(ValueError, match="unknown testimonial source 'api'"):
        submit(org, source="api")


def test_moderation_counts_and_order(org, make_user, make_event):
    moderator = make_user(org, role="organizer")
    event = make_event(org)
    approved = submit(org, "prompt:1", "Approved words", event_id=event.id)
    hidden = submit(org, "prompt:2", "Hidden words")
    pending = submit(org, "prompt:3", "Pending words")
    testimonials.moderate(approved, "approve", moderator)
    testimonials.moderate(hidden, "hide", moderator)
    db.session.commit()
    assert testimonials.testimonial_counts(org) == {
        "pending": 1,
        "approved": 1,
        "hidden": 1,
    }
    listed = testimonials.list_testimonials(org).items
    assert [t.id for t in listed] == [pending.id, approved.id, hidden.id]
    assert [t.id for t in testimonials.list_testimonials(org, "hidden").items] == [
        hidden.id
    ]
    assert (approved.moderated_by_id, approved.moderated_at) == (
        moderator.id,
        clock.now(),
    )
    assert testimonials.approved_testimonials(org.id) == [approved]
    assert testimonials.approved_testimonials(org.id, event.id) == [approved]
    assert testimonials.approved_testimonials(org.id, event.id + 1) == []
    testimonials.moderate(hidden, "pending", moderator)  # un-hide
    assert hidden.status == "pending"
    with pytest.raises(ValueError, match="unknown moderation action 'delete'"):
        testimonials.moderate(hidden, "delete", moderator)


def test_another_organizations_testimonial_is_not_found(org, make_org):
    mine = submit(org)
    other = make_org()
    assert testimonials.get_testimonial(other, mine.id) is None
    assert testimonials.get_testimonial(org, mine.id) == mine
