"""The audit of a protected table (docs/METHODS.md#the-published-cube): for each protected cell, the interval a user
can derive from every published cell at once, by linear programming over the base counts still unknown, and the
check in whole numbers for intervals holding only a few of them. The programmes themselves are in
stats/disclosure_highs.py; the secondary suppression that calls this is stats/disclosure.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from vrp.stats.disclosure_highs import PartSolver
from vrp.stats.disclosure_witness import EPS, Witnesses

if TYPE_CHECKING:
    from vrp.stats.disclosure import LinearTable


def _fix_known(published: sp.csr_matrix, rhs: np.ndarray, n_vars: int):
    """Base counts a user can read off directly: every part of a published zero is zero (counts are never
    negative), and a published cell with one unknown base count gives it. Repeated until nothing more follows
    (the linear programme deals with anything subtler)."""
    known = np.zeros(n_vars, dtype=bool)
    value = np.zeros(n_vars)
    positive = np.asarray((published < 0).sum(axis=1)).ravel() == 0
    pattern = published.copy()
    pattern.data = np.ones_like(pattern.data)
    while True:
        unknown = pattern @ (~known).astype(float)
        rest = rhs - published @ (value * known)
        zeros = np.flatnonzero((unknown > 0) & positive & (np.abs(rest) < EPS))
        newly = np.zeros(n_vars, dtype=bool)
        if len(zeros):
            newly[pattern[zeros].indices] = True
            newly &= ~known
        rows = np.flatnonzero(unknown == 1)
        sub = published[rows].multiply((~known & ~newly).astype(float)[None, :]).tocsr()
        sub.eliminate_zeros()  # multiply keeps masked entries as explicit zeros
        for i, row in enumerate(rows):
            start, end = sub.indptr[i], sub.indptr[i + 1]
            cols, coefs = sub.indices[start:end], sub.data[start:end]
            if len(cols) == 1 and coefs[0] != 0 and not newly[cols[0]]:
                newly[cols[0]] = True
                value[cols[0]] = rest[row] / coefs[0]
        if not newly.any():
            return known, value
        known |= newly


def audit(table: LinearTable, unpublished: np.ndarray, protected: np.ndarray, witnesses: Witnesses | None = None):
    """The whole-number interval a user can derive for each protected cell, from every published cell at once.
    Returns (lower, upper, number of linear programmes solved); NaN for cells not protected. Whole-number
    solutions met on the way go to ``witnesses``, for the integer check."""
    n_vars = table.cells.shape[1]
    published_rows = np.flatnonzero(~unpublished)
    published = table.cells[published_rows]
    rhs = table.values[published_rows]
    known, value = _fix_known(published, rhs, n_vars)
    free = np.flatnonzero(~known)
    lower = np.full(len(table.values), np.nan)
    upper = np.full(len(table.values), np.nan)
    targets = np.flatnonzero(protected)
    offsets = table.cells[targets] @ (value * known)
    if not len(free):
        lower[targets] = upper[targets] = offsets
        return _whole(lower, False), _whole(upper, True), 0
    system = _Reduced(table, published, rhs, known, value, free)
    keep = None if witnesses is None else (lambda cols, x: witnesses.add(known, value, free[cols], x))
    lo, hi, solves = system.bounds(table.cells[targets][:, free], keep)
    lower[targets], upper[targets] = offsets + lo, offsets + hi
    return _whole(lower, False), _whole(upper, True), solves


def _whole(bounds: np.ndarray, up: bool) -> np.ndarray:
    """LP bounds to whole numbers: counts are whole, so [0.4, 1.6] leaves only 1."""
    with np.errstate(invalid="ignore"):
        return np.floor(bounds + EPS) if up else np.ceil(bounds - EPS)


def integer_pinned(
    table: LinearTable,
    unpublished: np.ndarray,
    cells: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    witnesses: Witnesses | None = None,
) -> np.ndarray:
    """For each of ``cells`` (protected, with a linear interval [low, high] of more than one whole number): True
    when no whole-number solution of the published cells gives it any value in that interval but its true one,
    so a user with an integer programme could pin it. Each cell's programme holds every part it touches.

    Whole-number solutions found before (``witnesses``: by the audit's programmes, or for an earlier cell) settle a
    cell first; each programme's own whole-number solution is kept for the cells after it."""
    n_vars = table.cells.shape[1]
    published_rows = np.flatnonzero(~unpublished)
    published, rhs = table.cells[published_rows], table.values[published_rows]
    known, value = _fix_known(published, rhs, n_vars)
    free = np.flatnonzero(~known)
    out = np.zeros(len(cells), dtype=bool)
    if not len(free):
        return out
    witnesses = Witnesses(table) if witnesses is None else witnesses
    settled = witnesses.settle(cells, unpublished)
    system = _Reduced(table, published, rhs, known, value, free)
    objectives = table.cells[cells][:, free].tocsr()
    offsets = table.cells[cells] @ (value * known)
    solvers: dict[tuple, tuple] = {}
    for i, cell in enumerate(cells):
        if settled[i] or witnesses.settle(cells[i : i + 1], unpublished)[0]:
            continue  # a whole-number solution already gives it another value: not pinned
        row = objectives[i]
        parts = tuple(np.unique(system.component[row.indices]))
        if parts not in solvers:
            cols = np.flatnonzero(np.isin(system.component, parts))
            solvers[parts] = (cols, PartSolver(system, cols), None)
        cols, linear, whole = solvers[parts]
        local = np.searchsorted(cols, row.indices)
        true = round(table.values[cell])

        def keep(x, cols=cols):
            witnesses.add(known, value, free[cols], x)

        if _whole_vertex_elsewhere(linear, local, row.data, offsets[i], true, keep):
            continue
        if whole is None:
            whole = PartSolver(system, cols, integer=True)
            solvers[parts] = (cols, linear, whole)
        others = [v for v in range(int(low[cell]), int(high[cell]) + 1) if v != true]
        out[i] = not any(whole.reaches(local, row.data, v - offsets[i], keep) for v in others)
    return out


def _whole_vertex_elsewhere(linear, cols: np.ndarray, coefs: np.ndarray, offset: float, true: int, keep) -> bool:
    """The cheap test first: these tables' vertices are mostly whole numbers, so the linear maximum or minimum is
    often itself a whole-number solution with a value other than the true one."""
    for maximise in (True, False):
        best = linear.optimum(cols, coefs, maximise)
        if not np.isfinite(best):
            continue
        x = linear.solution()
        keep(x)
        if np.abs(x - np.round(x)).max(initial=0) < EPS and round(offset + best) != true:
            return True
    return False


class _Reduced:
    """The published cells and links restricted to the base counts still unknown, split into independent parts."""

    def __init__(self, table, published, rhs, known, value, free):
        index = np.full(len(known), -1)
        index[free] = np.arange(len(free))
        rows = [published[:, free]]
        rhs_parts = [rhs - published @ (value * known)]
        if table.links is not None and table.links.shape[0]:
            rows.append(table.links[:, free])
            rhs_parts.append(-(table.links @ (value * known)))
        upper_parts = list(rhs_parts)
        if table.floors:  # at least: sum >= value, no upper limit
            cells = np.fromiter(table.floors, dtype=int)
            rows.append(table.cells[cells][:, free])
            floor = np.array([table.floors[c] for c in cells]) - table.cells[cells] @ (value * known)
            rhs_parts.append(floor)
            upper_parts.append(np.full(len(cells), np.inf))
        matrix = sp.vstack(rows).tocsr()
        lower, upper = np.concatenate(rhs_parts), np.concatenate(upper_parts)
        keep = np.diff(matrix.indptr) > 0
        self.matrix, self.row_lower, self.row_upper = matrix[keep], lower[keep], upper[keep]
        self.col_lower = np.zeros(len(free))
        self.col_upper = np.full(len(free), np.inf)
        pairs = []
        for child, parent in table.subsets if table.subsets is not None else []:
            c, p = index[child], index[parent]
            if c >= 0 and p >= 0:
                pairs.append((c, p))
            elif c >= 0:
                self.col_upper[c] = min(self.col_upper[c], value[parent])
            elif p >= 0:
                self.col_lower[p] = max(self.col_lower[p], value[child])
        self.pairs = np.array(pairs, dtype=int).reshape(-1, 2)
        self.n = len(free)
        self.component = self._components()

    def _components(self) -> np.ndarray:
        m = self.matrix.tocoo()
        edges_r, edges_c = [m.col], [self.n + m.row]
        if len(self.pairs):
            edges_r.append(self.pairs[:, 0])
            edges_c.append(self.pairs[:, 1])
        size = self.n + self.matrix.shape[0]
        graph = sp.csr_matrix(
            (np.ones(sum(len(e) for e in edges_r)), (np.concatenate(edges_r), np.concatenate(edges_c))),
            shape=(size, size),
        )
        _, labels = connected_components(graph, directed=False)
        return labels[: self.n]

    def bounds(self, objectives: sp.csr_matrix, keep=None):
        """Min and max of each objective row (over the unknown base counts), one programme per part it touches and
        per distinct objective (cells that differ only in counts read off directly share one). ``keep`` receives
        every solution found (base-count columns, values)."""
        objectives = objectives.tocsc()
        lo, hi = np.zeros(objectives.shape[0]), np.zeros(objectives.shape[0])
        solves = 0
        touched = self.component[objectives.nonzero()[1]]
        for part in np.unique(touched):
            cols = np.flatnonzero(self.component == part)
            local = objectives[:, cols].tocsr()
            rows = np.flatnonzero(np.diff(local.indptr) > 0)
            distinct, which = _distinct_rows(local[rows])
            part_keep = None if keep is None else (lambda x, cols=cols: keep(cols, x))
            low, high, n = _part_bounds(PartSolver(self, cols), distinct, part_keep)
            lo[rows] += low[which]
            hi[rows] += high[which]
            solves += n
        return lo, hi, solves


def _distinct_rows(matrix: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
    """The distinct rows of ``matrix``, and for each row the index of its distinct row."""
    matrix = matrix.tocsr()
    matrix.sort_indices()
    index: dict[tuple[bytes, bytes], int] = {}
    which = np.empty(matrix.shape[0], dtype=int)
    for i in range(matrix.shape[0]):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        key = (matrix.indices[start:end].tobytes(), matrix.data[start:end].tobytes())
        which[i] = index.setdefault(key, len(index))
    first = np.zeros(len(index), dtype=int)
    first[which[::-1]] = np.arange(matrix.shape[0])[::-1]
    return matrix[first], which


def _objective_order(local: sp.csr_matrix) -> np.ndarray:
    """Objectives by their first base count (neighbouring cells next to each other)."""
    return np.argsort(local.indices[local.indptr[:-1]], kind="stable")


def _part_bounds(solver: PartSolver, local: sp.csr_matrix, keep):
    """Min and max of each row of ``local`` (sorted indices) in one part. Neighbouring objectives follow each
    other, so that each starts from an optimal basis close to its own (40% fewer simplex iterations). Maxima
    first: every solution found is a feasible point, so an objective of non-negative coefficients that one of them
    sets to zero has its minimum, zero, without a programme of its own."""
    n = local.shape[0]
    lo, hi = np.zeros(n), np.zeros(n)
    order = _objective_order(local)
    seen = np.full(n, np.inf)
    for i in order:
        start, end = local.indptr[i], local.indptr[i + 1]
        hi[i] = solver.optimum(local.indices[start:end], local.data[start:end], maximise=True)
        if np.isfinite(hi[i]):  # an unbounded programme ends on no feasible point to learn from
            x = solver.solution()
            seen = np.minimum(seen, local @ x)
            if keep is not None:
                keep(x)
    solves = n
    nonnegative = np.asarray((local < 0).sum(axis=1)).ravel() == 0
    for i in order:
        if nonnegative[i] and seen[i] < EPS:
            continue  # lo = 0
        start, end = local.indptr[i], local.indptr[i + 1]
        lo[i] = solver.optimum(local.indices[start:end], local.data[start:end], maximise=False)
        solves += 1
        if keep is not None and np.isfinite(lo[i]):
            keep(solver.solution())
    return lo, hi, solves
