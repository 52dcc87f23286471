"""The LSOA layer of the published cube, for measures with a suppression rule: each LSOA's financial years.

An LSOA's year takes part in one relation only: its district's year is the sum of its LSOAs (and of any records
with no LSOA). So its bounds follow from the district year's own interval (stats.disclosure_layer.protect_parts),
without a programme per LSOA. The other way round, what the LSOAs publish tells a user that a hidden district year
is at least their sum: that floor goes back into the district-level audit, which is repeated until the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vrp.pipeline.cube_table import CubeTable
from vrp.stats.disclosure import Protection, protect
from vrp.stats.disclosure_layer import protect_parts

MAX_PASSES = 6


@dataclass
class Layer:
    cells: pd.DataFrame  # pub_cube rows for the LSOAs
    audit: pd.DataFrame  # pub_cube_audit rows for the hidden LSOAs (and small no-LSOA remainders)
    pinned: int


def protect_family(
    cube: CubeTable, years: dict[str, pd.DataFrame], lsoa_district: dict[str, str], thresholds: dict[str, int]
) -> tuple[Protection, Layer | None]:
    """The family's protection with its LSOA years: ``years`` maps a measure to its LSOA counts by financial year
    (lsoa21_code, period_start, count)."""
    table = cube.table
    if not years:
        return protect(table), None
    floors: dict[int, float] = {}
    for _ in range(MAX_PASSES):
        table.floors = floors or None
        result = protect(table)
        layer, wanted = _layer(cube, result, years, lsoa_district, thresholds)
        if wanted == floors:
            break
        floors = wanted
    else:  # the floors kept moving: count their district years as unprotected rather than publish them
        layer.pinned += len(wanted)
    return result, layer


def _layer(cube, result, years, lsoa_district, thresholds):
    table, meta = cube.table, cube.meta
    at = {key: i for i, key in enumerate(meta.itertuples(index=False, name=None))}
    by_district: dict[str, list[str]] = {}
    for code, district in sorted(lsoa_district.items()):
        by_district.setdefault(district, []).append(code)
    cells, audit, floors, pinned = [], [], {}, 0
    for measure_id, frame in years.items():
        counts = frame.groupby(["lsoa21_code", "period_start"])["count"].sum().to_dict()
        fys = meta[(meta["measure_id"] == measure_id) & (meta["period_type"] == "fy") & (meta["area_level"] == "hips")]
        for start, end in fys[["period_start", "period_end"]].drop_duplicates().itertuples(index=False, name=None):
            for district, lsoas in by_district.items():
                total = at.get((measure_id, "district", district, "all", "fy", start, end))
                if total is None:
                    continue
                values = np.array([counts.get((code, start), 0) for code in lsoas], dtype=float)
                value = float(table.values[total])
                hidden_total = bool(result.hidden[total])
                interval = (result.lower[total], result.upper[total]) if hidden_total else (value, value)
                parts = protect_parts(values, thresholds[measure_id], interval, value - values.sum())
                if hidden_total:
                    floors[total] = parts.published_sum
                key = dict(measure_id=measure_id, area_level="lsoa", age="all", period_type="fy")
                key.update(period_start=start, period_end=end)
                shown = np.where(parts.hidden, np.nan, values)
                cells.append(pd.DataFrame({**key, "area_code": lsoas, "count": shown, "suppressed": parts.hidden}))
                hidden = np.flatnonzero(parts.hidden)
                pinned += int((parts.upper[hidden] - parts.lower[hidden] < 1).sum())
                audit.append(
                    pd.DataFrame(
                        {
                            **key,
                            "area_code": [lsoas[i] for i in hidden],
                            "value": values[hidden].astype(int),
                            "reason": np.where(parts.primary[hidden], "small", "protects"),
                            "published": True,
                            "lower": parts.lower[hidden],
                            "upper": parts.upper[hidden],
                        }
                    )
                )
    frame = pd.concat(cells, ignore_index=True) if cells else pd.DataFrame()
    if len(frame):
        frame["count"] = frame["count"].astype("Int64")
        frame["incomplete"] = False
    audit_frame = pd.concat(audit, ignore_index=True) if audit else pd.DataFrame()
    return Layer(frame, audit_frame, pinned), floors
