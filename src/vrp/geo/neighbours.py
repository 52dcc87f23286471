"""Spatial neighbours for hotspot statistics, built with a shapely STRtree so ~1,200 LSOAs take
milliseconds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry


def queen_neighbours(geometries: Sequence[BaseGeometry] | np.ndarray, tolerance: float = 0.0) -> list[list[int]]:
    """Queen contiguity: for each area, the positions of the other areas sharing at least one boundary point.

    Returned lists are sorted and never include the area itself, the form `vrp.stats.gi_star` expects.
    Overlapping polygons also count as neighbours. `tolerance` (in the geometries' units) also joins areas
    closer than that, for boundaries simplified without a shared topology; 0 means touching exactly.
    Missing or empty geometries get no neighbours.
    """
    geoms = np.asarray(list(geometries), dtype=object)
    n = geoms.size
    if n == 0:
        return []
    valid = np.array([g is not None and not shapely.is_empty(g) for g in geoms])
    safe = np.where(valid, geoms, shapely.Point())
    tree = STRtree(safe)
    if tolerance > 0:
        left, right = tree.query(safe, predicate="dwithin", distance=tolerance)
    else:
        left, right = tree.query(safe, predicate="intersects")
    keep = (left != right) & valid[left] & valid[right]
    left, right = left[keep], right[keep]
    # make symmetric and unique (intersects is symmetric, but be safe with invalid geometries)
    pairs = np.unique(np.concatenate([np.stack([left, right], 1), np.stack([right, left], 1)]), axis=0)
    out: list[list[int]] = [[] for _ in range(n)]
    if pairs.size:
        starts = np.searchsorted(pairs[:, 0], np.arange(n + 1))
        for i in range(n):
            out[i] = pairs[starts[i] : starts[i + 1], 1].tolist()
    return out
