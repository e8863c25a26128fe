"""Scoring the Micro-Mentor of the Month on a clear fixture (see conftest)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mixer.extensions import db
from mixer.recognition.scoring import (
    candidate_for,
    month_label,
    next_month,
    parse_month,
    previous_month,
    rating_points,
    score_month,
)
from tests.recognition.conftest import MARCH, in_march


def ranking(org, month=MARCH):
    return [(c.name, c.score) for c in score_month(org, month)]


def test_the_month_ranks_mentors_by_what_counted(month_data):
    assert ranking(month_data["org"]) == [
        ("Ada Lovelace", 13),
        ("Cy Young", 9),
        ("Eve Martin", 5),
        ("Finn Berg", 4),
    ]


def test_each_candidate_explains_every_point(month_data):
    ada, cy, eve, finn = score_month(month_data["org"], MARCH)
    assert [(line.key, line.count, line.points) for line in ada.lines] == [
        ("mentor_checkins", 2, 6),
        ("mentee_notes", 1, 2),
        ("mentee_ratings", 1, 3),
        ("mentee_helped", 1, 2),
    ]
    assert sum(line.points for line in ada.lines) == ada.score
    assert "Check-ins held as mentor: 2 × 3 = 6 points" in ada.explanation
    assert '"What helped" notes from mentees: 1 × 2 = 2 points' in ada.explanation
    assert "Mentees' end-of-term ratings: 1 (5★) = 3 points" in ada.explanation
    assert ada.explanation.endswith("Total: 13 points.")
    # Dee's 2★ is shown but earns nothing; Cy's own feedback is not there at all.
    assert cy.line("mentee_ratings").detail == "2★"
    assert cy.line("mentee_ratings").points == 0
    assert cy.line("mentee_helped") is None
    assert [(line.key, line.count) for line in eve.lines] == [
        ("peer_checkins", 4),
        ("peer_notes", 1),
    ]
    assert finn.line("peer_notes") is None  # Eve wrote nothing about Finn
    assert [c.rank for c in (ada, cy, eve, finn)] == [1, 2, 3, 4]
    assert ada.breakdown[0] == {
        "key": "mentor_checkins",
        "what": "Check-ins held as mentor",
        "count": 2,
        "points": 6,
        "each": 3,
        "detail": "",
    }


def test_other_organizations_and_former_members_do_not_count(month_data):
    # Ada's five check-ins with notes in the other organization count there only.
    assert ranking(month_data["other"]) == [("Ada Lovelace", 5 * 3 + 5 * 2)]
    names = [name for name, _ in ranking(month_data["org"])]
    assert "Gus Hale" not in names  # left the organization
    assert "Stan Stranger" not in names


def test_other_months_do_not_count(month_data):
    org = month_data["org"]
    # 28 Feb 23:59 and 1 Apr 00:00 UTC fall just outside March.
    assert ranking(org, "2026-02") == [("Ada Lovelace", 3)]
    assert ranking(org, "2026-04") == [("Ada Lovelace", 3)]
    assert ranking(org, "2025-03") == []


def test_mentees_get_no_points_for_being_mentored(month_data):
    assert candidate_for(month_data["org"], MARCH, month_data["bo"].id) is None
    assert candidate_for(month_data["org"], MARCH, month_data["ada"].id).score == 13


def test_inactive_accounts_are_not_candidates(month_data):
    month_data["ada"].is_active_account = False
    db.session.commit()
    assert ranking(month_data["org"])[0] == ("Cy Young", 9)


def test_ties_are_broken_deterministically(app, frozen, make_org, make_user, pairs):
    org = make_org()
    zed, amy, kim, m1, m2, m3 = (
        make_user(org, name=n) for n in ("Zed", "amy", "Kim", "M1", "M2", "M3")
    )
    # Zed: 2 held + 1 note = 8; amy: 2 held + 1 note = 8; Kim: 1 held + 5★ rating
    # with a "helped" answer = 3 + 3 + 2 = 8. Zed and amy held more check-ins than
    # Kim; between them the name decides, ignoring case.
    for mentor, mentee in ((zed, m1), (amy, m2)):
        pair = pairs.pair(org, mentor, mentee, mentor=mentor)
        pairs.meeting(pair, in_march(2), notes={mentee: "helpful"})
        pairs.meeting(pair, in_march(9))
    pair = pairs.pair(org, kim, m3, mentor=kim)
    pairs.meeting(pair, in_march(2))
    pairs.feedback(pair, m3, in_march(3), rating=5, helped="everything")
    db.session.commit()
    assert ranking(org) == [("amy", 8), ("Zed", 8), ("Kim", 8)]
    assert ranking(org) == ranking(org)


def test_blank_notes_do_not_count(app, frozen, make_org, make_user, pairs):
    org = make_org()
    mentor, mentee = make_user(org, name="Mo"), make_user(org, name="Mi")
    pair = pairs.pair(org, mentor, mentee, mentor=mentor)
    pairs.meeting(pair, in_march(2), notes={mentee: "   "})
    pairs.feedback(pair, mentee, in_march(3), rating=None, helped="")
    db.session.commit()
    (only,) = score_month(org, MARCH)
    assert [line.key for line in only.lines] == ["mentor_checkins"]


def test_months_are_parsed_strictly():
    assert parse_month("2026-12") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    for bad in ("2026-13", "2026-3", "26-03", "2026-03-01", "", "1999-12"):
        with pytest.raises(ValueError, match="A month looks like 2026-03."):
            parse_month(bad)
    assert previous_month("2026-01") == "2025-12"
    assert next_month("2026-12") == "2027-01"
    assert month_label("2026-03") == "March 2026"
    assert [rating_points(r) for r in (1, 2, 3, 4, 5)] == [0, 0, 1, 2, 3]
