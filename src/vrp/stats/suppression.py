"""Small-number suppression with secondary suppression, so nothing that reaches the public lets a reader
identify, or work back to, a small count of people."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DEFAULT_MARKER = "*"


@dataclass
class SuppressionResult:
    """The publishable table plus an audit of what was hidden and why.

    `table`: a copy of the input where hidden cells of `value_col` hold the marker (object dtype).
    `hidden`: one row per hidden cell with columns row (index label in the input), rule ("primary" or
    "secondary") and reason. `mask`: boolean Series, True where hidden. `unprotected`: index labels of hidden
    cells that no further cell suppression can protect (a group of one cell, or zeros that give a chain
    away): the totals that reveal them must be suppressed too. Empty in the usual case.
    """

    table: pd.DataFrame
    hidden: pd.DataFrame
    mask: pd.Series
    unprotected: list = field(default_factory=list)


def _normalise_specs(secondary_by: str | Sequence[str | Sequence[str]] | None) -> list[list[str]]:
    if secondary_by is None:
        return []
    if isinstance(secondary_by, str):
        return [[secondary_by]]
    specs = []
    for spec in secondary_by:
        specs.append([spec] if isinstance(spec, str) else list(spec))
    return specs


def group_codes(table: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """0..k-1 for the k distinct combinations of ``columns`` (missing values a group of their own): what
    ``groupby(...).ngroup()`` gives, without its overhead (this runs several times per chart)."""
    combined = np.zeros(len(table), dtype=np.int64)
    for col in columns:
        codes, uniques = pd.factorize(table[col], use_na_sentinel=False)
        combined = combined * (len(uniques) + 1) + codes
    return pd.factorize(combined)[0]


def _thresholds(table: pd.DataFrame, threshold: int | Mapping[str, int], measure_col: str | None) -> np.ndarray:
    if isinstance(threshold, Mapping):
        if measure_col is None:
            raise ValueError("per-measure thresholds need measure_col")
        default = threshold.get("default")
        thr = table[measure_col].map(lambda m: threshold.get(m, default))
        if thr.isna().any():
            missing = sorted(set(table.loc[thr.isna(), measure_col].astype(str)))
            raise ValueError(f"no suppression threshold configured for measures: {missing}")
        return thr.to_numpy(dtype=float)
    return np.full(len(table), float(threshold))


def suppress(
    table: pd.DataFrame,
    value_col: str,
    threshold: int | Mapping[str, int],
    secondary_by: str | Sequence[str | Sequence[str]] | None = None,
    *,
    measure_col: str | None = None,
    suppress_zero: bool = False,
    hide_small_groups: bool = False,
    marker: str = DEFAULT_MARKER,
) -> SuppressionResult:
    """Hide counts from 1 up to (not including) `threshold`, then hide further cells so that no hidden count
    can be worked out from the group totals that will be published.

    `threshold` is the smallest count that may be shown (8, the NHS hospital rule in config/measures.toml,
    hides 1-7); a mapping gives one per value of `measure_col` (key "default" as fallback). Zero is shown
    unless `suppress_zero`.
    `secondary_by` names the totals that are published: "district" (one total per district), or a list of
    such specs, each a column or a list of columns, e.g. ["district", "month"] for both margins of a
    district x month table. Groups always lie within a measure when `measure_col` is given.
    Secondary cells are the smallest non-zero visible cells in the exposed group (zero only if nothing else
    is left). Protection is audited, not just "no lone hidden cell in a group": a hidden cell is exposed when
    the published totals determine it exactly (linear algebra), or do so once counts are known to be >= 0
    (zero-sum groups; linear programming when hidden zeros are involved). Suppression repeats until no hidden
    cell is exposed or none can be protected by hiding more cells (see `unprotected`).
    Missing values are left as they are and never chosen for secondary suppression.
    With `hide_small_groups`, every cell of a published group whose total is itself below the threshold, or
    whose non-zero cells are all below it, is hidden from the start: the non-zero cells are hidden anyway, and
    showing the zeros would say where the few are. (Left to the audit, the same cells are hidden one at a
    time, each step a full audit: dozens of steps for a sparse monthly series.)
    """
    if value_col not in table.columns:
        raise KeyError(value_col)
    specs = _normalise_specs(secondary_by)
    if measure_col is not None:
        specs = [list(dict.fromkeys([measure_col, *s])) for s in specs]
    for spec in specs:
        for col in spec:
            if col not in table.columns:
                raise KeyError(col)
    values = pd.to_numeric(table[value_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if np.any(values < 0):
        raise ValueError("counts must not be negative")
    thr = _thresholds(table, threshold, measure_col)
    known = ~np.isnan(values)
    lowest = 0 if suppress_zero else 1
    primary = known & (values >= lowest) & (values < thr)
    hidden = primary.copy()
    reasons: dict[int, tuple[str, str]] = {
        int(i): ("primary", f"count below {thr[i]:g}") for i in np.flatnonzero(primary)
    }

    # group codes per spec (positional), computed once
    codes = [group_codes(table, spec) for spec in specs]
    if hide_small_groups:
        for spec, code in zip(specs, codes, strict=True):
            sums = np.bincount(code, weights=np.where(known, values, 0.0))
            limits = np.zeros(sums.size)
            np.maximum.at(limits, code, thr)
            small = np.flatnonzero((sums > 0) & (sums < limits))
            # Groups where every non-zero cell is small: only their zeros would show, which says where the few
            # are; the audit would hide them one by one anyway.
            shown_nonzero = np.bincount(code, weights=(known & ~primary & (values > 0)).astype(float))
            any_primary = np.bincount(code, weights=primary.astype(float))
            all_small = np.flatnonzero((shown_nonzero == 0) & (any_primary > 0))
            for i in np.flatnonzero(np.isin(code, small) & known & ~hidden):
                hidden[i] = True
                reasons[int(i)] = (
                    "primary",
                    f"in a group ({', '.join(spec)}) whose published total is below {thr[i]:g}",
                )
            for i in np.flatnonzero(np.isin(code, all_small) & known & ~hidden):
                hidden[i] = True
                reasons[int(i)] = ("primary", f"in a group ({', '.join(spec)}) whose every non-zero count is hidden")

    def group_label(spec_i: int, row: int) -> str:  # for the reason text only, so built when needed
        return ", ".join(str(v) for v in table.iloc[row][specs[spec_i]])

    def hide_smallest_visible(spec_i: int, group: int, because: int) -> bool:
        members = np.flatnonzero((codes[spec_i] == group) & known & ~hidden)
        if members.size == 0:
            return False
        vals = values[members]
        positive = members[vals > 0]
        pool = positive if positive.size else members
        choice = int(pool[np.argmin(values[pool])])
        hidden[choice] = True
        label = ", ".join(specs[spec_i])
        reasons[choice] = (
            "secondary",
            f"protects row {table.index[because]!r} from the published total for {label} = "
            f"{group_label(spec_i, choice)}",
        )
        return True

    unprotected: list = []
    if specs:
        for _ in range(len(values) + 1):
            # fast pass: any published group with exactly one hidden cell
            changed = False
            for si, code in enumerate(codes):
                hidden_codes = code[hidden]
                if hidden_codes.size == 0:
                    continue
                counts = np.bincount(hidden_codes, minlength=code.max() + 1)
                for g in np.flatnonzero(counts == 1):
                    lone = int(np.flatnonzero(hidden & (code == g))[0])
                    changed |= hide_smallest_visible(si, int(g), lone)
            if changed:
                continue
            exposed = _exposed_cells(hidden, codes, values)
            fixable = False
            for j in exposed:
                options = []
                for si, code in enumerate(codes):
                    members = np.flatnonzero((code == code[j]) & known & ~hidden)
                    if members.size:
                        options.append((float(values[members].min()), si, int(code[j])))
                if options:
                    _, si, g = min(options)
                    hide_smallest_visible(si, g, j)
                    fixable = True
                    break
            if not fixable:
                unprotected = [table.index[j] for j in exposed]
                break

    out = table.copy()
    col = out[value_col].astype(object)
    col[hidden] = marker
    out[value_col] = col
    order = sorted(reasons)
    hidden_frame = pd.DataFrame(
        {
            "row": [table.index[i] for i in order],
            "rule": [reasons[i][0] for i in order],
            "reason": [reasons[i][1] for i in order],
        }
    )
    mask = pd.Series(hidden, index=table.index, name="suppressed")
    return SuppressionResult(out, hidden_frame, mask, unprotected)


def _exposed_cells(hidden: np.ndarray, codes: list[np.ndarray], values: np.ndarray) -> list[int]:
    """Hidden cells whose exact value follows from the published group totals.

    Two ways to work a cell out, applied until nothing new is learnt: (1) linear algebra - each published
    total is one equation in the hidden cells, and a cell is determined when its unit vector lies in the
    row space (it has no weight in the null space); (2) counts cannot be negative, so hidden cells in a
    group whose hidden part sums to zero must all be zero; (3) when some hidden cells are zero, the same
    bound can pin a cell through a chain of totals, found by linear programming. Cells learnt become known.
    """
    vals = np.nan_to_num(values, nan=0.0)
    unknown = hidden.copy()
    exposed: set[int] = set()
    while True:
        learnt: set[int] = set()
        for code in codes:  # (2) non-negativity
            hc = code[unknown]
            if hc.size == 0:
                continue
            sums = np.bincount(hc, weights=vals[unknown], minlength=code.max() + 1)
            zero_groups = np.flatnonzero((sums == 0) & (np.bincount(hc, minlength=code.max() + 1) > 0))
            if zero_groups.size:
                learnt.update(int(i) for i in np.flatnonzero(unknown & np.isin(code, zero_groups)))
        idx = np.flatnonzero(unknown)
        if idx.size and not learnt:  # (1) linear algebra on what is still unknown
            rows = []
            for code in codes:
                uniq, inv = np.unique(code[idx], return_inverse=True)
                block = np.zeros((uniq.size, idx.size))
                block[inv, np.arange(idx.size)] = 1.0
                rows.append(block)
            a = np.vstack(rows)
            _, s, vt = np.linalg.svd(a, full_matrices=True)
            rank = int(np.sum(s > 1e-9 * max(1.0, float(s.max()) if s.size else 1.0)))
            null = vt[rank:].T
            weight = np.linalg.norm(null, axis=1) if null.shape[1] else np.zeros(idx.size)
            learnt.update(int(i) for i in idx[weight < 1e-8])
            if not learnt and np.any(vals[idx] == 0):
                learnt.update(int(idx[j]) for j in _pinned_by_bounds(a, vals[idx] == 0))
        if not learnt:
            return sorted(exposed)
        exposed |= learnt
        unknown[list(learnt)] = False


def _pinned_by_bounds(a: np.ndarray, at_zero: np.ndarray) -> list[int]:
    """Cells that cannot move in any direction that keeps the published totals and every count >= 0.

    From the true values, a feasible move d satisfies A d = 0, with d >= 0 for cells that are zero (the
    others can move either way); by convexity a cell whose every feasible move leaves it unchanged has a single
    possible value. The moves form a cone, so the sum of one move per movable zero cell (each scaled to at most
    1 in every cell) raises all of them at once by at least 1 while staying within m = number of cells. One
    linear programme therefore finds every zero cell that can rise: maximise the sum of t_j <= min(d_j, 1).
    The zero cells that cannot rise are fixed; the moves left span exactly the subspace A d = 0 with those cells
    at 0 (a move raising every movable zero cell lies inside the cone), and a cell is pinned when that subspace
    gives it no weight.
    """
    from scipy.linalg import null_space
    from scipy.optimize import linprog

    m = a.shape[1]
    zero = np.flatnonzero(at_zero)
    stuck = np.zeros(m, dtype=bool)
    if zero.size:
        # variables: d (m), then t (one per zero cell); maximise sum(t) with t_j <= d_j, A d = 0
        k = zero.size
        c = np.concatenate([np.zeros(m), -np.ones(k)])
        a_eq = np.hstack([a, np.zeros((a.shape[0], k))])
        a_ub = np.zeros((k, m + k))
        a_ub[np.arange(k), zero] = -1.0
        a_ub[np.arange(k), m + np.arange(k)] = 1.0
        bounds = [(0.0, float(m)) if z else (-float(m), float(m)) for z in at_zero] + [(0.0, 1.0)] * k
        res = linprog(
            c, A_ub=a_ub, b_ub=np.zeros(k), A_eq=a_eq, b_eq=np.zeros(a.shape[0]), bounds=bounds, method="highs"
        )
        if res.status != 0:  # d = 0 is always feasible, so only a solver failure gets here: fail closed,
            return list(range(m))  # every cell counts as exposed and the caller hides more
        stuck[zero[res.x[m:] < 0.5]] = True
    free = np.flatnonzero(~stuck)
    pinned = set(np.flatnonzero(stuck).tolist())
    if free.size:
        basis = null_space(a[:, free])
        weight = np.linalg.norm(basis, axis=1) if basis.shape[1] else np.zeros(free.size)
        pinned.update(int(free[j]) for j in np.flatnonzero(weight < 1e-8))
    return sorted(pinned)


def is_recoverable(table: pd.DataFrame, mask: pd.Series, secondary_by: str | Sequence, value_col: str) -> list:
    """Index labels of hidden cells that can be worked out exactly from the published totals: the independent
    check the tests apply to every suppressed view (tests/stats, tests/test_queries.py)."""
    specs = _normalise_specs(secondary_by)
    codes = [group_codes(table, spec) for spec in specs]
    values = pd.to_numeric(table[value_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return [table.index[j] for j in _exposed_cells(mask.to_numpy(dtype=bool), codes, values)]
