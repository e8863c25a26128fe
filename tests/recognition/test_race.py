"""Races on real threads, each request with its own app context, session and
database connection.

Two organizers at the same instant: one publishes the draft she reviewed while
another saves a different draft. Whatever the order, the award published is the
one its publisher saw, and only that person is e-mailed. And two requests that
create the same row at once (a testimonial of one source, the award of one
month) end with one row holding the later words.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from mixer.accounts.models import User
from mixer.extensions import db
from mixer.orgs.models import Organization
from mixer.recognition import RecognitionError, awards, models, testimonials
from mixer.recognition.models import Award
from tests.recognition.conftest import MARCH

ROUNDS = 4


def _organizer(app, barrier, org_id, user_id, write) -> str:
    """Read the month's draft, wait for the other organizer, then ``write``."""
    with app.app_context():
        try:
            org = db.session.get(Organization, org_id)
            by = db.session.get(User, user_id)
            draft = awards.award_for(org, MARCH)
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
        awards.save_draft(org, MARCH, ada.id, "For Ada.", olga)
        db.session.commit()

        def publish(o, by):
            """Olga publishes Ada, as she reviewed her."""
            awards.publish(o, MARCH, by, user_id=ids["ada"], citation="For Ada.")

        def redraft(o, by):
            """Adam, at the same moment, makes Cy the draft."""
            awards.save_draft(o, MARCH, ids["cy"], "For Cy.", by)

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
        award = awards.award_for(org, MARCH)
        if results[0] == "ok":  # Olga published what she saw; Adam was refused
            outcomes.add("published")
            assert (award.status, award.user_id, award.citation) == (
                "published",
                ada.id,
                "For Ada.",
            )
            awards.unpublish(org, MARCH, adam)
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


# ---------------------------------------------------------------------------
# Two requests creating the same row: the unique key decides, the other updates.


def _race(app, first, second) -> list[BaseException]:
    """Run ``first`` (which writes, then holds its transaction open for a moment)
    and ``second`` (which starts once ``first`` has written, so it finds nothing
    committed and inserts too) in their own threads, sessions and connections."""
    written = threading.Event()
    errors: list[BaseException] = []

    def run(work, wait: bool) -> None:
        if wait:
            written.wait(10)
        with app.app_context():
            try:
                work()
                if not wait:
                    written.set()
                    threading.Event().wait(0.5)  # the second one tries meanwhile
                db.session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                written.set()
                db.session.remove()

    threads = [
        threading.Thread(target=run, args=(first, False)),
        threading.Thread(target=run, args=(second, True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def _spy_on_insert_once(monkeypatch, module) -> list:
    """Record what each ``insert_once`` of ``module`` returned (it still runs)."""
    returned: list = []
    real = module.insert_once

    def spy(*args, **kwargs):
        """The real insert_once, its answer noted."""
        result = real(*args, **kwargs)
        returned.append(result)
        return result

    monkeypatch.setattr(module, "insert_once", spy)
    return returned


def test_a_concurrent_submission_of_the_same_source_is_absorbed(
    app, make_org, monkeypatch
):
    org_id = make_org(slug="acme").id
    returned = _spy_on_insert_once(monkeypatch, testimonials)
    seen: list = []

    def submit(body: str):
        """One request giving words from the same source ("pair:4:7")."""
        return lambda: seen.append(
            testimonials.submit_testimonial(
                org_id,
                body=body,
                author_name="Bo Chen",
                source="pair",
                source_key="pair:4:7",
            ).id
        )

    assert _race(app, submit("First."), submit("Second.")) == []
    # Both inserted; the unique source_key let one row in and the other request
    # updated that row with its words.
    assert len(returned) == 2 and returned.count(None) == 1
    db.session.expire_all()
    [row] = db.session.scalars(select(models.Testimonial)).all()
    assert seen == [row.id, row.id]
    assert (row.body, row.status) == ("Second.", "pending")


def test_two_organizers_drafting_the_same_month_share_one_award(
    app, month_data, monkeypatch
):
    ids = {k: month_data[k].id for k in ("org", "organizer", "admin", "ada", "cy")}
    returned = _spy_on_insert_once(monkeypatch, awards)

    def draft(by: str, who: str, citation: str):
        """One organizer saves a draft of March."""

        def work() -> None:
            org = db.session.get(Organization, ids["org"])
            user = db.session.get(User, ids[by])
            awards.save_draft(org, MARCH, ids[who], citation, user)

        return work

    errors = _race(
        app, draft("organizer", "ada", "For Ada."), draft("admin", "cy", "For Cy.")
    )
    assert errors == []
    # Both started the month; the unique (org, month) kept one award, and the
    # second organizer's draft became an update of it.
    assert len(returned) == 2 and returned.count(None) == 1
    db.session.expire_all()
    [award] = db.session.scalars(select(Award)).all()
    assert (award.user_id, award.citation, award.status) == (
        ids["cy"],
        "For Cy.",
        "draft",
    )
