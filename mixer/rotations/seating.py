"""Seat rounds one at a time: an optimal assignment per round, then a small repair.

Each round puts one "anchor" per table in the rows of a cost matrix and everyone who
may sit beside them in the columns; SciPy's ``linear_sum_assignment`` (a
Jonker-Volgenant solver, O(n^3) worst case but fast on these matrices) picks the
cheapest pairs. When tables hold three, a second assignment adds the third person to
the pairs. Pairs that met before cost ``FORBIDDEN``; if the optimum still uses one (the
random split made a repeat-free round impossible), a swap search tries to mend it and
otherwise the round is tried again with another split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.optimize import linear_sum_assignment

from mixer.rotations.room import Forbidden, Room

GROUPS = "groups"  # uneven numbers: tables of three absorb the extra people
BYES = "byes"  # uneven numbers: the extra people sit out, in turn
ATTEMPTS = 6  # fresh splits tried before a round counts as impossible
BLOCK = 256  # most anchors in one assignment in big rooms; see _blocks
WHOLE = 512  # rooms with up to this many anchors are solved in one assignment
BIG_ROOM = 1_500  # anchors beyond which blocks are of BLOCK, else of WHOLE


@dataclass(frozen=True)
class Seating:
    """One planned round, by room index: tables and who sits out."""

    tables: tuple[tuple[int, ...], ...]
    byes: tuple[int, ...]


class Layout:
    """How a round is laid out: how many sit out, who may, how tables are anchored."""

    def __init__(self, room: Room, group_size: int, policy: str) -> None:
        self.room = room
        self.group_size = group_size
        self.policy = policy
        n = room.n
        if room.mentor_mode:
            mentors = np.flatnonzero(room.mentor_side)
            mentees = np.flatnonzero(~room.mentor_side)
            if len(mentors) >= len(mentees):
                self.long, self.short = mentors, mentees
            else:
                self.long, self.short = mentees, mentors
            a, b = len(self.long), len(self.short)
            if group_size == 2:
                self.byes = a - b if policy == BYES else max(0, a - 2 * b)
            else:
                self.byes = 0 if b >= math.ceil(n / 3) else a - 2 * b
            self.pool = self.long
        else:
            self.long = self.short = np.arange(0)
            self.pool = np.arange(n)
            self.byes = n % 2 if group_size == 2 and policy == BYES else 0

    def choose_byes(self, sat_out: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Who sits out: those who sat out least so far, ties broken by the seed."""
        if not self.byes:
            return np.arange(0)
        pool = self.pool
        order = np.lexsort((rng.random(len(pool)), sat_out[pool]))
        return np.sort(pool[order[: self.byes]])

    def split(
        self, seated: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Anchors (one per table), candidates for the second seat, the rest."""
        room = self.room
        people = np.flatnonzero(seated)
        m = len(people)
        if not room.mentor_mode:
            people = rng.permutation(people)
            tables = m // 2 if self.group_size == 2 else math.ceil(m / 3)
            return people[:tables], people[tables:], np.arange(0)
        short = rng.permutation(np.intersect1d(self.short, people))
        long = np.intersect1d(self.long, people)
        tables = math.ceil(m / 3)
        if self.group_size == 3 and len(short) >= tables:
            return short[:tables], long, short[tables:]
        return short, long, np.arange(0)


def seat_round(
    layout: Layout,
    met: np.ndarray,
    sat_out: np.ndarray,
    rng: np.random.Generator,
) -> Seating | None:
    """The cheapest repeat-free round this split allows, or None if it found none."""
    room = layout.room
    byes = layout.choose_byes(sat_out, rng)
    seated = np.ones(room.n, dtype=bool)
    seated[byes] = False
    anchors, seconds, rest = layout.split(seated, rng)
    seconds = rng.permutation(seconds)
    firsts: list[np.ndarray] = []
    partners: list[np.ndarray] = []
    spare: list[np.ndarray] = [rest]
    for a_part, s_part in _blocks(anchors, seconds):
        rows, cols = linear_sum_assignment(room.cost(a_part, s_part, met, rng))
        firsts.append(a_part[rows])
        partners.append(s_part[cols])
        spare.append(np.setdiff1d(s_part, s_part[cols]))
    first, partner = np.concatenate(firsts), np.concatenate(partners)
    tables = [[int(a), int(b)] for a, b in zip(first, partner, strict=True)]
    thirds = rng.permutation(np.concatenate(spare).astype(np.int64))
    if len(thirds):
        order = rng.permutation(len(tables))
        for t_part, p_part in _blocks(order, thirds, fill=True):
            cost = room.cost(p_part, first[t_part], met, rng)
            cost += room.cost(p_part, partner[t_part], met)
            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows, cols, strict=True):
                tables[t_part[j]].append(int(p_part[i]))
    bye_list = [int(b) for b in byes]
    if not _repair(tables, bye_list, layout, room.bad(met), sat_out, rng):
        return None
    return Seating(
        tables=tuple(tuple(sorted(t)) for t in tables), byes=tuple(sorted(bye_list))
    )


def _blocks(
    anchors: np.ndarray, others: np.ndarray, fill: bool = False
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cut one big assignment into independent ones of at most BLOCK anchors.

    The assignment solver's time grows faster than the square of its size (a
    500 x 500 matrix takes over ten times as long as 250 x 250), while random blocks
    of a few hundred people already hold every department and most interests, so
    large rooms are seated block by block. Each block gets at least as many
    ``others`` as anchors (``fill``: at most as many, for the third seats).
    Rooms of up to ``BIG_ROOM`` anchors use blocks of ``WHOLE`` (one block up to
    1,000 people): at 1,000 people that raises the interest match by 4-7% for
    0.1 s more.
    """
    size = WHOLE if len(anchors) <= BIG_ROOM else BLOCK
    parts = max(1, math.ceil(len(anchors) / size))
    if parts == 1:
        return [(anchors, others)]
    a_parts = np.array_split(anchors, parts)
    if fill:  # spread the others over the blocks; none gets more than its anchors
        sizes = [len(p) * len(others) // len(anchors) for p in a_parts]
        for i in range(len(others) - sum(sizes)):
            sizes[i % parts] += 1
    else:
        sizes = [len(p) for p in a_parts]
        for i in range(len(others) - len(anchors)):
            sizes[i % parts] += 1
    cuts = np.cumsum(sizes)[:-1]
    return list(zip(a_parts, np.split(others, cuts), strict=True))


def _clashes(table: list[int], bad: Forbidden | np.ndarray) -> bool:
    return any(bad[u, v] for u, v in combinations(table, 2))


def _repair(
    tables: list[list[int]],
    byes: list[int],
    layout: Layout,
    bad: Forbidden | np.ndarray,
    sat_out: np.ndarray,
    rng: np.random.Generator,
) -> bool:
    """Swap people between tables (or with someone sitting out) until no repeat."""
    broken = [i for i, t in enumerate(tables) if _clashes(t, bad)]
    if not broken:
        return True
    room = layout.room
    where = np.full(room.n, -1, dtype=np.int64)  # table index, or -1 sitting out
    for i, table in enumerate(tables):
        where[table] = i
    in_pool = np.zeros(room.n, dtype=bool)
    in_pool[layout.pool] = True
    # Swaps stay within a side, so every table keeps its mix of mentors and mentees.
    side = room.mentor_side.astype(np.int8)
    for ti in broken:
        swaps = 0
        while _clashes(tables[ti], bad):  # a table of three may need two swaps
            swaps += 1
            if swaps > 3:
                return False
            if not _mend(ti, tables, byes, side, where, in_pool, bad, sat_out, rng):
                return False
    return True


def _mend(
    ti: int,
    tables: list[list[int]],
    byes: list[int],
    side: np.ndarray,
    where: np.ndarray,
    in_pool: np.ndarray,
    bad: Forbidden | np.ndarray,
    sat_out: np.ndarray,
    rng: np.random.Generator,
) -> bool:
    """Fix table ``ti`` by swapping one of its people for someone elsewhere."""
    table = tables[ti]
    culprits = sorted(table, key=lambda u: -int(bad[u, table].sum()))
    for u in culprits:
        if not bad[u, table].any():
            continue
        others = [w for w in table if w != u]
        fits = np.logical_not(bad[:, others].any(axis=1))
        fits[table] = False
        fits &= side == side[u]
        for v in rng.permutation(np.flatnonzero(fits)):
            tj = int(where[v])
            if tj < 0:
                if not in_pool[u] or sat_out[u] != sat_out[v]:
                    continue  # keep the fair order of who sits out
                byes[byes.index(int(v))] = u
                where[u], where[v] = -1, ti
                table[table.index(u)] = int(v)
                return True
            rest = [w for w in tables[tj] if w != v]
            if bad[u, rest].any():
                continue
            table[table.index(u)] = int(v)
            tables[tj][tables[tj].index(int(v))] = u
            where[u], where[v] = tj, ti
            return True
    return False


def greedy_rounds(
    layout: Layout,
    rounds: int,
    *,
    seed: int,
    first_round: int,
    sat_out: np.ndarray,
    variant: int = 0,
) -> list[Seating]:
    """Seat up to ``rounds`` rounds; fewer when a round cannot be seated.

    ``variant`` draws other random splits from the same seed (0: the usual ones).
    """
    room = layout.room
    met = room.met.copy()
    sat = sat_out.copy()
    policy = 0 if layout.policy == GROUPS else 1
    planned: list[Seating] = []
    for number in range(first_round, first_round + rounds):
        for attempt in range(ATTEMPTS):
            key = [seed, number, attempt, policy] + ([variant] if variant else [])
            rng = np.random.default_rng(key)
            seating = seat_round(layout, met, sat, rng)
            if seating is not None:
                break
        else:
            return planned
        for table in seating.tables:
            for u, v in combinations(table, 2):
                met[u, v] = met[v, u] = True
        sat[list(seating.byes)] += 1
        planned.append(seating)
    return planned
