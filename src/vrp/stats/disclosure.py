"""Protecting a whole table of counts with linear relations: secondary suppression, audited by linear programming.

A table here is a set of base counts ``x >= 0`` (the finest pieces: a district's month for one age group, an LSOA's
financial year) and cells, each a fixed linear combination of base counts (a month, a quarter, all of HIPS, all
ages, 25 and over). Some cells are published, some hidden; some are interior (never published, such as 25 and
over, which is "all ages" less "under 25"), yet an attacker can work them out, so they are protected too.

What a user can derive about a cell is the interval of its value over every ``x >= 0`` that reproduces all the
published cells (and the known structure: a measure that is a subset of another is no larger in any base cell).
Those intervals are linear programmes; this module solves them with HiGHS and hides further cells until no hidden
cell, and no small interior cell, is pinned to one whole number. docs/METHODS.md#the-published-cube says more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from vrp.stats.disclosure_audit import audit, integer_pinned
from vrp.stats.disclosure_witness import Witnesses

INTEGER_CHECK_WIDTH = 2  # intervals holding at most this many whole numbers more than one get an integer check


@dataclass
class LinearTable:
    cells: sp.csr_matrix  # cells x base counts: each row the coefficients of one cell
    values: np.ndarray  # each cell's true value (whole numbers)
    threshold: np.ndarray  # per cell: a value from 1 to threshold - 1 is a small count
    publishable: np.ndarray  # False for interior cells, never published
    relations: list[np.ndarray]  # each: cell indices [total, part, part, ...]; total = sum of parts
    links: sp.csr_matrix | None = None  # extra equalities between base counts (each row sums to 0)
    subsets: np.ndarray | None = None  # (k, 2) base-count pairs (child, parent): child <= parent
    floors: dict[int, float] | None = None  # cell -> a value it is known to reach (published parts of it add up to)

    def __post_init__(self) -> None:
        self.cells = sp.csr_matrix(self.cells)
        self.values = np.asarray(self.values, dtype=float)
        self.threshold = np.asarray(self.threshold, dtype=float)
        self.publishable = np.asarray(self.publishable, dtype=bool)

    @property
    def small(self) -> np.ndarray:
        return (self.values > 0) & (self.values < self.threshold)


@dataclass
class Protection:
    hidden: np.ndarray  # publishable cells that are not published
    primary: np.ndarray  # cells hidden (or protected, if interior) for being small themselves
    lower: np.ndarray  # the smallest whole value a user can derive, for every protected cell (NaN elsewhere)
    upper: np.ndarray
    pinned: np.ndarray  # indices of protected cells a user could still pin (empty unless the table cannot be protected)
    rounds: int = 0
    solves: int = 0
    stats: dict = field(default_factory=dict)


def protect(table: LinearTable, max_rounds: int = 60) -> Protection:
    """Primary suppression, then secondary suppression until the audit finds no pinned cell (or rounds run out).

    Hiding a cell only removes an equation a user has, so every interval can only widen: after the first audit
    each round checks just the cells still pinned and those newly hidden. Each cell keeps the interval of its last
    audit, which the later hiding can only have widened: the recorded intervals never overstate the protection.
    """
    primary = table.small.copy()
    unpublished = ~table.publishable | primary
    chooser = _Chooser(table, unpublished)
    lower, upper = np.full(len(table.values), np.nan), np.full(len(table.values), np.nan)
    solves, check, rounds, integer_checks = 0, None, 0, 0
    witnesses = Witnesses(table)  # whole-number solutions: hiding more keeps them solutions
    while True:
        rounds += 1
        before = unpublished.copy()
        chooser.close_relations(primary)
        protected = primary | (table.publishable & unpublished)
        todo = protected if check is None else protected & (check | (unpublished & ~before))
        low, high, n = audit(table, unpublished, todo, witnesses)
        lower[todo], upper[todo] = low[todo], high[todo]
        solves += n
        pinned = np.flatnonzero(todo & (high - low < 1))
        # The programmes are linear relaxations: where an interval holds only a few whole numbers, whole-number
        # solutions may still leave one. Check those with integer programmes.
        narrow = np.flatnonzero(todo & (high - low >= 1) & (high - low <= INTEGER_CHECK_WIDTH))
        if len(narrow):
            pinned = np.union1d(pinned, narrow[integer_pinned(table, unpublished, narrow, low, high, witnesses)])
            integer_checks += len(narrow)
        if not len(pinned) or rounds >= max_rounds:
            break
        before = unpublished.copy()
        if not chooser.hide_beside(pinned):
            break
        check = np.zeros(len(unpublished), dtype=bool)
        check[pinned] = True
        check |= unpublished & ~before
    hidden = table.publishable & unpublished
    return Protection(hidden, primary, lower, upper, pinned, rounds, solves, {"integer_checks": integer_checks})


# ---- secondary suppression ------------------------------------------------------------------------------------


class _Chooser:
    """Chooses the further cells to hide. Each hidden cell must itself be protected, so the best choice is a small
    cell whose other relations already have a hidden member: hiding it closes gaps without opening new ones."""

    def __init__(self, table: LinearTable, unpublished: np.ndarray):
        rows = np.repeat(np.arange(len(table.relations)), [len(r) for r in table.relations])
        cols = np.concatenate(table.relations) if table.relations else np.zeros(0, int)
        shape = (len(table.relations), len(table.values))
        self.member = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
        self.by_cell = self.member.tocsc()
        self.table, self.unpublished = table, unpublished  # shared with the caller, changed in place
        self.unknowns = self.member @ unpublished.astype(float)

    def hide(self, cell: int) -> None:
        self.unpublished[cell] = True
        self.unknowns[self.by_cell[:, cell].indices] += 1

    def pick(self, relation: int) -> int | None:
        """The cell to hide in a relation: the one opening fewest relations with nothing else hidden, then the
        smallest (the least lost), a part before the total."""
        members = self.table.relations[relation]
        candidates = [c for c in members if self.table.publishable[c] and not self.unpublished[c]]
        if not candidates:
            return None
        total = members[0]

        def cost(c: int):
            opened = int((self.unknowns[self.by_cell[:, c].indices] == 0).sum())
            return (opened, self.table.values[c], c == total, c)

        return min(candidates, key=cost)

    def close_relations(self, primary: np.ndarray) -> None:
        """No relation may have exactly one protected unknown: it would equal the total less the published parts.
        Hide a further member of each such relation, and repeat until none is left."""
        while True:
            protected = primary | (self.table.publishable & self.unpublished)
            guarded = self.member @ protected.astype(float)
            todo = np.flatnonzero((self.unknowns == 1) & (guarded == 1))
            changed = False
            for r in todo:
                if self.unknowns[r] != 1:  # an earlier fix this round already covered it
                    continue
                cell = self.pick(r)
                if cell is not None:
                    self.hide(cell)
                    changed = True
            if not changed:
                return

    def hide_beside(self, pinned: np.ndarray) -> bool:
        """For each pinned cell, hide one more cell in one of its relations, the one with the fewest unknowns; where
        every relation is hidden already (overlapping years pin it), the smallest published cell that overlaps it."""
        changed = False
        for cell in pinned:
            relations = sorted(self.by_cell[:, cell].indices, key=lambda r: self.unknowns[r])
            pick = next((p for p in map(self.pick, relations) if p is not None), None)
            if pick is None:
                pick = self._overlapping(cell)
            if pick is not None:
                self.hide(pick)
                changed = True
        return changed

    def _overlapping(self, cell: int) -> int | None:
        support = self.table.cells[cell].indices
        touching = self.table.cells[:, support].getnnz(axis=1) > 0
        candidates = np.flatnonzero(touching & self.table.publishable & ~self.unpublished)
        if not len(candidates):
            return None
        return int(candidates[np.argmin(self.table.values[candidates])])
