"""The recognition page of a big month: the same statements for 4 candidates or
70, the top first and the rest paged or searched, any candidate draftable, and
scores counted by the database that equal a count by hand."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mixer.accounts.models import User
from mixer.extensions import db
from mixer.orgs.models import Membership
from mixer.pairs.models import PairFeedback, PairMeeting
from mixer.recognition import awards
from mixer.recognition.scoring import ITEMS, rating_points, score_month
from tests.events.test_dashboard_queries import counting_queries as statements
from tests.recognition.conftest import MARCH, in_march
from tests.recognition.test_views import page, post

RECOGNITION = "/o/riverside/recognition"
BAR = 'class="score-bar"'


def _more_candidates(org, n: int, make_user, pairs) -> list[User]:
    """``n`` more mentors in March, with 1 to 5 check-ins each (and their mentees)."""
    mentors = []
    for i in range(n):
        mentor = make_user(
            org,
            name=f"Mentor {i:03d}",
            email=f"mentor{i:03d}@riverside.example.org",
            password=None,
        )
        mentee = make_user(org, name=f"Mentee {i:03d}", password=None)
        pair = pairs.pair(org, mentor, mentee, mentor=mentor)
        for day in range(i % 5 + 1):
            pairs.meeting(pair, in_march(day + 2))
        mentors.append(mentor)
    db.session.commit()
    return mentors


def _cost(client, url: str) -> tuple[int, str]:
    """Statements of one warm fetch of ``url``, and its page."""
    client.get(url)
    db.session.expire_all()
    with statements() as seen:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(seen), response.get_data(as_text=True)


def test_the_page_costs_the_same_for_few_or_many_candidates(
    client, auth, month_data, make_user, pairs
):
    auth.login(month_data["organizer"].email)
    urls = [
        RECOGNITION,
        f"{RECOGNITION}?month={MARCH}&page=2",
        f"{RECOGNITION}?month={MARCH}&q=mentor",
    ]
    few = {url: _cost(client, url)[0] for url in urls}
    _more_candidates(month_data["org"], 70, make_user, pairs)
    many = {url: _cost(client, url)[0] for url in urls}
    assert many == few
    # Published: the page names who confirmed it (one more read), at any size.
    auth.logout()
    auth.login(month_data["admin"].email)
    ada = month_data["ada"]
    awards.save_draft(month_data["org"], MARCH, ada.id, "For Ada.", ada)
    award = awards.award_for(month_data["org"], MARCH)
    awards.publish(
        month_data["org"], MARCH, ada, user_id=ada.id, citation=award.citation
    )
    db.session.commit()
    published, html = _cost(client, RECOGNITION)
    assert "Published" in html
    assert published <= few[RECOGNITION] + 2


def test_the_top_first_then_the_others_a_page_at_a_time(
    client, auth, month_data, make_user, pairs
):
    _more_candidates(month_data["org"], 70, make_user, pairs)
    ranked = score_month(month_data["org"], MARCH)
    assert len(ranked) == 74
    auth.login(month_data["organizer"].email)
    html = page(client, RECOGNITION)
    assert "74 people have points." in html
    # The top ten with their bars and lines, then fifty in one line each.
    assert html.count(BAR) == awards.TOP == 10
    assert html.count('name="user_id"') == awards.TOP + awards.MORE_PER_PAGE
    assert "The other 64 candidates" in html and "Page 1 of 2" in html
    first_page = [int(x) for x in re.findall(r'id="c-\d+" value="(\d+)"', html)]
    assert first_page == [c.user_id for c in ranked[:60]]
    assert f"Check-ins held as mentor: {ranked[0].count('mentor_checkins')} × 3" in html
    # Every candidate shown says what counted, the one-line ones too.
    assert ranked[59].explanation in html.replace("&#34;", '"')
    html2 = page(client, f"{RECOGNITION}?month={MARCH}&page=2")
    second = [int(x) for x in re.findall(r'id="c-\d+" value="(\d+)"', html2)]
    assert second == [c.user_id for c in ranked[:10] + ranked[60:]]
    assert "Page 2 of 2" in html2
    # Out of range pages show the last one; nothing breaks.
    assert "Page 2 of 2" in page(client, f"{RECOGNITION}?month={MARCH}&page=99")


def test_a_candidate_beyond_the_first_page_is_found_and_drafted(
    client, auth, month_data, make_user, pairs
):
    _more_candidates(month_data["org"], 70, make_user, pairs)
    ranked = score_month(month_data["org"], MARCH)
    last = ranked[-1]
    assert last.rank == 74
    auth.login(month_data["organizer"].email)
    assert f'value="{last.user_id}"' not in page(client, RECOGNITION)
    # Found by e-mail (any case), then by name.
    found = page(client, f"{RECOGNITION}?month={MARCH}&q=" + last.email.upper())
    assert f'id="c-{last.user_id}" value="{last.user_id}"' in found
    assert f"Found for “{last.email.upper()}”" in found
    assert found.count('name="user_id"') == awards.TOP + 1
    by_name = page(client, f"{RECOGNITION}?month={MARCH}&q={last.name}")
    assert f'value="{last.user_id}"' in by_name
    nobody = page(client, f"{RECOGNITION}?month={MARCH}&q=nobody-has-this")
    assert "has “nobody-has-this” in their name or e-mail" in nobody
    # Drafted from the search, without the page ever listing all 74.
    saved = post(
        client,
        f"{RECOGNITION}/{MARCH}/draft",
        {"user_id": last.user_id, "citation": "One check-in, and it mattered."},
        RECOGNITION,
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    award = awards.award_for(month_data["org"], MARCH)
    assert award.user_id == last.user_id and award.score == last.score
    # Back on the first page the draft's person is shown, chosen, over the top.
    html = page(client, RECOGNITION)
    assert f'id="c-{last.user_id}" value="{last.user_id}" checked' in html
    assert "In the draft" in html and "Review and publish" in html
    assert html.count(f'value="{last.user_id}"') == 2  # the radio, the publish form
    # A failed save keeps the choice on the page too (the citation is too long).
    refused = post(
        client,
        f"{RECOGNITION}/{MARCH}/draft",
        {"user_id": ranked[65].user_id, "citation": "x" * 500},
        RECOGNITION,
    )
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert f'id="c-{ranked[65].user_id}" value="{ranked[65].user_id}" checked' in text
    # Someone with no points this month is still refused, wherever they come from.
    wrong = post(
        client,
        f"{RECOGNITION}/{MARCH}/draft",
        {"user_id": month_data["bo"].id, "citation": "Bo"},
        RECOGNITION,
    )
    assert wrong.status_code == 422
    assert awards.award_for(month_data["org"], MARCH).user_id == last.user_id


# ---------------------------------------------------------------------------
# The database's counts against a count by hand


def _by_hand(org, month_start, month_end) -> list[tuple]:
    """The ranking as the first version computed it: every record read in Python."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    ratings: dict[int, list[int]] = defaultdict(list)

    def words(value) -> bool:
        return isinstance(value, str) and bool(value.strip())

    for meeting in db.session.scalars(select(PairMeeting)):
        pair = meeting.pair
        if pair.org_id != org.id or meeting.status != "met":
            continue
        if not (month_start <= meeting.reported_at < month_end):
            continue
        notes = meeting.notes or {}
        if pair.mentor_id is not None:
            counts[pair.mentor_id]["mentor_checkins"] += 1
            if words(notes.get(str(pair.mentee_id))):
                counts[pair.mentor_id]["mentee_notes"] += 1
        else:
            for person in (pair.a_id, pair.b_id):
                counts[person]["peer_checkins"] += 1
                if words(notes.get(str(pair.other(person)))):
                    counts[person]["peer_notes"] += 1
    for answer in db.session.scalars(select(PairFeedback)):
        pair = answer.pair
        if pair.org_id != org.id or pair.mentor_id is None:
            continue
        if answer.user_id != pair.mentee_id:
            continue
        if not (month_start <= answer.created_at < month_end):
            continue
        if answer.rating is not None:
            ratings[pair.mentor_id].append(answer.rating)
        if words(answer.helped):
            counts[pair.mentor_id]["mentee_helped"] += 1
    members = {
        m.user_id: m.user
        for m in db.session.scalars(
            select(Membership).where(Membership.org_id == org.id)
        )
        if m.user.is_active_account
    }
    rows = []
    for user_id, user in members.items():
        items = []
        for key, (_, each) in ITEMS.items():
            if each is None:
                stars = sorted(ratings.get(user_id, []), reverse=True)
                if stars:
                    items.append(
                        (key, len(stars), sum(rating_points(r) for r in stars))
                    )
            elif counts[user_id][key]:
                items.append((key, counts[user_id][key], counts[user_id][key] * each))
        score = sum(points for _, _, points in items)
        if score > 0:
            rows.append((user_id, user.name, score, items))
    rows.sort(
        key=lambda r: (
            -r[2],
            -{k: n for k, n, _ in r[3]}.get("mentor_checkins", 0),
            -sum(n for k, n, _ in r[3] if k in ("mentee_notes", "mentee_helped")),
            r[1].casefold(),
            r[0],
        )
    )
    return [(rank, *row) for rank, row in enumerate(rows, start=1)]


NOTES = [
    "The tip on feedback.",
    "  ",
    " \t\n ",
    "",
    5,  # not words: a number in the JSON
    None,
    "Short",
]


def test_scores_are_the_same_as_a_count_by_hand(
    app, frozen, make_org, make_user, pairs
):
    rng = random.Random(19)
    org = make_org(slug="seeded", name="Seeded")
    other = make_org(slug="other", name="Other")
    people = [make_user(org, name=f"P{i:02d}", password=None) for i in range(30)]
    strangers = [make_user(other, password=None) for _ in range(3)]
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    made = set()
    for _ in range(45):
        a, b = rng.sample(people, 2)
        if (min(a.id, b.id), max(a.id, b.id)) in made:
            continue
        made.add((min(a.id, b.id), max(a.id, b.id)))
        mentor = rng.choice((a, b, None))
        pair = pairs.pair(org, a, b, mentor=mentor)
        for _ in range(rng.randint(0, 6)):
            when = rng.choice(
                [
                    start,  # the first instant counts
                    end - timedelta(microseconds=1),
                    end,  # April: does not count
                    start - timedelta(seconds=1),
                    start + timedelta(minutes=rng.randint(0, 44000)),
                ]
            )
            writer = rng.choice((a, b, strangers[0]))
            note = rng.choice(NOTES)
            meeting = pairs.meeting(
                pair, when, status=rng.choice(("met", "met", "skipped", "moved"))
            )
            meeting.notes = {str(writer.id): note} if rng.random() < 0.7 else {}
        for person in (a, b):
            if rng.random() < 0.4:
                pairs.feedback(
                    pair,
                    person,
                    rng.choice((start + timedelta(days=3), end + timedelta(days=1))),
                    rating=rng.choice((None, 1, 2, 3, 4, 5)),
                    helped=rng.choice((None, "", "  ", "Her patience.")),
                )
    # Check-ins elsewhere, an inactive account and a former member.
    pair = pairs.pair(other, strangers[0], strangers[1], mentor=strangers[0])
    pairs.meeting(pair, start + timedelta(days=2), notes={strangers[1]: "Elsewhere"})
    people[0].is_active_account = False
    db.session.commit()
    from mixer.orgs.services import remove_member

    remove_member(people[1].membership_in(org))
    db.session.commit()

    got = [
        (
            c.rank,
            c.user_id,
            c.name,
            c.score,
            [(line.key, line.count, line.points) for line in c.lines],
        )
        for c in score_month(org, MARCH)
    ]
    expected = _by_hand(org, start, end)
    assert got == expected
    assert len(got) > 15  # the seed gave a real month
    keys = {key for *_, lines in got for key, _, _ in lines}
    # Every kind of line was compared; five-minute slots are counted by hand in
    # tests/slots (test_reminder_once_then_did_it_help_feeds_recognition).
    assert keys == set(ITEMS) - {"slots_helped"}
