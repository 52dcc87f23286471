"""What makes the disclosure audit faster must not change what it proves: cells sharing one objective, and
whole-number solutions kept between cells and rounds (stats.disclosure_audit, stats.disclosure_witness)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tests.helpers import attacker_bounds
from tests.stats.test_disclosure import _parity_table, two_way
from vrp.stats.disclosure import INTEGER_CHECK_WIDTH, LinearTable, protect
from vrp.stats.disclosure_audit import audit, integer_pinned
from vrp.stats.disclosure_witness import Witnesses


def test_cells_with_the_same_coefficients_get_the_same_interval_as_the_attacker_finds():
    # Cell 3 repeats cell 0 (a rolling year ending in March is its financial year); cell 4 differs from cell 1 only
    # by a count a published zero gives away.
    cells = sp.csr_matrix(
        np.array(
            [[1, 1, 0, 0], [0, 1, 1, 0], [1, 1, 1, 0], [1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 0, 1]],
            dtype=float,
        )
    )
    x = np.array([1, 2, 3, 0])
    table = LinearTable(cells, cells @ x, np.full(6, 3), np.ones(6, bool), [])
    unpublished = np.array([True, True, False, True, True, False])
    low, high, _ = audit(table, unpublished, unpublished)
    hidden = np.flatnonzero(unpublished)
    for cell, (lo, hi) in zip(hidden, attacker_bounds(table, unpublished, hidden), strict=True):
        assert (low[cell], high[cell]) == (np.ceil(lo - 1e-6), np.floor(hi + 1e-6))
    assert (low[0], high[0]) == (low[3], high[3])
    assert (low[1], high[1]) == (low[4], high[4])


def test_a_kept_solution_settles_a_cell_only_if_it_solves_the_published_cells():
    table = _parity_table()
    unpublished = np.array([False, False, False, True])
    everything = np.arange(4)
    nothing_known = np.zeros(4, dtype=bool)
    witnesses = Witnesses(table)
    witnesses.add(nothing_known, np.zeros(4), everything, np.array([1.0, 0.0, 1.0, 0.0]))  # x1 + x3 + x4 = 2, not 1
    witnesses.add(nothing_known, np.zeros(4), everything, np.array([0.5, 0.5, 0.5, 0.0]))  # not whole numbers
    assert witnesses.settle(np.array([3]), unpublished).tolist() == [False]
    # Hiding x1 + x3 + x4 too removes the equation that failed: the first vector is then a solution with x4 = 0.
    assert witnesses.settle(np.array([3]), np.array([False, False, True, True])).tolist() == [True]


def test_a_kept_solution_must_cover_every_relation_of_its_part():
    # Counts a, b, c with a + b = 2, b + c = 2 and c = 1 published: b = 1 is pinned. A vector over a and b alone
    # (a = 2, b = 0) satisfies the one equation it covers, but b + c = 2 reaches past it (c would be 2, not 1).
    cells = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1], [0, 1, 0]], dtype=float))
    table = LinearTable(cells, np.array([2, 2, 1, 1]), np.full(4, 3), np.ones(4, bool), [])
    witnesses = Witnesses(table)
    witnesses.add(np.zeros(3, dtype=bool), np.zeros(3), np.array([0, 1]), np.array([2.0, 0.0]))
    assert witnesses.settle(np.array([3]), np.array([False, False, False, True])).tolist() == [False]


@pytest.mark.parametrize("seed", range(8))
def test_kept_solutions_change_no_answer_of_the_integer_check(seed):
    rng = np.random.default_rng(100 + seed)
    table = two_way(rng.poisson(rng.uniform(0.3, 2), size=(4, 5)))
    unpublished = table.small.copy()
    unpublished[rng.choice(len(unpublished), size=6, replace=False)] = True
    witnesses = Witnesses(table)
    low, high, _ = audit(table, unpublished, unpublished, witnesses)
    narrow = np.flatnonzero(unpublished & (high - low >= 1) & (high - low <= INTEGER_CHECK_WIDTH))
    with_kept = integer_pinned(table, unpublished, narrow, low, high, witnesses)
    without = integer_pinned(table, unpublished, narrow, low, high)
    assert with_kept.tolist() == without.tolist()


@pytest.mark.parametrize("seed", range(6))
def test_protection_is_the_same_whatever_order_the_programmes_run_in(seed, monkeypatch):
    """The audit's answers are optima, not the path to them: reversing the order of the objectives gives the same
    hidden cells and intervals."""
    import vrp.stats.disclosure_audit as module

    rng = np.random.default_rng(200 + seed)
    table = two_way(rng.poisson(rng.uniform(0.3, 3), size=(4, 5)))
    first = protect(table)
    forward = module._objective_order
    monkeypatch.setattr(module, "_objective_order", lambda local: forward(local)[::-1])
    second = protect(table)
    assert first.hidden.tolist() == second.hidden.tolist()
    np.testing.assert_array_equal(first.lower, second.lower)
    np.testing.assert_array_equal(first.upper, second.upper)
