"""A ``Dashboard`` built by hand, with hidden counts (1..4) placed where a leak
would show, for the chart and page tests that need no database figures."""

from __future__ import annotations

from datetime import date

from mixer.insights.figures import (
    Count,
    Dashboard,
    EventFigures,
    EventMonth,
    Funnel,
    FunnelMonth,
    MentorLoad,
    PeopleFigures,
    Quote,
    SiloMap,
    Stage,
    TopicGap,
    Topics,
)

STAGES = [
    ("registered", "Registered", 120),
    ("checked_in", "Checked in", 96),
    ("prompted", "Prompted", 90),
    ("answered", "Answered", 61),
    ("chose", "Chose someone", 40),
    ("paired", "Paired", 22),
    ("active_30", "Active at 30 days", 17),
    ("active_60", "Active at 60 days", 9),
    ("active_90", "Active at 90 days", 3),  # hidden: "fewer than 5"
]
MONTHS = ["2025-11", "2025-12", "2026-01", "2026-02"]
DEPARTMENTS = [
    "Engineering",
    "Sales",
    "People and Culture Operations Europe",  # long: truncated in the picture
    "No department",
]
# Symmetric; 3 (Sales × Engineering) and 2 (within People…) are hidden.
CELLS = [
    [40, 3, 12, 0],
    [3, 8, 0, 5],
    [12, 0, 2, 7],
    [0, 5, 7, 0],
]


def hand_built() -> Dashboard:
    """Every section filled in, with hidden counts in each picture."""
    stages = [
        Stage(key, label, Count(n), f"The definition of {label.lower()}.")
        for key, label, n in STAGES
    ]
    funnel = Funnel(
        stages=stages,
        months=[
            FunnelMonth(
                month,
                {
                    key: Count(max(n // 4 - 7 * i, 0) if n > 10 else 2)
                    for key, _, n in STAGES
                },
            )
            for i, month in enumerate(MONTHS)
        ],
        active={
            30: (Count(17), Count(22)),
            60: (Count(9), Count(14)),
            90: (Count(3), Count(8)),
        },
    )
    silos = SiloMap(
        departments=DEPARTMENTS,
        cells=[[Count(n) for n in row] for row in CELLS],
        total=Count(77),
        across=Count(27),
        never_meet=[
            ("Engineering", "No department"),
            ("Sales", "People and Culture Operations Europe"),
        ],
    )
    topics = Topics(
        suggested=[
            TopicGap("Negotiation", Count(14), Count(2)),
            TopicGap("Public speaking", Count(9), Count(0)),
            TopicGap("Kubernetes", Count(4), Count(1)),
        ],
        unasked=[TopicGap("Knitting", Count(0), Count(6))],
    )
    events = EventFigures(
        held=7,
        registered=Count(120),
        attended=Count(96),
        ratings=Count(33),
        rating=4.36,
        months=[
            EventMonth("2025-11", 2, Count(40), Count(30), 4.5),
            EventMonth("2025-12", 1, Count(3), Count(2), None),
            EventMonth("2026-01", 0, Count(0), Count(0), None),
            EventMonth("2026-02", 4, Count(77), Count(64), 4.2),
        ],
        testimonials=[
            Quote(
                "Bo Chen",
                "Ten minutes changed my week.",
                "Winter Mixer",
                date(2026, 2, 3),
            ),
        ],
    )
    people = PeopleFigures(
        top_mentors=[MentorLoad("Ada Lovelace", "Engineering", 3, 3)],
        at_capacity=[MentorLoad("Ada Lovelace", "Engineering", 3, 3)],
        departments_without_mentor=["Sales"],
    )
    return Dashboard(funnel, silos, topics, events, people)
