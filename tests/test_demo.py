"""``mixer seed-demo``: the whole demo, lived through the real services, once."""

from __future__ import annotations

from sqlalchemy import func, select

from mixer.accounts.models import User
from mixer.extensions import db
from mixer.followup import answers
from mixer.followup.models import FollowupChoice, FollowupPrompt
from mixer.mail.models import OutboxMessage
from mixer.orgs.models import Membership
from mixer.pairs.models import Pair, PairMeeting
from mixer.recognition import models as recognition
from mixer.roster.models import RosterCheckin, RosterList
from mixer.slots.models import SlotBooking, SlotOffer


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_demo_shows_every_feature_and_runs_twice(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "member@riverside.example.org" in result.output

    sources = dict(
        db.session.execute(
            select(Pair.source, func.count()).group_by(Pair.source)
        ).all()
    )
    assert sources.get("event", 0) >= 5 and sources.get("request", 0) >= 1
    assert _count(PairMeeting, PairMeeting.status == "met") >= 10
    assert _count(PairMeeting, PairMeeting.status == "missed") >= 1
    assert (
        _count(recognition.Testimonial, recognition.Testimonial.status == "approved")
        >= 1
    )
    assert _count(recognition.Award, recognition.Award.status == "published") == 1
    # Five-minute slots: three hosts in the company, the school's teacher.
    assert _count(SlotOffer) == 4 and _count(SlotBooking) == 1

    # Mira's prompt waits for her, and someone she met already chose her back.
    mira = db.session.scalar(
        select(User).where(User.email == "member@riverside.example.org")
    )
    (prompt,) = db.session.scalars(
        select(FollowupPrompt).where(FollowupPrompt.user_id == mira.id)
    )
    assert prompt.answered_at is None
    mentor_reg_id = db.session.scalar(
        select(FollowupPrompt.registration_id)
        .join(FollowupChoice, FollowupChoice.prompt_id == FollowupPrompt.id)
        .where(
            FollowupChoice.other_id == prompt.registration_id,
            FollowupChoice.choice == "mentee",
        )
    )
    assert mentor_reg_id is not None

    # Members have reporting lines, places and languages to show (and plan with).
    managed = _count(Membership, Membership.manager_id.is_not(None))
    assert managed >= 30
    assert _count(Membership, Membership.location.is_not(None)) == _count(Membership)
    mira_m = db.session.scalar(select(Membership).where(Membership.user_id == mira.id))
    assert mira_m.manager is not None and "english" in mira_m.languages
    details = db.session.execute(
        select(Membership.id, Membership.manager_id, Membership.location).order_by(
            Membership.id
        )
    ).all()

    # The demo school's teacher has a daily list with check-ins lived.
    assert _count(RosterList) == 2 and _count(RosterCheckin) >= 10

    counts = (_count(Pair), _count(OutboxMessage), _count(PairMeeting))
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert (_count(Pair), _count(OutboxMessage), _count(PairMeeting)) == counts
    assert _count(RosterList) == 2 and _count(SlotOffer) == 4
    assert (
        db.session.execute(
            select(Membership.id, Membership.manager_id, Membership.location).order_by(
                Membership.id
            )
        ).all()
        == details
    )

    # The visitor answers: choosing that person as her mentor forms the pair.
    formed = answers.save_answers(
        prompt, answers.Answers(choices={mentor_reg_id: "mentor"}, rating=5)
    )
    db.session.commit()
    assert len(formed) == 1 and formed[0].mentee_id == mira.id
