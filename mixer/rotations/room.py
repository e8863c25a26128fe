"""The room as arrays: who may meet whom, and what each meeting would cost.

Everything the planner's algorithms need is here, indexed 0..n-1 (not by id), so
that a whole round's cost matrix is a handful of NumPy operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from mixer.rotations.planner import Participant, Ties

# Soft costs, in the order of importance: a meeting inside one department
# costs more than any interest match can win back, and interests weigh more than
# levels. Seeded noise below 1 only breaks ties, so seeds give different plans.
FORBIDDEN = 1e9
# People who know each other already: far above every other soft cost, so a plan
# seats them together only where nothing else is possible; an open pair before a
# meeting at an earlier event.
OPEN_PAIR = 2e6
MET_EARLIER = 1e6
NO_SHARED_LANGUAGE = 20_000.0  # both said which languages they speak; none shared
SAME_DEPARTMENT = 10_000.0
LOCATION = 1_000.0  # against the organizer's location preference
PER_SHARED_INTEREST = 100.0
INTEREST_CAP = 8  # a pair's matches beyond this earn nothing more
PER_LEVEL_OFF_BAND = 10.0
LEVEL_CAP = 5
NOISE = 1.0
# The "useful band" of level distance: a mentor 1 to 3 levels above the mentee (or
# min_level_gap to min_level_gap + 2 in school mode); peers within 2 levels.
MENTOR_BAND_WIDTH = 2
PEER_BAND = 2


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


class Room:
    """Present people as arrays, plus who may never meet and who has met."""

    def __init__(
        self,
        people: Sequence[Participant],
        *,
        mentor_side: dict[int, bool] | None,
        min_level_gap: int | None,
        met_pairs: Iterable[tuple[int, int]],
        ties: Ties | None = None,
        location_preference: str = "any",
    ) -> None:
        self.people = tuple(people)
        self.n = n = len(self.people)
        self.ids = [p.id for p in self.people]
        self.index = {pid: i for i, pid in enumerate(self.ids)}
        departments: dict[str, int] = {}
        self.dept = np.array(
            [
                departments.setdefault(key, len(departments)) if key else -1
                for key in (_norm(p.department) for p in self.people)
            ],
            dtype=np.int64,
        )
        tags: dict[str, int] = {}
        offers = [
            {tags.setdefault(t, len(tags)) for t in map(_norm, p.offers) if t}
            for p in self.people
        ]
        seeks = [
            {tags.setdefault(t, len(tags)) for t in map(_norm, p.seeks) if t}
            for p in self.people
        ]
        # Tags as bit sets, 64 to a word: a popcount per pair is cheap and, unlike a
        # matrix product, never wakes up a multi-threaded BLAS.
        words = max(1, (len(tags) + 63) // 64)
        self.offers = np.zeros((n, words), dtype=np.uint64)
        self.seeks = np.zeros_like(self.offers)
        for i, (have, want) in enumerate(zip(offers, seeks, strict=True)):
            for bits, chosen in ((self.offers, have), (self.seeks, want)):
                for t in chosen:
                    bits[i, t // 64] |= np.uint64(1 << (t % 64))
        self.has_tags = bool(tags)
        self.level = np.array(
            [np.nan if p.level is None else float(p.level) for p in self.people]
        )
        self.has_levels = bool(np.isfinite(self.level).sum() >= 2)
        spoken: dict[str, int] = {}
        known = [
            {spoken.setdefault(x, len(spoken)) for x in map(_norm, p.languages) if x}
            for p in self.people
        ]
        self.languages = np.zeros((n, max(1, (len(spoken) + 63) // 64)), np.uint64)
        for i, chosen in enumerate(known):
            for t in chosen:
                self.languages[i, t // 64] |= np.uint64(1 << (t % 64))
        self.speaks = np.array([bool(k) for k in known], dtype=bool)
        self.has_languages = int(self.speaks.sum()) >= 2
        places: dict[str, int] = {}
        self.location = np.array(
            [
                places.setdefault(key, len(places)) if key else -1
                for key in (_norm(p.location) for p in self.people)
            ],
            dtype=np.int64,
        )
        self.location_preference = location_preference if len(places) else "any"
        self.mentor_mode = mentor_side is not None
        self.mentor_side = np.array(
            [bool(mentor_side and mentor_side[pid]) for pid in self.ids], dtype=bool
        )
        self.min_level_gap = min_level_gap
        self.band_low = 1 if min_level_gap is None else min_level_gap
        # School mode's level gap, checked pair by pair when asked (never as a
        # people x people matrix: at 10,000 people that alone was 1.6 GB).
        self.gap_blocks = self.mentor_mode and min_level_gap is not None
        self.reporting_keys = np.zeros(0, dtype=np.int64)
        self.met = np.zeros((n, n), dtype=bool)
        for ia, ib in self._present(met_pairs):
            self.met[ia, ib] = self.met[ib, ia] = True
        self._tie(ties)

    def _present(self, pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """Pairs of ids as (low, high) room indexes, for people in the room."""
        out = []
        for a, b in pairs:
            ia, ib = self.index.get(a), self.index.get(b)
            if ia is not None and ib is not None and ia != ib:
                out.append((min(ia, ib), max(ia, ib)))
        return out

    def _tie(self, ties: Ties | None) -> None:
        """Reporting lines as blocked pairs; acquaintances as a sparse cost."""
        reporting = self._present(ties.reporting) if ties else []
        if reporting:
            u, v = np.array(reporting, dtype=np.int64).T
            keys = np.concatenate([u * self.n + v, v * self.n + u])
            self.reporting_keys = np.unique(keys)
        weights: dict[tuple[int, int], float] = {}
        if ties:
            for pair in self._present(ties.earlier):
                weights[pair] = MET_EARLIER
            for pair in self._present(ties.open_pairs):
                weights[pair] = OPEN_PAIR
        self.tie_pairs = sorted(weights)
        self.ties: sparse.csr_matrix | None = None
        if weights:
            u, v = np.array(self.tie_pairs, dtype=np.int64).T
            w = np.array([weights[p] for p in self.tie_pairs])
            self.ties = sparse.csr_matrix(
                (
                    np.concatenate([w, w]),
                    (np.concatenate([u, v]), np.concatenate([v, u])),
                ),
                shape=(self.n, self.n),
            )

    def tie_cost(self, u: int, v: int) -> float:
        """What seating u with v costs for knowing each other already (0 if not)."""
        return 0.0 if self.ties is None else float(self.ties[u, v])

    @property
    def has_blocks(self) -> bool:
        """Whether any pair is blocked by the rules (level gap, reporting line)."""
        return self.gap_blocks or len(self.reporting_keys) > 0

    def blocked(self, u: Any, v: Any) -> np.ndarray:
        """Whether the rules forbid u and v at one table: school mode's level gap
        or a reporting line. ``u`` and ``v`` are indexes or arrays that broadcast
        (``u`` may be ``:`` for everyone, as rows against ``v``'s columns)."""
        if isinstance(u, slice):
            uu, vv = np.arange(self.n)[u][:, None], np.asarray(v)[None, :]
        else:
            uu, vv = np.asarray(u), np.asarray(v)
        out = np.zeros(np.broadcast_shapes(uu.shape, vv.shape), dtype=bool)
        if self.gap_blocks:
            lv, mentor = self.level, self.mentor_side
            above = lv[uu] - lv[vv]  # u's level minus v's
            oriented = np.where(mentor[uu], above, -above)
            with np.errstate(invalid="ignore"):
                too_close = ~(oriented >= self.min_level_gap)
            out |= (mentor[uu] != mentor[vv]) & too_close
        if len(self.reporting_keys):
            out |= np.isin(uu * self.n + vv, self.reporting_keys)
        return out

    def bad(self, met: np.ndarray) -> Forbidden | np.ndarray:
        """Every pair that may not meet now: met before, or blocked by the rules
        (``met`` itself where nothing is blocked)."""
        if not self.has_blocks:
            return met
        return Forbidden(self, met)

    def cost(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        met: np.ndarray,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """The cost of seating each row person with each column person."""
        cost = self.soft_cost(rows, cols)
        bad = met[np.ix_(rows, cols)] | (rows[:, None] == cols[None, :])
        if self.has_blocks:
            bad |= self.blocked(rows[:, None], cols[None, :])
        cost[bad] = FORBIDDEN
        if rng is not None:
            cost += rng.random(cost.shape) * NOISE
        return cost

    def soft_cost(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Acquaintance, language, department, location, interest and level terms
        for each (row, column) pair."""
        dr, dc = self.dept[rows][:, None], self.dept[cols][None, :]
        cost = SAME_DEPARTMENT * ((dr == dc) & (dr >= 0))
        if self.ties is not None:
            cost += self.ties[rows][:, cols].toarray()
        if self.has_languages:
            cost += NO_SHARED_LANGUAGE * self._no_shared_language(rows, cols)
        if self.location_preference != "any":
            lr, lc = self.location[rows][:, None], self.location[cols][None, :]
            known = (lr >= 0) & (lc >= 0)
            against = (lr != lc) if self.location_preference == "same" else (lr == lc)
            cost += LOCATION * (known & against)
        if self.has_tags:
            matches = self.interest(rows, cols)
            cost -= PER_SHARED_INTEREST * np.minimum(matches, INTEREST_CAP)
        if self.has_levels:
            cost += PER_LEVEL_OFF_BAND * self._level_penalty(rows, cols)
        return cost

    def interest(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Tags one can help with that the other would like help with, both ways."""
        o, s = self.offers, self.seeks
        total = np.zeros((len(rows), len(cols)), dtype=np.int64)
        for w in range(o.shape[1]):
            total += np.bitwise_count(o[rows, w][:, None] & s[cols, w][None, :])
            total += np.bitwise_count(s[rows, w][:, None] & o[cols, w][None, :])
        return total

    def _no_shared_language(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Both said which languages they speak, and they share none."""
        shared = np.zeros((len(rows), len(cols)), dtype=bool)
        for w in range(self.languages.shape[1]):
            shared |= (
                self.languages[rows, w][:, None] & self.languages[cols, w][None, :]
            ) != 0
        both = self.speaks[rows][:, None] & self.speaks[cols][None, :]
        return both & ~shared

    def _level_penalty(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        diff = self.level[rows][:, None] - self.level[cols][None, :]
        same = np.maximum(np.abs(diff) - PEER_BAND, 0.0)
        if self.mentor_mode:
            mr = self.mentor_side[rows][:, None]
            mc = self.mentor_side[cols][None, :]
            gap = np.where(mr, diff, -diff)  # the mentor's level minus the mentee's
            low, high = self.band_low, self.band_low + MENTOR_BAND_WIDTH
            off = np.maximum(low - gap, 0.0) + np.maximum(gap - high, 0.0)
            same = np.where(mr != mc, off, same)
        return np.nan_to_num(np.minimum(same, LEVEL_CAP), nan=0.0)


class Forbidden:
    """``met | blocked`` without building it: pairs who met in this mixer (the
    caller's matrix, which a copy owns and grows) or whom the rules keep apart,
    indexed like the boolean matrix it stands for (``f[u, v]``, ``f[u, list]``,
    ``f[:, list]``, ``f[array, array]``)."""

    def __init__(self, room: Room, met: np.ndarray) -> None:
        self.room = room
        self.met = met

    def __getitem__(self, key: tuple[Any, Any]) -> Any:
        u, v = key
        return self.met[u, v] | self.room.blocked(u, v)

    def __setitem__(self, key: tuple[Any, Any], value: bool) -> None:
        self.met[key] = value

    def copy(self) -> Forbidden:
        """The same rules over a copy of ``met``."""
        return Forbidden(self.room, self.met.copy())
