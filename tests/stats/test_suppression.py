"""Small-number suppression: primary rules, secondary suppression, and a property test that no hidden
cell can be worked out from the published totals (checked independently by linear programming, with
counts >= 0)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linprog

from vrp.stats import is_recoverable, suppress

NHS_HOSPITAL_THRESHOLD = 8  # config/measures.toml: hospital admissions of 1 to 7 are not published


def test_nhs_rule_hides_one_to_seven_not_zero_or_eight() -> None:
    t = pd.DataFrame({"count": [0, 1, 7, 8, 100]})
    res = suppress(t, "count", NHS_HOSPITAL_THRESHOLD)
    assert res.table["count"].tolist() == [0, "*", "*", 8, 100]
    assert res.mask.tolist() == [False, True, True, False, False]
    assert set(res.hidden["rule"]) == {"primary"}
    assert res.hidden["row"].tolist() == [1, 2]


def test_zero_suppressed_only_when_configured() -> None:
    t = pd.DataFrame({"count": [0, 3, 9]})
    assert suppress(t, "count", 5, suppress_zero=True).mask.tolist() == [True, True, False]


def test_secondary_hides_next_smallest_in_group() -> None:
    t = pd.DataFrame(
        {
            "district": ["A"] * 4 + ["B"] * 3,
            "cat": list("wxyz") + list("wxy"),
            "count": [3, 20, 12, 0, 40, 50, 60],
        }
    )
    res = suppress(t, "count", 5, secondary_by="district")
    # A: 3 is primary; the total would reveal it, so the smallest non-zero other cell (12) goes too
    assert res.mask.tolist() == [True, False, True, False, False, False, False]
    sec = res.hidden[res.hidden["rule"] == "secondary"]
    assert sec["row"].tolist() == [2] and "district = A" in sec["reason"].item()
    # no secondary suppression without published totals
    assert suppress(t, "count", 5).mask.sum() == 1


def test_two_margins_need_a_chain() -> None:
    """A 3x3 table with row and column totals: one small cell needs a rectangle of four hidden cells."""
    t = pd.DataFrame(
        {
            "r": np.repeat(["a", "b", "c"], 3),
            "c": ["x", "y", "z"] * 3,
            "n": [2, 30, 40, 50, 60, 70, 80, 90, 99],
        }
    )
    res = suppress(t, "n", 5, secondary_by=["r", "c"])
    assert res.mask.sum() == 4
    hidden = t[res.mask.to_numpy()]
    assert hidden["r"].nunique() == 2 and hidden["c"].nunique() == 2
    assert is_recoverable(t, res.mask, ["r", "c"], "n") == []
    assert res.unprotected == []


def test_single_cell_group_is_reported_unprotected() -> None:
    t = pd.DataFrame({"g": ["a", "b", "b"], "n": [3, 10, 20]})
    res = suppress(t, "n", 5, secondary_by="g")
    assert res.unprotected == [0]


def test_per_measure_thresholds_and_groups_within_measure() -> None:
    t = pd.DataFrame(
        {
            "measure": ["hospital"] * 3 + ["police"] * 3,
            "district": ["A", "A", "B", "A", "A", "B"],
            "n": [6, 30, 9, 6, 30, 2],
        }
    )
    res = suppress(t, "n", {"hospital": 8, "police": 3}, secondary_by="district", measure_col="measure")
    # hospital 6 hidden (and 30 to protect it); police 6 shown; police 2 alone in its group -> unprotected
    assert res.mask.tolist() == [True, True, False, False, False, True]
    assert res.unprotected == [5]
    with pytest.raises(ValueError):
        suppress(t, "n", {"hospital": 8}, measure_col="measure")


def _lp_range(values: np.ndarray, hidden: np.ndarray, groups: list[np.ndarray], j: int) -> tuple[float, float]:
    """Smallest and largest value hidden cell j can take given every published group total, counts >= 0."""
    idx = np.flatnonzero(hidden)
    rows, rhs = [], []
    for code in groups:
        for g in np.unique(code):
            members = code == g
            if not (members & hidden).any():
                continue
            rows.append((members[idx]).astype(float))
            rhs.append(values[members].sum() - values[members & ~hidden].sum())
    c = np.zeros(idx.size)
    c[list(idx).index(j)] = 1.0
    lo = linprog(c, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=(0, None), method="highs")
    hi = linprog(-c, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=(0, None), method="highs")
    return lo.fun, -hi.fun


@given(
    n_rows=st.integers(min_value=2, max_value=5),
    n_cols=st.integers(min_value=2, max_value=5),
    data=st.data(),
)
def test_no_hidden_cell_recoverable_from_margins(n_rows: int, n_cols: int, data) -> None:
    counts = data.draw(
        st.lists(st.integers(min_value=0, max_value=40), min_size=n_rows * n_cols, max_size=n_rows * n_cols)
    )
    t = pd.DataFrame({"r": np.repeat(np.arange(n_rows), n_cols), "c": np.tile(np.arange(n_cols), n_rows), "n": counts})
    res = suppress(t, "n", 8, secondary_by=["r", "c"])
    hidden = res.mask.to_numpy()
    values = t["n"].to_numpy(dtype=float)
    assert (hidden >= ((values >= 1) & (values < 8))).all()  # every primary cell is hidden
    groups = [t["r"].to_numpy(), t["c"].to_numpy()]
    for j in np.flatnonzero(hidden):
        if j in res.unprotected:
            continue
        lo, hi = _lp_range(values, hidden, groups, j)
        assert hi - lo > 0.5, f"cell {j} pinned to {lo}..{hi}"
    # cells reported unprotected (only when zeros leave nothing to hide) must really be exposed
    for j in res.unprotected:
        lo, hi = _lp_range(values, hidden, groups, j)
        assert hi - lo < 0.5


def test_hidden_zeros_do_not_leak_through_non_negativity() -> None:
    """Row 1's hidden cells would all be zero, which a reader can deduce (counts are >= 0) and use to
    recover the 9 above; the check treats that as exposure and hides a positive cell instead."""
    t = pd.DataFrame({"r": np.repeat([0, 1], 4), "c": np.tile(range(4), 2), "n": [15, 9, 3, 15, 15, 0, 0, 0]})
    res = suppress(t, "n", 8, secondary_by=["r", "c"])
    hidden = res.mask.to_numpy()
    groups = [t["r"].to_numpy(), t["c"].to_numpy()]
    for j in np.flatnonzero(hidden):
        lo, hi = _lp_range(t["n"].to_numpy(dtype=float), hidden, groups, j)
        assert hi - lo > 0.5
    assert res.unprotected == []


def test_unprotectable_table_is_reported() -> None:
    t = pd.DataFrame({"r": [0, 0, 1, 1], "c": [0, 1, 0, 1], "n": [0, 2, 0, 30]})
    res = suppress(t, "n", 8, secondary_by=["r", "c"])
    assert 1 in res.unprotected  # the column of zeros gives the 2 away: its totals must be suppressed too


@given(
    n_rows=st.integers(min_value=2, max_value=4),
    n_cols=st.integers(min_value=2, max_value=5),
    data=st.data(),
)
def test_recoverable_cells_match_a_per_cell_linear_programme(n_rows: int, n_cols: int, data) -> None:
    """The audit (a few linear programmes and a null space) names exactly the hidden cells whose whole feasible
    range, given the margins and counts >= 0, is one value: checked cell by cell against an independent LP."""
    size = n_rows * n_cols
    counts = data.draw(st.lists(st.sampled_from([0, 0, 1, 3, 9, 20]), min_size=size, max_size=size))
    mask = data.draw(st.lists(st.booleans(), min_size=size, max_size=size))
    t = pd.DataFrame({"r": np.repeat(np.arange(n_rows), n_cols), "c": np.tile(np.arange(n_cols), n_rows), "n": counts})
    hidden = np.array(mask)
    exposed = set(is_recoverable(t, pd.Series(hidden, index=t.index), ["r", "c"], "n"))
    groups = [t["r"].to_numpy(), t["c"].to_numpy()]
    values = t["n"].to_numpy(dtype=float)
    for j in np.flatnonzero(hidden):
        lo, hi = _lp_range(values, hidden, groups, j)
        assert (j in exposed) == (hi - lo < 1e-6), f"cell {j}: range {lo}..{hi}, exposed={j in exposed}"


@pytest.mark.parametrize(
    ("shape", "counts", "mask"),
    [
        # Found by random search: hidden zeros pin cells through a chain of totals that neither the linear
        # algebra nor the zero-sum rule sees, so only the linear-programming step of the audit catches them.
        ((3, 4), [0, 3, 20, 1, 20, 0, 1, 9, 0, 20, 0, 1], [1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0]),
        ((4, 4), [20, 1, 0, 1, 1, 1, 0, 0, 0, 1, 9, 1, 0, 0, 20, 3], [1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1]),
        ((4, 4), [0, 1, 9, 0, 9, 20, 20, 0, 0, 0, 9, 9, 0, 0, 9, 20], [0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 0]),
    ],
)
def test_cells_pinned_by_zeros_through_a_chain_are_found(shape, counts, mask) -> None:
    n_rows, n_cols = shape
    t = pd.DataFrame({"r": np.repeat(np.arange(n_rows), n_cols), "c": np.tile(np.arange(n_cols), n_rows), "n": counts})
    hidden = np.array(mask, dtype=bool)
    exposed = set(is_recoverable(t, pd.Series(hidden, index=t.index), ["r", "c"], "n"))
    groups = [t["r"].to_numpy(), t["c"].to_numpy()]
    pinned = {
        int(j) for j in np.flatnonzero(hidden) if np.ptp(_lp_range(t["n"].to_numpy(float), hidden, groups, j)) < 1e-6
    }
    assert pinned  # the case is one where something is exposed
    assert exposed == pinned


def test_a_group_with_a_small_total_is_hidden_whole_when_asked() -> None:
    """Two financial years of months: the first adds up to 3 (hidden wherever it is published), so its zeros
    go too; the second year is large and only its small months are hidden (and protected)."""
    first = [0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]
    second = [9, 12, 3, 10, 11, 9, 14, 10, 9, 12, 10, 11]
    t = pd.DataFrame({"fy": [0] * 12 + [1] * 12, "n": first + second})
    plain = suppress(t, "n", 8, secondary_by="fy")
    whole = suppress(t, "n", 8, secondary_by="fy", hide_small_groups=True)
    assert whole.mask[:12].all()
    assert not plain.mask[:12].all()  # without the option the zeros are left to the audit
    assert whole.mask[12:].tolist() == plain.mask[12:].tolist()
    assert whole.mask[14] and 1 < whole.mask[12:].sum() < 12
    assert "whose published total is below 8" in " ".join(whole.hidden["reason"])
    assert is_recoverable(t, whole.mask, "fy", "n") == []


def test_a_group_whose_every_non_zero_count_is_small_is_hidden_whole_when_asked() -> None:
    """A year of months of 0 to 3 (total 14, above the threshold): every non-zero month is hidden anyway, so its
    zeros go too; the other year shows its large months."""
    sparse = [0, 3, 0, 2, 1, 0, 3, 0, 2, 0, 3, 0]
    busy = [12, 9, 14, 10, 11, 9, 14, 10, 9, 12, 10, 11]
    t = pd.DataFrame({"fy": [0] * 12 + [1] * 12, "n": sparse + busy})
    res = suppress(t, "n", 8, secondary_by="fy", hide_small_groups=True)
    assert res.mask[:12].all() and not res.mask[12:].any()
    assert "every non-zero count is hidden" in " ".join(res.hidden["reason"])
    assert not suppress(t, "n", 8, secondary_by="fy").mask[:12].all()


def test_the_audit_fails_closed_if_the_solver_fails(monkeypatch) -> None:
    """A linear programme that does not solve must never pass a cell as safe: every cell counts as exposed."""
    import scipy.optimize

    from vrp.stats.suppression import _pinned_by_bounds

    class Failed:
        status = 4

    monkeypatch.setattr(scipy.optimize, "linprog", lambda *a, **k: Failed())
    a = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    assert _pinned_by_bounds(a, np.array([True, False, False])) == [0, 1, 2]
