"""Secondary suppression and its audit (stats.disclosure), checked against an independent attacker: scipy's own
linear programming over every published cell, with nothing from the module under test but what it published."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tests.helpers import attacker_bounds
from vrp.stats.disclosure import LinearTable, integer_pinned, protect


def two_way(x: np.ndarray, threshold: int = 3) -> LinearTable:
    """A rows x cols table with row totals, column totals and the grand total, every cell publishable."""
    r, c = x.shape
    n = r * c
    rows, relations = [], []
    inner = [np.eye(n)[i] for i in range(n)]
    rows += inner
    row_tot = [np.eye(n)[i * c : (i + 1) * c].sum(axis=0) for i in range(r)]
    col_tot = [np.eye(n)[j::c].sum(axis=0) for j in range(c)]
    rows += row_tot + col_tot + [np.ones(n)]
    for i in range(r):
        relations.append(np.array([n + i, *range(i * c, (i + 1) * c)]))
    for j in range(c):
        relations.append(np.array([n + r + j, *range(j, n, c)]))
    grand = n + r + c
    relations.append(np.array([grand, *range(n, n + r)]))
    relations.append(np.array([grand, *range(n + r, n + r + c)]))
    matrix = sp.csr_matrix(np.array(rows))
    values = matrix @ x.ravel()
    return LinearTable(matrix, values, np.full(len(values), threshold), np.ones(len(values), bool), relations)


def test_a_lone_small_cell_is_hidden_with_partners_so_it_cannot_be_subtracted():
    table = two_way(np.array([[5, 1, 4], [6, 7, 0]]))
    result = protect(table)
    assert result.hidden[1] and result.primary[1]
    assert result.hidden.sum() >= 4  # a row and a column each need a second hidden cell
    assert not len(result.pinned)
    hidden = np.flatnonzero(result.hidden)
    for cell, (lo, hi) in zip(hidden, attacker_bounds(table, result.hidden, hidden), strict=True):
        assert np.floor(hi + 1e-6) - np.ceil(lo - 1e-6) >= 1, f"cell {cell} pinned to {lo}"
        # the module records exactly what the attacker derives
        assert result.lower[cell] == pytest.approx(np.ceil(lo - 1e-6))
        assert result.upper[cell] == pytest.approx(np.floor(hi + 1e-6))


def test_nothing_small_means_nothing_hidden():
    table = two_way(np.array([[5, 9, 4], [6, 7, 3]]))
    result = protect(table)
    assert not result.hidden.any()


def test_a_small_total_is_hidden_and_stays_protected():
    # Row 0 adds up to 2: its total is small, and its two ones are too.
    table = two_way(np.array([[1, 1, 0], [6, 7, 9]]))
    result = protect(table)
    assert result.hidden[6]  # row total of row 0
    targets = np.flatnonzero(result.hidden)
    for lo, hi in attacker_bounds(table, result.hidden, targets):
        assert np.floor(hi + 1e-6) - np.ceil(lo - 1e-6) >= 1


@pytest.mark.parametrize("seed", range(12))
def test_random_sparse_tables_leave_no_hidden_cell_pinned(seed):
    rng = np.random.default_rng(seed)
    x = rng.poisson(rng.uniform(0.3, 4), size=(4, 5))
    table = two_way(x)
    result = protect(table)
    assert not len(result.pinned)
    targets = np.flatnonzero(result.hidden)
    for cell, (lo, hi) in zip(targets, attacker_bounds(table, result.hidden, targets), strict=True):
        assert np.floor(hi + 1e-6) - np.ceil(lo - 1e-6) >= 1, f"seed {seed}: cell {cell} pinned"
    # every small count is hidden
    small = (table.values > 0) & (table.values < 3)
    assert result.hidden[small].all()


def test_an_interior_cell_is_protected_though_never_published():
    # all = under 25 + 25 and over; "25 and over" is interior: all 10 and under-25 9 would give it as 1.
    cells = sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]))
    table = LinearTable(
        cells, np.array([10, 9, 1]), np.full(3, 3), np.array([True, True, False]), [np.array([0, 1, 2])]
    )
    result = protect(table)
    assert result.hidden.tolist() == [False, True, False]  # the smaller part goes, the total stays
    assert result.primary[2] and not len(result.pinned)
    assert (result.lower[2], result.upper[2]) == (0, 10)


def test_a_part_is_bounded_by_its_whole():
    # Two base counts: whole w, part p <= w. Publishing w = 1 with p hidden: p in [0, 1], not pinned.
    cells = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]]))
    table = LinearTable(cells, np.array([5, 1]), np.full(2, 3), np.array([True, True]), [], subsets=np.array([[1, 0]]))
    result = protect(table)
    assert result.hidden[1] and not result.hidden[0]
    assert (result.lower[1], result.upper[1]) == (0, 5)


def _parity_table():
    """x1 + x2 = 1, x2 + x3 = 1, x1 + x3 + x4 = 1 published; x4 = 1 hidden. The linear relaxation lets x4 lie
    anywhere in [0, 1] (x2 = 0.5 gives x4 = 0), but whole numbers force x2 = 1, x1 = x3 = 0 and so x4 = 1."""
    cells = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 1, 1], [0, 0, 0, 1]], dtype=float))
    values = np.array([1, 1, 1, 1])
    threshold = np.array([1, 1, 1, 3])  # the three published sums count as large here; x4 is small
    return LinearTable(cells, values, threshold, np.ones(4, bool), [])


def _integer_bounds(table, hidden, cell):
    """An independent attacker with whole numbers: scipy's milp over the published cells."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    published = np.flatnonzero(table.publishable & ~hidden)
    a = table.cells[published].toarray()
    b = table.values[published].astype(float)
    c = table.cells[cell].toarray().ravel()
    con = LinearConstraint(a, b, b)
    n = a.shape[1]
    lo = milp(c, constraints=con, integrality=np.ones(n), bounds=Bounds(0, np.inf))
    hi = milp(-c, constraints=con, integrality=np.ones(n), bounds=Bounds(0, np.inf))
    assert lo.success, lo.message
    return lo.fun, np.inf if hi.fun is None else -hi.fun  # no largest value: nothing bounds it above


def test_the_integer_check_finds_what_the_linear_relaxation_misses():
    table = _parity_table()
    hidden = np.array([False, False, False, True])
    [(lo, hi)] = attacker_bounds(table, hidden, [3])
    assert (np.ceil(lo - 1e-6), np.floor(hi + 1e-6)) == (0, 1)  # two whole numbers by linear programming...
    assert _integer_bounds(table, hidden, 3) == (1, 1)  # ...but one by integer programming
    low, high = np.full(4, np.nan), np.full(4, np.nan)
    low[3], high[3] = 0, 1
    assert integer_pinned(table, ~table.publishable | hidden, np.array([3]), low, high).tolist() == [True]


def test_protection_holds_against_whole_number_attacks():
    table = _parity_table()
    result = protect(table)
    assert result.stats["integer_checks"] >= 1 and not len(result.pinned)
    assert result.hidden.sum() > 1  # hiding x4 alone would leave it pinned in whole numbers
    for cell in np.flatnonzero(result.hidden):
        lo, hi = _integer_bounds(table, result.hidden, cell)
        assert hi - lo >= 1, f"cell {cell} pinned in whole numbers"
