"""Harm by deprivation: rates by IMD 2019 decile of the LSOA, and the share of harm in the most deprived fifth.

Pure functions of a frame of LSOA counts (a hidden count is NaN). With every count known (partners) the figures
are exact; with hidden LSOAs (the public's published cells) each decile's count is the sum of its published LSOAs,
a lower bound, and the most deprived fifth's share is given as a range: its published LSOAs alone at the bottom,
and with the whole of the area's total that the published LSOAs leave unexplained at the top
(docs/METHODS.md#hotspots: the same published-cells-only rule as the concentration curve).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vrp.stats.rates import proportion_ci, rate_ci

MOST_DEPRIVED_FIFTH = (1, 2)  # IMD deciles 1 and 2: the most deprived 20% of LSOAs in England


def by_decile(lsoas: pd.DataFrame, per: float = 1000.0, years: float = 1.0) -> pd.DataFrame:
    """One row per IMD decile 1-10 (1 = most deprived): lsoas, hidden_lsoas, count (sum of the known counts),
    population, rate per ``per`` residents a year with its 95% interval, and ``complete`` (no LSOA hidden: the
    count is exact, else it is a lower bound). ``lsoas`` has imd_decile, count (NaN where hidden), population."""
    frame = lsoas.assign(
        known=lsoas["count"].astype(float).fillna(0.0),
        hidden=lsoas["count"].isna(),
        population=lsoas["population"].astype(float).fillna(0.0),
    )
    grouped = frame.groupby("imd_decile").agg(
        lsoas=("known", "size"),
        hidden_lsoas=("hidden", "sum"),
        count=("known", "sum"),
        population=("population", "sum"),
    )
    out = grouped.reindex(range(1, 11), fill_value=0).rename_axis("imd_decile").reset_index()
    out["count"] = out["count"].round().astype(int)
    out["hidden_lsoas"] = out["hidden_lsoas"].astype(int)
    out["complete"] = out["hidden_lsoas"] == 0
    exposure = out["population"].to_numpy(dtype=float) * years
    has_people = exposure > 0
    rate, lower, upper = rate_ci(out["count"].to_numpy(), np.where(has_people, exposure, 1.0), per=per)
    out["rate"] = np.where(has_people, rate, np.nan)
    out["lower"] = np.where(has_people, lower, np.nan)
    out["upper"] = np.where(has_people, upper, np.nan)
    return out


def deprived_fifth_share(deciles: pd.DataFrame, total: float | None) -> dict:
    """The share of the area's ``total`` in deciles 1-2: ``share`` (exact, with a Wilson 95% interval) when no
    LSOA is hidden; otherwise ``low`` (the fifth's published LSOAs) and ``high`` (plus everything the published
    LSOAs leave of the total). Also the fifth's share of the population. None values when the total is unknown."""
    fifth = deciles[deciles["imd_decile"].isin(MOST_DEPRIVED_FIFTH)]
    people = float(deciles["population"].sum())
    out = {
        "population_share": float(fifth["population"].sum()) / people if people else None,
        "share": None,
        "lower": None,
        "upper": None,
        "low": None,
        "high": None,
        "count": int(fifth["count"].sum()),
        "exact": bool(deciles["complete"].all()),
    }
    if not total:
        return out
    known = float(deciles["count"].sum())
    if out["exact"]:
        share = out["count"] / float(total)
        _, lo, hi = proportion_ci(out["count"], int(total))
        return {**out, "share": share, "lower": float(lo), "upper": float(hi), "low": share, "high": share}
    unexplained = max(float(total) - known, 0.0)
    low = out["count"] / float(total)
    return {**out, "low": low, "high": min((out["count"] + unexplained) / float(total), 1.0)}
