"""Whole-number solutions of a protected table's published cells, kept to settle the integer check without a
programme per cell (docs/METHODS.md#the-published-cube, "Limits").

The linear programmes of the audit mostly end on whole-number vertices, and each integer programme that succeeds
gives one more whole-number solution. Any such solution that gives a narrow cell a value other than its true one
shows that a user with an integer programme cannot pin that cell either. Hiding a cell only removes an equation, so
a solution found in one round of protect() is still a solution in every later round; each one is checked against
the published cells of the moment before it settles anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from vrp.stats.disclosure import LinearTable

EPS = 1e-6
MAX_KEPT = 3000  # the most recent solutions; older ones mostly repeat what newer ones show


class Witnesses:
    """Whole-number solutions for one table with fixed floors (one protect() call). Each is a vector of base
    counts over the counts read off directly and one independent part of the system; NaN elsewhere. The other
    parts are independent of it, so the true counts complete it into a solution of the whole table."""

    def __init__(self, table: LinearTable):
        self.table = table
        self.kept: list[tuple[int, np.ndarray, np.ndarray]] = []  # (serial, vector, columns its programme solved)
        self._keys: set[bytes] = set()
        self._serial = 0
        self._checked: dict[int, bool] = {}  # serial -> whether it solves the table as now published
        self._checked_for: np.ndarray | None = None

    def add(self, known: np.ndarray, value: np.ndarray, cols: np.ndarray, x: np.ndarray) -> None:
        """A solution of one part's programme: ``x`` on base counts ``cols``, with ``value`` where ``known``."""
        whole = np.round(x)
        if np.abs(x - whole).max(initial=0) >= EPS:
            return  # a fractional vertex proves nothing in whole numbers
        full = np.full(self.table.cells.shape[1], np.nan)
        full[known] = np.round(value[known])
        full[cols] = whole
        key = full.tobytes()
        if key in self._keys:
            return
        self._keys.add(key)
        self._serial += 1
        self.kept.append((self._serial, full, np.asarray(cols)))
        if len(self.kept) > MAX_KEPT:
            self._keys.discard(self.kept.pop(0)[1].tobytes())

    def settle(self, cells: np.ndarray, unpublished: np.ndarray) -> np.ndarray:
        """For each of ``cells``: True when a kept solution, checked against the cells published now, gives it a
        whole value other than its true one (so it is not pinned in whole numbers)."""
        out = np.zeros(len(cells), dtype=bool)
        if not self.kept or not len(cells):
            return out
        if self._checked_for is None or not np.array_equal(self._checked_for, unpublished):
            self._checked, self._checked_for = {}, unpublished.copy()
        vectors = np.array([v for _, v, _ in self.kept])
        values = np.asarray(self.table.cells[cells] @ vectors.T)  # NaN where a vector stops short of the cell
        true = np.round(self.table.values[cells])
        with np.errstate(invalid="ignore"):
            other = np.abs(values - true[:, None]) > 0.5
        for i in range(len(cells)):
            out[i] = any(self._holds(j, unpublished) for j in np.flatnonzero(other[i]))
        return out

    def _holds(self, j: int, unpublished: np.ndarray) -> bool:
        serial, vector, solved = self.kept[j]
        if serial not in self._checked:
            self._checked[serial] = _solves(self.table, unpublished, vector, solved)
        return self._checked[serial]


def _solves(table: LinearTable, unpublished: np.ndarray, full: np.ndarray, solved: np.ndarray) -> bool:
    """Whether ``full`` solves the table with ``unpublished`` hidden: every published cell, link, floor and
    part-of-whole pair it covers holds exactly, and none of those reaches from its solved part past its end."""
    defined = ~np.isnan(full)
    x = np.where(defined, full, 0.0)
    if (x < 0).any():
        return False
    published = np.flatnonzero(~unpublished)
    checks = [(table.cells[published], table.values[published], table.values[published])]
    if table.links is not None and table.links.shape[0]:
        checks.append((table.links, np.zeros(table.links.shape[0]), np.zeros(table.links.shape[0])))
    if table.floors:
        rows = np.fromiter(table.floors, dtype=int)
        checks.append((table.cells[rows], np.array([table.floors[c] for c in rows]), np.full(len(rows), np.inf)))
    in_part = np.zeros(len(full), dtype=bool)
    in_part[solved] = True
    for matrix, lower, upper in checks:
        pattern = sp.csr_matrix(matrix, copy=True)
        pattern.data = np.ones_like(pattern.data)
        complete = pattern @ (~defined).astype(float) == 0
        if ((pattern @ in_part.astype(float) > 0) & ~complete).any():
            return False  # a relation of the solved part reaches a count the vector leaves open
        total = matrix @ x
        if (complete & ((total < lower - EPS) | (total > upper + EPS))).any():
            return False
    if table.subsets is not None and len(table.subsets):
        child, parent = table.subsets[:, 0], table.subsets[:, 1]
        both = defined[child] & defined[parent]
        if (in_part[child] | in_part[parent])[~both].any() or (x[child] > x[parent] + EPS)[both].any():
            return False
    return True
