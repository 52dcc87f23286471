"""Hotspot statistics: Getis-Ord Gi* with conditional-permutation inference and false-discovery-rate control,
and the concentration of harm (what share of it falls in the top few per cent of areas)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ._common import ArrayLike, to_float_array

GI_COLUMNS = ["value", "n_neighbours", "z", "p_norm", "p_sim", "q", "hot_cold", "cluster"]


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values): q <= 0.05 controls the false discovery rate at 5%."""
    p = np.asarray(p, dtype=float)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def _neighbour_lists(neighbours: Sequence[Sequence[int]] | Mapping, index: pd.Index | None, n: int) -> list[np.ndarray]:
    if isinstance(neighbours, Mapping):
        if index is None:
            index = pd.RangeIndex(n)
        pos = {label: i for i, label in enumerate(index)}
        lists = [np.array([pos[j] for j in neighbours.get(label, ())], dtype=np.int64) for label in index]
    else:
        if len(neighbours) != n:
            raise ValueError(f"neighbours has {len(neighbours)} entries for {n} values")
        lists = [np.asarray(list(nb), dtype=np.int64) for nb in neighbours]
    for i, nb in enumerate(lists):
        if nb.size and (nb.min() < 0 or nb.max() >= n):
            raise ValueError(f"area {i} has a neighbour index outside 0..{n - 1}")
        if np.any(nb == i):
            raise ValueError(f"area {i} lists itself as a neighbour; Gi* adds each area itself")
        if np.unique(nb).size != nb.size:
            raise ValueError(f"area {i} lists a neighbour twice")
    return lists


def gi_star(
    values: ArrayLike,
    neighbours: Sequence[Sequence[int]] | Mapping,
    permutations: int = 999,
    seed: int | np.random.Generator | None = None,
    *,
    inference: Literal["permutation", "analytical"] = "permutation",
    fdr: float = 0.05,
) -> pd.DataFrame:
    """Getis-Ord Gi* hot and cold spots, one row per area (index kept from a Series).

    Binary weights with each area in its own neighbourhood; `neighbours[i]` lists area i's neighbours
    (positions, or labels when a mapping keyed like `values`' index) without i itself.
    Columns: value, n_neighbours, z (Gi* z-score), p_norm (two-sided normal p-value), p_sim (two-sided
    pseudo p-value from conditional permutation: area i keeps its value, its k_i neighbours are drawn
    without replacement from the other n-1 values; twice esda's, see `pseudo_p`; NaN if permutations=0),
    q (Benjamini-Hochberg adjusted p of the chosen `inference`; permutations=0 means analytical), hot_cold
    ("hot"/"cold"/"not significant" at FDR `fdr`), and cluster ("hot 99%", "hot 95%", "cold 99%", "cold 95%",
    "not significant": q <= 0.01 or q <= 0.05). Hot or cold is the side of the test the p-value comes from:
    the sign of z for analytical inference, the tail the observed sum lies in for permutation inference
    (almost always the same; they differ only where the area's own value and its neighbours pull apart).
    Areas whose z cannot be defined (all values equal, one area, a neighbourhood that is everything) get
    z = 0 and p = 1.
    """
    index = values.index if isinstance(values, pd.Series) else None
    x = np.atleast_1d(to_float_array(values)).astype(float)
    if np.any(np.isnan(x)):
        raise ValueError("gi_star needs a value for every area (missing values found); fill or drop them first")
    n = x.size
    nbs = _neighbour_lists(neighbours, index, n)
    k = np.array([nb.size for nb in nbs], dtype=np.int64)
    w_i = (k + 1).astype(float)  # binary weights incl. self: sum w = sum w^2 = k + 1
    local = x + np.array([x[nb].sum() for nb in nbs]) if n else np.zeros(0)
    if n == 0:
        return pd.DataFrame(columns=GI_COLUMNS)

    mean = x.mean()
    s = np.sqrt(max((x**2).mean() - mean**2, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = s * np.sqrt((n * w_i - w_i**2) / (n - 1)) if n > 1 else np.zeros(n)
        z = np.where(denom > 1e-12 * max(1.0, abs(mean)), (local - mean * w_i) / denom, 0.0)
    z = np.where(np.abs(z) < 1e-9, 0.0, z)  # rounding noise from an exactly-zero numerator
    p_norm = np.where(z == 0, 1.0, 2 * stats.norm.sf(np.abs(z)))

    if inference not in ("permutation", "analytical"):
        raise ValueError("inference must be 'permutation' or 'analytical'")
    p_sim, side = np.full(n, np.nan), np.sign(z)
    if permutations and n > 1:
        p_sim, perm_side = _conditional_permutation_p(x, local, k, int(permutations), seed)
        if inference == "permutation":
            side = np.where(perm_side != 0, perm_side, side)

    p_used = p_sim if inference == "permutation" and permutations else p_norm
    q = benjamini_hochberg(p_used)
    hot = side > 0
    cold = side < 0
    sig = q <= fdr
    hot_cold = np.where(sig & hot, "hot", np.where(sig & cold, "cold", "not significant"))
    cluster = np.full(n, "not significant", dtype=object)
    for level, label in ((0.05, "95%"), (0.01, "99%")):
        cluster = np.where((q <= level) & hot, f"hot {label}", cluster)
        cluster = np.where((q <= level) & cold, f"cold {label}", cluster)
    return pd.DataFrame(
        {
            "value": x,
            "n_neighbours": k,
            "z": z,
            "p_norm": p_norm,
            "p_sim": p_sim,
            "q": q,
            "hot_cold": hot_cold.astype(object),
            "cluster": cluster,
        },
        index=index,
    )


def pseudo_p(observed: ArrayLike, simulated: np.ndarray, tol: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided pseudo p-values of statistics against their permutation distributions, and the side each lies on.

    ``observed``: one statistic per area; ``simulated``: areas x permutations. The smaller tail is taken, as
    esda does (``G_Local.p_sim``, its "directed" rule: the count of simulated values at least as large, or
    the count below if that is smaller), and doubled for a two-sided test: p = min(1, 2 (m + 1) / (P + 1)) with
    m the smaller tail count. Without ties p is exactly twice esda's. A simulated value equal to the observed one
    (within ``tol``) counts in both tails here, where esda counts it only in the upper one, so with ties (integer
    counts) ours is the larger, by at most 2 x ties / (P + 1): "at least as extreme" either way, conservative.
    side: +1 where the observed value is in the upper tail (fewer simulated values above it than below), -1 in
    the lower, 0 where the tails are equal (p = 1 or near it).
    """
    obs = np.asarray(observed, dtype=float)[:, None]
    sims = np.atleast_2d(np.asarray(simulated, dtype=float))
    permutations = sims.shape[1]
    upper = np.sum(sims >= obs - tol, axis=1)
    lower = np.sum(sims <= obs + tol, axis=1)
    p = np.minimum(1.0, 2 * (np.minimum(upper, lower) + 1) / (permutations + 1))
    return p, np.sign(lower - upper)


def _conditional_permutation_p(
    x: np.ndarray,
    local: np.ndarray,
    k: np.ndarray,
    permutations: int,
    seed: int | np.random.Generator | None,
    chunk: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided pseudo p-values (``pseudo_p``) by conditional permutation, vectorised in chunks of areas, and
    the side of each observed sum.

    For each chunk one matrix of draws (permutations x k_max distinct positions among n-1) is shared by the
    chunk's areas; position r maps to area r + (r >= i) so area i itself is never drawn. Because x-bar, S
    and the weights are fixed, comparing neighbourhood sums is the same as comparing z-scores (or esda's G).
    An area with no neighbours has nothing to permute: p = 1, side 0.
    """
    rng = np.random.default_rng(seed)
    n = x.size
    kmax = int(k.max()) if k.size else 0
    p, side = np.ones(n), np.zeros(n)
    if kmax == 0:
        return p, side
    order = np.argsort(k, kind="stable")  # similar k together keeps the gathered block small
    tol = 1e-9 * max(1.0, float(np.abs(x).max()))
    for start in range(0, n, chunk):
        areas = order[start : start + chunk]
        areas = areas[k[areas] > 0]
        if areas.size == 0:
            continue
        kc = int(k[areas].max())
        draws = (
            np.argpartition(rng.random((permutations, n - 1)), kc - 1, axis=1)[:, :kc]
            if kc < n - 1
            else (np.argsort(rng.random((permutations, n - 1)), axis=1))
        )
        # positions among "everyone but i" -> actual area ids, per area in chunk
        ids = draws[None, :, :] + (draws[None, :, :] >= areas[:, None, None])
        vals = x[ids]  # chunk x permutations x kc
        csum = np.cumsum(vals, axis=2)
        take = k[areas] - 1
        perm_sums = np.take_along_axis(csum, take[:, None, None], axis=2)[:, :, 0] + x[areas][:, None]
        p[areas], side[areas] = pseudo_p(local[areas], perm_sums, tol)
    return p, side


@dataclass(frozen=True)
class ConcentrationResult:
    """How concentrated harm is across areas.

    `curve`: DataFrame sorted from the highest-value area down, columns rank (1 = highest), area (index
    label), value, area_share and value_share (cumulative fractions 0-1), with a leading (0, 0) row whose
    rank is 0 (plot value_share against area_share). top_1/top_5/top_10: share of the total (0-1) held by
    the top 1%/5%/10% of areas, counting whole areas - the smallest number covering that fraction, at least
    one (top_areas gives how many, e.g. {1: 13, 5: 62, 10: 124} for 1,231 areas). gini: 0 = even, towards 1
    = all harm in one area. Shares and gini are None when the total is zero (nothing to share out).
    """

    curve: pd.DataFrame
    top_1: float | None
    top_5: float | None
    top_10: float | None
    gini: float | None
    n_areas: int
    total: float
    top_areas: dict[int, int]

    def top_share(self, fraction: float) -> float | None:
        """Share held by the top `fraction` (0-1) of areas, counting whole areas."""
        if self.total <= 0 or self.n_areas == 0:
            return None
        k = _areas_for(fraction, self.n_areas)
        return float(self.curve["value_share"].iloc[k])


def _areas_for(fraction: float, n: int) -> int:
    return int(min(n, max(1, np.ceil(fraction * n - 1e-9))))


def concentration(values: ArrayLike) -> ConcentrationResult:
    """Cumulative share curve, top-1/5/10% shares and Gini coefficient (missing values are dropped)."""
    if isinstance(values, pd.Series):
        s = pd.to_numeric(values, errors="coerce").dropna()
    else:
        s = pd.Series(np.atleast_1d(to_float_array(values))).dropna()
    x = s.to_numpy(dtype=float)
    if np.any(x < 0):
        raise ValueError("concentration needs non-negative values")
    order = np.argsort(-x, kind="stable")
    xs = x[order]
    n = xs.size
    total = float(xs.sum())
    cum = np.cumsum(xs)
    value_share = cum / total if total > 0 else np.zeros(n)
    curve = pd.DataFrame(
        {
            "rank": np.arange(0, n + 1),
            "area": [None, *s.index[order].tolist()],
            "value": np.r_[0.0, xs],
            "area_share": np.r_[0.0, np.arange(1, n + 1) / n] if n else [0.0],
            "value_share": np.r_[0.0, value_share],
        }
    )
    top_areas = {p: _areas_for(p / 100, n) for p in (1, 5, 10)} if n else {1: 0, 5: 0, 10: 0}
    if total <= 0 or n == 0:
        return ConcentrationResult(curve, None, None, None, None, n, total, top_areas)
    asc = xs[::-1]
    ranks = np.arange(1, n + 1)
    gini = float((2 * np.sum(ranks * asc)) / (n * total) - (n + 1) / n)
    shares = {p: float(value_share[k - 1]) for p, k in top_areas.items()}
    return ConcentrationResult(curve, shares[1], shares[5], shares[10], max(gini, 0.0), n, total, top_areas)
