"""Getis-Ord Gi* and concentration: checked against PySAL's esda, exact enumeration of the permutation null,
hand-worked cases and invariance properties."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import box

from vrp.geo.neighbours import queen_neighbours
from vrp.stats import benjamini_hochberg, concentration, gi_star
from vrp.stats.hotspots import pseudo_p


def grid(n_rows: int, n_cols: int) -> list[list[int]]:
    """Queen neighbours on a lattice, built from unit squares (so it also exercises queen_neighbours)."""
    return queen_neighbours([box(c, r, c + 1, r + 1) for r in range(n_rows) for c in range(n_cols)])


def test_z_matches_esda_on_a_lattice(rng: np.random.Generator) -> None:
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    nb = grid(6, 7)
    x = rng.poisson(4, 42).astype(float)
    x[:5] += 10  # a corner cluster
    w = libpysal.weights.W({i: list(n) for i, n in enumerate(nb)})
    ref = esda.G_Local(x, w, transform="B", star=True, permutations=0)
    ours = gi_star(x, nb, permutations=0)
    np.testing.assert_allclose(ours["z"], ref.Zs, atol=1e-10)
    # esda reports the one-sided normal p-value; ours is two-sided
    np.testing.assert_allclose(ours["p_norm"], 2 * ref.p_norm, rtol=1e-9)


def test_hand_worked_line() -> None:
    """Four areas in a line, x = 1, 2, 3, 10. Area 3 (value 10) has neighbour 2: local sum 13, W = 2.
    mean 4, S = sqrt(mean(x^2) - 16) = sqrt(114/4 - 16) = sqrt(12.5); z = (13 - 8) / (S sqrt((4*2 - 4)/3))."""
    g = gi_star([1, 2, 3, 10], [[1], [0, 2], [1, 3], [2]], permutations=0)
    expected = (13 - 8) / (np.sqrt(12.5) * np.sqrt(4 / 3))
    assert g["z"].iloc[3] == pytest.approx(expected)
    assert g["n_neighbours"].tolist() == [1, 2, 2, 1]


def test_permutation_p_matches_exact_enumeration() -> None:
    """With 7 areas, area 0's two neighbours are drawn from the other 6: the 15 equally likely pairs give the
    exact null distribution of its local sum, which the pseudo p-value must approach: twice the smaller tail."""
    x = np.array([9.0, 8.0, 1.0, 3.0, 2.0, 5.0, 4.0])
    nb = [[1, 2], [0], [0], [], [], [], []]
    obs = x[0] + x[1] + x[2]
    sums = np.array([x[0] + x[a] + x[b] for a, b in combinations(range(1, 7), 2)])
    smaller_tail = min(np.mean(sums >= obs), np.mean(sums <= obs))
    g = gi_star(x, nb, permutations=39_999, seed=3)
    assert g["z"].iloc[0] > 0
    assert g["p_sim"].iloc[0] == pytest.approx(min(1.0, 2 * smaller_tail), abs=0.01)


def test_pseudo_p_is_twice_esdas_on_esdas_own_permutations(rng: np.random.Generator) -> None:
    """Issue 14 point 6: esda's G_Local.p_sim takes the smaller tail (its "directed" rule, one-sided). Given the
    very same simulated statistics, ours is exactly twice it (two-sided), and the side is the tail it came from."""
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    nb = grid(6, 7)
    x = rng.gamma(2.0, 2.0, 42)  # continuous: no ties, where the two rules agree exactly
    x[:5] += 6
    w = libpysal.weights.W({i: list(n) for i, n in enumerate(nb)})
    ref = esda.G_Local(x, w, transform="B", star=True, permutations=999, keep_simulations=True, seed=7, n_jobs=1)
    p, side = pseudo_p(ref.Gs, ref.rGs)
    np.testing.assert_allclose(p, np.minimum(1.0, 2 * ref.p_sim), rtol=1e-6)  # esda keeps p_sim in float32
    above = (ref.rGs >= ref.Gs[:, None]).sum(axis=1)
    assert (side[above < 999 - above] == 1).all() and (side[above > 999 - above] == -1).all()
    # With ties (integer counts) a simulated value equal to the observed one counts in both tails here, in the
    # upper one only in esda: ours is at least twice esda's, and larger by at most 2 x ties / (P + 1).
    sims = np.array([[1.0, 2.0, 2.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]])  # two ties with the observed 2
    esda_p = esda.significance._permutation_significance(np.array([2.0]), sims, alternative="directed")
    ours, side = pseudo_p([2.0], sims)
    assert esda_p[0] == pytest.approx(2 / 10)  # (1 below + 1) / (9 + 1): the ties left out of the lower tail
    assert ours[0] == pytest.approx(2 * (3 + 1) / 10) == 2 * esda_p[0] + 2 * 2 / 10 and side[0] == -1


def test_p_sim_agrees_with_esda_within_monte_carlo_error(rng: np.random.Generator) -> None:
    """The whole test, each with its own random draws: ours and twice esda's differ only by simulation noise."""
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    nb = grid(6, 7)
    x = rng.gamma(2.0, 2.0, 42)
    x[[0, 1, 7, 8]] += 12  # a corner cluster
    w = libpysal.weights.W({i: list(n) for i, n in enumerate(nb)})
    ref = np.minimum(1.0, 2 * esda.G_Local(x, w, transform="B", star=True, permutations=9999, seed=11, n_jobs=1).p_sim)
    ours = gi_star(x, nb, permutations=9999, seed=2)["p_sim"].to_numpy()
    # Each is 2 m / P with m binomial: the difference of two has standard error 2 sqrt(2 p/2 (1 - p/2) / P).
    se = 2 * np.sqrt(2 * (ref / 2) * (1 - ref / 2) / 9999)
    assert (np.abs(ours - ref) <= 5 * se + 1e-3).all()
    assert ours[0] < 0.01 and ref[0] < 0.01  # the corner cluster is found by both


def test_permutation_p_values_are_valid_and_fdr_holds_under_the_null() -> None:
    """No spatial pattern (independent counts): about 5% of pseudo p-values fall at or below 0.05 (ties make it
    a little fewer), and Benjamini-Hochberg at 5% flags no area in almost every map."""
    nb = grid(20, 20)
    rejected, maps_with_a_flag = [], 0
    for seed in range(5):
        x = np.random.default_rng(seed).poisson(3, 400).astype(float)
        g = gi_star(x, nb, permutations=999, seed=seed)
        rejected.append((g["p_sim"] <= 0.05).mean())
        maps_with_a_flag += bool((g["hot_cold"] != "not significant").any())
    assert 0.02 <= np.mean(rejected) <= 0.065
    assert maps_with_a_flag <= 1


def test_cluster_is_found_hot_and_classes_are_consistent(rng: np.random.Generator) -> None:
    nb = grid(20, 20)
    x = rng.poisson(2, 400).astype(float)
    hot = [r * 20 + c for r in range(3, 8) for c in range(3, 8)]
    cold_block = [r * 20 + c for r in range(12, 18) for c in range(12, 18)]
    x[hot] += 12
    x[cold_block] = 0
    # 9,999 permutations: with 999 the smallest two-sided pseudo p is 0.002, too coarse for q <= 0.01 here
    g = gi_star(pd.Series(x, index=[f"L{i}" for i in range(400)]), nb, permutations=9999, seed=1)
    assert g.index[0] == "L0"
    centre = g.iloc[[r * 20 + c for r in range(4, 7) for c in range(4, 7)]]
    assert (centre["hot_cold"] == "hot").all()
    assert (centre["cluster"] == "hot 99%").all()
    assert (g.loc[g["hot_cold"] == "hot", "z"] > 0).all()
    assert set(g["cluster"]) <= {"hot 99%", "hot 95%", "cold 99%", "cold 95%", "not significant"}
    # classes follow the q-values
    assert ((g["cluster"] == "hot 99%") == ((g["q"] <= 0.01) & (g["z"] > 0))).all()
    assert ((g["hot_cold"] != "not significant") == (g["q"] <= 0.05)).all()
    # same seed, same answer
    again = gi_star(x, nb, permutations=9999, seed=1)
    np.testing.assert_array_equal(again["p_sim"].to_numpy(), g["p_sim"].to_numpy())


def test_benjamini_hochberg_matches_statsmodels(rng: np.random.Generator) -> None:
    from statsmodels.stats.multitest import multipletests

    p = rng.uniform(0, 0.2, 300) ** 2
    np.testing.assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1])


@given(
    st.lists(st.integers(min_value=0, max_value=50), min_size=12, max_size=12),
    st.floats(min_value=-1e4, max_value=1e4),
)
def test_z_unchanged_by_adding_a_constant(values: list[int], constant: float) -> None:
    nb = grid(3, 4)
    a = gi_star(values, nb, permutations=0)["z"].to_numpy()
    b = gi_star([v + constant for v in values], nb, permutations=0)["z"].to_numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_edge_cases() -> None:
    equal = gi_star([3.0] * 9, grid(3, 3), permutations=99, seed=0)
    assert (equal["z"] == 0).all() and (equal["p_norm"] == 1).all() and (equal["p_sim"] == 1).all()
    assert (equal["cluster"] == "not significant").all()
    one = gi_star([5.0], [[]], permutations=99)
    assert one["z"].item() == 0 and one["p_norm"].item() == 1 and one["cluster"].item() == "not significant"
    island = gi_star([1.0, 2.0, 30.0, 4.0], [[1], [0], [], []], permutations=99, seed=0)
    assert island["p_sim"].iloc[2] == 1  # nothing to permute around an area with no neighbours
    assert gi_star([], [], permutations=9).empty
    with pytest.raises(ValueError, match="missing"):
        gi_star([1.0, np.nan], [[1], [0]])
    with pytest.raises(ValueError, match="itself"):
        gi_star([1.0, 2.0], [[0, 1], [0]])


def test_neighbours_by_label() -> None:
    s = pd.Series([1.0, 2.0, 3.0, 10.0], index=["a", "b", "c", "d"])
    by_label = gi_star(s, {"a": ["b"], "b": ["a", "c"], "c": ["b", "d"], "d": ["c"]}, permutations=0)
    by_pos = gi_star(s.to_numpy(), [[1], [0, 2], [1, 3], [2]], permutations=0)
    np.testing.assert_allclose(by_label["z"].to_numpy(), by_pos["z"].to_numpy())


# ---------------------------------------------------------------- concentration


def test_concentration_hand_worked() -> None:
    c = concentration(pd.Series([0, 0, 0, 100.0], index=list("abcd")))
    assert c.gini == pytest.approx(0.75)  # (n - 1) / n when one area has everything
    assert c.top_10 == 1.0 and c.top_areas[10] == 1
    assert pd.isna(c.curve["area"].iloc[0]) and c.curve["area"].tolist()[1:] == ["d", "a", "b", "c"]
    even = concentration([5.0] * 200)
    assert even.gini == pytest.approx(0.0, abs=1e-12)
    assert even.top_1 == pytest.approx(0.01) and even.top_10 == pytest.approx(0.10)
    assert even.top_areas == {1: 2, 5: 10, 10: 20}


def test_concentration_1231_areas_counts_whole_areas(rng: np.random.Generator) -> None:
    x = rng.pareto(1.5, 1231)
    c = concentration(x)
    assert c.top_areas == {1: 13, 5: 62, 10: 124}
    top = np.sort(x)[::-1]
    assert c.top_5 == pytest.approx(top[:62].sum() / x.sum())
    assert 0 < c.top_1 < c.top_5 < c.top_10 < 1
    assert c.curve["value_share"].is_monotonic_increasing and c.curve["value_share"].iloc[-1] == pytest.approx(1)


def test_concentration_edge_cases() -> None:
    zero = concentration([0, 0, 0])
    assert zero.gini is None and zero.top_1 is None and zero.total == 0
    single = concentration([4.0])
    assert single.gini == 0 and single.top_1 == 1
    assert concentration([1, None, 3]).n_areas == 2
    with pytest.raises(ValueError):
        concentration([1, -2])
