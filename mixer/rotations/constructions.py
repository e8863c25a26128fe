"""Constructions that are repeat-free by arithmetic, and placing people into them.

A construction seats *positions*, not people: the circle method for pairs, a cyclic
Latin rectangle for mentors and mentees with evenly spread byes, and the modular
design for tables of three. Their rounds never repeat a pair of positions, so the
planner can fall back on them whenever the round-by-round optimizer runs out of
room. Which person takes which position is then chosen by a swap search that keeps
the order of byes fair and lowers the soft cost (departments, interests, levels) and
any pair that may not meet (history, level gap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from mixer.rotations.room import Room
from mixer.rotations.seating import Seating

Positions = tuple[list[tuple[int, ...]], list[int]]  # tables, byes

SEARCH_LIMIT = 1000  # people; larger rooms keep the first placement
REPAIR_LIMIT = 120  # people; larger rooms with pairs that may not meet get no design
TRIALS = 30_000  # most swaps tried per placement


@dataclass(frozen=True)
class Design:
    """A repeat-free schedule of positions, with each position's side."""

    kind: str
    side: np.ndarray  # bool per position: True for the mentor side
    limit: int  # rounds it can run without a repeat
    rows: tuple[tuple[int, ...], ...] = ()  # modular design only
    long: int = 0  # Latin design only
    short: int = 0

    @property
    def size(self) -> int:
        """How many positions it seats."""
        return len(self.side)

    def rounds(self, count: int) -> list[Positions]:
        """The first ``count`` rounds (count <= limit)."""
        build = {"circle": _circle, "latin": _latin, "modular": _modular}[self.kind]
        return [build(self, r) for r in range(count)]


def circle(n: int) -> Design:
    """Pairs by the circle method: n-1 rounds (n even) or n with one bye (n odd)."""
    return Design("circle", np.zeros(n, dtype=bool), limit=n - 1 if n % 2 == 0 else n)


def _circle(design: Design, r: int) -> Positions:
    n = design.size
    m = n + n % 2  # an odd room gets a phantom; its partner sits out
    spin = m - 1
    pairs = [(m - 1, r % spin)] + [
        ((r + i) % spin, (r - i) % spin) for i in range(1, m // 2)
    ]
    tables: list[tuple[int, ...]] = []
    byes: list[int] = []
    for u, v in pairs:
        if u == n or v == n:
            byes.append(v if u == n else u)
        else:
            tables.append((u, v))
    return tables, byes


def latin(long: int, short: int, long_is_mentor: bool) -> Design:
    """Long side x short side by a cyclic Latin rectangle: ``long`` rounds.

    Long-side person i meets column (i + r) mod long in round r. The columns that
    are not a short-side person are byes, spread evenly (a balanced word), so in
    every stretch of rounds each long-side person sits out as often as any other,
    give or take one.
    """
    side = np.array([long_is_mentor] * long + [not long_is_mentor] * short)
    return Design("latin", side, limit=long, long=long, short=short)


def _latin(design: Design, r: int) -> Positions:
    a, s = design.long, design.long - design.short
    idle = {(j * a) // s for j in range(s)} if s else set()
    column: dict[int, int] = {}
    for c in range(a):
        if c not in idle:
            column[c] = a + len(column)
    tables: list[tuple[int, ...]] = []
    byes: list[int] = []
    for i in range(a):
        c = (i + r) % a
        if c in idle:
            byes.append(i)
        else:
            tables.append((i, column[c]))
    return tables, byes


def modular(row_sides: list[list[bool]], tables: int) -> Design:
    """Tables of three: the person in row i, column c sits at (c + i*r) mod g.

    Rows 0 and 1 are full (g people each); row 2 holds the rest, so tables are of
    three, or two where row 2 is short. Two people of rows i != j meet again only
    if (i - j) * (r - r') = 0 mod g, which the limit rules out.
    """
    g = tables
    sides: list[bool] = []
    rows: list[tuple[int, ...]] = []
    for row in row_sides:
        rows.append(tuple(range(len(sides), len(sides) + len(row))))
        sides.extend(row)
    used = [i for i, row in enumerate(rows) if row]
    diffs = {abs(i - j) for i, j in combinations(used, 2)}
    limit = 1
    while limit < g and all((d * limit) % g for d in diffs):
        limit += 1
    return Design("modular", np.array(sides, dtype=bool), limit, rows=tuple(rows))


def _modular(design: Design, r: int) -> Positions:
    g = len(design.rows[0])
    seats: list[list[int]] = [[] for _ in range(g)]
    for i, row in enumerate(design.rows):
        for c, position in enumerate(row):
            seats[(c + i * r) % g].append(position)
    return [tuple(t) for t in seats], []


def modular_tables(n: int) -> int:
    """Tables for a room of ``n`` in groups of three (two where numbers are short)."""
    return math.ceil(n / 3)


def place(
    design: Design,
    count: int,
    room: Room,
    sat_out: np.ndarray,
    seed: int,
    restarts: int = 3,
) -> list[Seating] | None:
    """Put people into the design's positions; None if a forbidden pair remains."""
    n = design.size
    if n > REPAIR_LIMIT and (room.has_blocks or room.met.any()):
        # Placing a big room around history or level gaps rarely succeeds and
        # costs seconds; the round-by-round optimizer is the one that copes there.
        return None
    schedule = design.rounds(count)
    first_bye = np.full(n, count, dtype=np.int64)
    for r, (_, byes) in enumerate(reversed(schedule)):
        first_bye[byes] = count - 1 - r
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for tables, _ in schedule:
        for table in tables:
            for u, v in combinations(table, 2):
                neighbours[u].append(v)
                neighbours[v].append(u)
    links = [np.array(x, dtype=np.int64) for x in neighbours]
    weights = None
    if n <= SEARCH_LIMIT:
        weights = room.cost(np.arange(n), np.arange(n), room.met)
        np.fill_diagonal(weights, 0.0)
    for attempt in range(restarts):
        rng = np.random.default_rng([seed, count, attempt, 7])
        holder = _first_placement(design, room, sat_out, first_bye, rng)
        if holder is None:
            return None
        if weights is not None:
            has_byes = bool((first_bye < count).any())
            _improve(holder, links, weights, room, sat_out, has_byes, rng)
        seatings = _seatings(schedule, holder)
        bad = room.bad(room.met)
        if not any(
            bad[u, v] for s in seatings for t in s.tables for u, v in combinations(t, 2)
        ):
            return seatings
    return None


def _first_placement(
    design: Design,
    room: Room,
    sat_out: np.ndarray,
    first_bye: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray | None:
    """Position -> person; who sat out least gets the earliest byes."""
    holder = np.empty(design.size, dtype=np.int64)
    people_side = room.mentor_side
    for flag in (True, False):
        positions = np.flatnonzero(design.side == flag)
        people = np.flatnonzero(people_side == flag)
        if len(positions) != len(people):
            return None
        positions = positions[
            np.lexsort((rng.random(len(positions)), first_bye[positions]))
        ]
        people = people[np.lexsort((rng.random(len(people)), sat_out[people]))]
        holder[positions] = people
    return holder


def _improve(
    holder: np.ndarray,
    links: list[np.ndarray],
    weights: np.ndarray,
    room: Room,
    sat_out: np.ndarray,
    has_byes: bool,
    rng: np.random.Generator,
) -> None:
    """Swap people of one side and one bye count while the total cost drops."""
    n = len(holder)
    kind = room.mentor_side.astype(np.int64)
    if has_byes:  # keep who-sits-out-first: swap only people with equal counts
        kind = kind * (int(sat_out.max(initial=0)) + 1) + sat_out
    group_of = kind[holder]  # fixed per position: swaps stay inside a group
    groups = {g: np.flatnonzero(group_of == g) for g in np.unique(group_of)}
    adjacent = np.zeros((n, n), dtype=bool)
    for x, near in enumerate(links):
        adjacent[x, near] = True
    patience = max(300, 10 * n)
    calm = 0
    trials = 0
    budget = min(TRIALS, max(2_000, 40 * n * int(math.log2(n + 1))))
    while calm < patience and trials < budget:
        trials += 1
        x = int(rng.integers(n))
        pool = groups[group_of[x]]
        if len(pool) < 2:
            calm += 1
            continue
        y = int(pool[rng.integers(len(pool))])
        if x == y:
            continue
        px, py = holder[x], holder[y]
        near_x, near_y = holder[links[x]], holder[links[y]]
        delta = (
            weights[py, near_x].sum()
            - weights[px, near_x].sum()
            + weights[px, near_y].sum()
            - weights[py, near_y].sum()
        )
        if adjacent[x, y]:
            delta += 2 * weights[px, py]
        if delta < -1e-6:
            holder[x], holder[y] = py, px
            calm = 0 if delta < -1.0 else calm + 1
        else:
            calm += 1


def _seatings(schedule: list[Positions], holder: np.ndarray) -> list[Seating]:
    return [
        Seating(
            tables=tuple(tuple(sorted(int(holder[p]) for p in t)) for t in tables),
            byes=tuple(sorted(int(holder[p]) for p in byes)),
        )
        for tables, byes in schedule
    ]
