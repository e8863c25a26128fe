"""Two organizers at the same instant: one publishes the draft she reviewed while
another saves a different draft. Whatever the order, the award published is the
one its publisher saw, and only that person is e-mailed.

Each organizer works in her own thread (own app context, session and database
connection); both read the draft first, then write together at a barrier.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from mixer.accounts.models import User
from mixer.extensions import db
from mixer.orgs.models import Organization
from mixer.recognition import services
from mixer.recognition.services import RecognitionError
from tests.recognition.conftest import MARCH

ROUNDS = 4


def _organizer(app, barrier, org_id, user_id, write) -> str:
    """Read the month's draft, wait for the other organizer, then ``write``."""
    with app.app_context():
        try:
            org = db.session.get(Organization, org_id)
            by = db.session.get(User, user_id)
            draft = services.award_for(org, MARCH)
            assert draft is not None and draft.status == "draft"
            barrier.wait(timeout=30)
            write(org, by)
            db.session.commit()
            return "ok"
        except RecognitionError as exc:
            db.session.rollback()
            return str(exc.status)
        finally:
            db.session.remove()


def test_publishing_while_another_organizer_saves_a_draft(app, month_data, outbox):
    org, ada, cy = month_data["org"], month_data["ada"], month_data["cy"]
    olga, adam = month_data["organizer"], month_data["admin"]
    ids = {"org": org.id, "ada": ada.id, "cy": cy.id}
    people = (olga.id, adam.id)
    outcomes = set()
    for _ in range(ROUNDS):
        services.save_draft(org, MARCH, ada.id, "For Ada.", olga)
        db.session.commit()

        def publish(o, by):
            """Olga publishes Ada, as she reviewed her."""
            services.publish(o, MARCH, by, user_id=ids["ada"], citation="For Ada.")

        def redraft(o, by):
            """Adam, at the same moment, makes Cy the draft."""
            services.save_draft(o, MARCH, ids["cy"], "For Cy.", by)

        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            results = list(
                pool.map(
                    lambda who, write, barrier=barrier: _organizer(
                        app, barrier, ids["org"], who, write
                    ),
                    people,
                    (publish, redraft),
                )
            )
        assert sorted(results) == ["409", "ok"], results
        db.session.expire_all()
        award = services.award_for(org, MARCH)
        if results[0] == "ok":  # Olga published what she saw; Adam was refused
            outcomes.add("published")
            assert (award.status, award.user_id, award.citation) == (
                "published",
                ada.id,
                "For Ada.",
            )
            services.unpublish(org, MARCH, adam)
        else:  # Adam's draft came first; Olga is told it changed
            outcomes.add("redrafted")
            assert (award.status, award.user_id, award.citation) == (
                "draft",
                cy.id,
                "For Cy.",
            )
        db.session.commit()
    # Whoever won, nobody but Ada (whom Olga confirmed) was ever e-mailed.
    assert outbox(cy.email) == []
    assert len(outbox(ada.email)) == (1 if "published" in outcomes else 0)
