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
from scipy.sparse.csgraph import connected_components

EPS = 1e-6
INTEGER_CHECK_WIDTH = 2  # intervals holding at most this many whole numbers more than one get an integer check
INTEGER_TIME_LIMIT = 10.0  # seconds per integer programme; one that runs out counts as pinned (hide more)


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
    while True:
        rounds += 1
        before = unpublished.copy()
        chooser.close_relations(primary)
        protected = primary | (table.publishable & unpublished)
        todo = protected if check is None else protected & (check | (unpublished & ~before))
        low, high, n = audit(table, unpublished, todo)
        lower[todo], upper[todo] = low[todo], high[todo]
        solves += n
        pinned = np.flatnonzero(todo & (high - low < 1))
        # The programmes are linear relaxations: where an interval holds only a few whole numbers, whole-number
        # solutions may still leave one. Check those with integer programmes.
        narrow = np.flatnonzero(todo & (high - low >= 1) & (high - low <= INTEGER_CHECK_WIDTH))
        if len(narrow):
            pinned = np.union1d(pinned, narrow[integer_pinned(table, unpublished, narrow, low, high)])
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


# ---- the audit ------------------------------------------------------------------------------------------------


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


def audit(table: LinearTable, unpublished: np.ndarray, protected: np.ndarray):
    """The whole-number interval a user can derive for each protected cell, from every published cell at once.
    Returns (lower, upper, number of linear programmes solved); NaN for cells not protected."""
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
    lo, hi, solves = system.bounds(table.cells[targets][:, free])
    lower[targets], upper[targets] = offsets + lo, offsets + hi
    return _whole(lower, False), _whole(upper, True), solves


def _whole(bounds: np.ndarray, up: bool) -> np.ndarray:
    """LP bounds to whole numbers: counts are whole, so [0.4, 1.6] leaves only 1."""
    with np.errstate(invalid="ignore"):
        return np.floor(bounds + EPS) if up else np.ceil(bounds - EPS)


def integer_pinned(
    table: LinearTable, unpublished: np.ndarray, cells: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """For each of ``cells`` (protected, with a linear interval [low, high] of more than one whole number): True
    when no whole-number solution of the published cells gives it any value in that interval but its true one,
    so a user with an integer programme could pin it. Each cell's programme holds every part it touches."""
    n_vars = table.cells.shape[1]
    published_rows = np.flatnonzero(~unpublished)
    published, rhs = table.cells[published_rows], table.values[published_rows]
    known, value = _fix_known(published, rhs, n_vars)
    free = np.flatnonzero(~known)
    out = np.zeros(len(cells), dtype=bool)
    if not len(free):
        return out
    system = _Reduced(table, published, rhs, known, value, free)
    objectives = table.cells[cells][:, free].tocsr()
    offsets = table.cells[cells] @ (value * known)
    solvers: dict[tuple, tuple] = {}
    for i, cell in enumerate(cells):
        row = objectives[i]
        parts = tuple(np.unique(system.component[row.indices]))
        if parts not in solvers:
            cols = np.flatnonzero(np.isin(system.component, parts))
            solvers[parts] = (cols, _PartSolver(system, cols), None)
        cols, linear, whole = solvers[parts]
        local = np.searchsorted(cols, row.indices)
        true = round(table.values[cell])
        if _whole_vertex_elsewhere(linear, local, row.data, offsets[i], true):
            continue  # a whole-number solution already gives it another value: not pinned
        if whole is None:
            whole = _PartSolver(system, cols, integer=True)
            solvers[parts] = (cols, linear, whole)
        others = [v for v in range(int(low[cell]), int(high[cell]) + 1) if v != true]
        out[i] = not any(whole.reaches(local, row.data, v - offsets[i]) for v in others)
    return out


def _whole_vertex_elsewhere(linear, cols: np.ndarray, coefs: np.ndarray, offset: float, true: int) -> bool:
    """The cheap test first: these tables' vertices are mostly whole numbers, so the linear maximum or minimum is
    often itself a whole-number solution with a value other than the true one."""
    for maximise in (True, False):
        best = linear.optimum(cols, coefs, maximise)
        if not np.isfinite(best):
            continue
        x = linear.solution()
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

    def bounds(self, objectives: sp.csr_matrix):
        """Min and max of each objective row (over the unknown base counts), one programme per part it touches.
        Maxima first: every solution found is a feasible point, so an objective of non-negative coefficients that
        one of them sets to zero has its minimum, zero, without a programme of its own."""
        objectives = objectives.tocsc()
        lo, hi = np.zeros(objectives.shape[0]), np.zeros(objectives.shape[0])
        solves = 0
        touched = self.component[objectives.nonzero()[1]]
        for part in np.unique(touched):
            cols = np.flatnonzero(self.component == part)
            local = objectives[:, cols].tocsr()
            rows = np.flatnonzero(np.diff(local.indptr) > 0)
            local = local[rows]
            solver = _PartSolver(self, cols)
            seen = np.full(len(rows), np.inf)
            for i in range(len(rows)):
                start, end = local.indptr[i], local.indptr[i + 1]
                high = solver.optimum(local.indices[start:end], local.data[start:end], maximise=True)
                hi[rows[i]] += high
                if np.isfinite(high):  # an unbounded programme ends on no feasible point to learn from
                    seen = np.minimum(seen, local @ solver.solution())
            solves += len(rows)
            nonnegative = np.asarray((local < 0).sum(axis=1)).ravel() == 0
            for i in range(len(rows)):
                if nonnegative[i] and seen[i] < EPS:
                    continue  # lo += 0
                start, end = local.indptr[i], local.indptr[i + 1]
                lo[rows[i]] += solver.optimum(local.indices[start:end], local.data[start:end], maximise=False)
                solves += 1
        return lo, hi, solves


_BANNER_SHOWN = False


def _quiet_highs(highspy):
    """A HiGHS instance; the first one in a process prints a banner on standard output from C++, which would land
    in the CLI's output (and a CSV piped from it), so standard output is closed for that one moment."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        import os
        import sys

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")  # only the objective changes between solves: start from the last basis,
    h.setOptionValue("simplex_strategy", 4)  # which stays primal feasible, so primal simplex goes on from it
    return h


class _PartSolver:
    """One independent part of the system, in HiGHS; objectives change, the model and its basis stay."""

    def __init__(self, system: _Reduced, cols: np.ndarray, integer: bool = False):
        import highspy

        rows = np.flatnonzero(np.diff(system.matrix[:, cols].tocsr().indptr) > 0)
        a = system.matrix[rows][:, cols].tocsc()
        h = _quiet_highs(highspy)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(cols), len(rows)
        lp.col_cost_ = np.zeros(len(cols))
        lp.col_lower_ = system.col_lower[cols]
        lp.col_upper_ = np.where(np.isinf(system.col_upper[cols]), highspy.kHighsInf, system.col_upper[cols])
        lp.row_lower_ = system.row_lower[rows]
        lp.row_upper_ = np.where(np.isinf(system.row_upper[rows]), highspy.kHighsInf, system.row_upper[rows])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        h.passModel(lp)
        local = np.full(system.n, -1)
        local[cols] = np.arange(len(cols))
        pairs = local[system.pairs] if len(system.pairs) else np.zeros((0, 2), int)
        pairs = pairs[(pairs >= 0).all(axis=1)]
        if len(pairs):  # child - parent <= 0
            k = len(pairs)
            h.addRows(
                k,
                np.full(k, -highspy.kHighsInf),
                np.zeros(k),
                2 * k,
                np.arange(0, 2 * k, 2, dtype=np.int32),
                pairs.ravel().astype(np.int32),
                np.tile([1.0, -1.0], k),
            )
        self.h, self.highspy, self.n = h, highspy, len(cols)
        self.last = np.zeros(0, dtype=np.int32)
        if integer:
            h.changeColsIntegrality(
                len(cols), np.arange(len(cols), dtype=np.int32), np.full(len(cols), highspy.HighsVarType.kInteger)
            )
            h.setOptionValue("presolve", "on")
            h.setOptionValue("time_limit", INTEGER_TIME_LIMIT)

    def reaches(self, cols: np.ndarray, coefs: np.ndarray, target: float) -> bool:
        """Whether some whole-number solution gives sum(coefs * x[cols]) == target (an integer model)."""
        h = self.h
        h.addRow(target, target, len(cols), cols.astype(np.int32), coefs.astype(float))
        try:
            h.run()
            return h.getModelStatus() == self.highspy.HighsModelStatus.kOptimal
        finally:
            h.deleteRows(1, np.array([h.getNumRow() - 1], dtype=np.int32))

    def _solve(self, sense) -> float:
        self.h.changeObjectiveSense(sense)
        self.h.run()
        status = self.h.getModelStatus()
        if status == self.highspy.HighsModelStatus.kUnbounded:
            return -np.inf if sense == self.highspy.ObjSense.kMinimize else np.inf
        if status != self.highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"disclosure audit: the programme ended {self.h.modelStatusToString(status)}")
        return self.h.getInfo().objective_function_value

    def optimum(self, cols: np.ndarray, coefs: np.ndarray, maximise: bool) -> float:
        cols = cols.astype(np.int32)
        if len(self.last):
            self.h.changeColsCost(len(self.last), self.last, np.zeros(len(self.last)))
        self.h.changeColsCost(len(cols), cols, coefs.astype(float))
        self.last = cols
        return self._solve(self.highspy.ObjSense.kMaximize if maximise else self.highspy.ObjSense.kMinimize)

    def solution(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value)
