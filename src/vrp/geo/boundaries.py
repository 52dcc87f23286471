"""Boundaries from the reference folder, and placing points in 2021 LSOAs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from shapely.strtree import STRtree

LSOA21_FILE = "geography/lsoa21_hips.geojson"
LSOA21_SIMPLIFIED_FILE = "geography/lsoa21_hips_simplified.geojson"
LAD_FILE = "geography/lad_hips.geojson"


def read_features(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)["features"]


@dataclass(frozen=True)
class LsoaIndex:
    """2021 LSOA polygons in an STRtree, for assigning points to areas."""

    codes: np.ndarray  # LSOA21CD, aligned with geometries
    districts: np.ndarray  # LADCD
    geometries: np.ndarray
    tree: STRtree
    hips: shapely.Geometry  # union of all, for "is this point anywhere in HIPS"

    def assign(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the LSOA containing each point, -1 where none does (outside HIPS or no coordinates)."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        out = np.full(lon.shape[0], -1, dtype=np.int64)
        ok = np.isfinite(lon) & np.isfinite(lat)
        if not ok.any():
            return out
        points = shapely.points(lon[ok], lat[ok])
        # "intersects" rather than "within" so a point on a shared edge still lands in one area.
        point_idx, poly_idx = self.tree.query(points, predicate="intersects")
        # Where a point touches two areas, keep the first match for a stable answer.
        first = np.unique(point_idx, return_index=True)[1]
        hit = np.full(points.shape[0], -1, dtype=np.int64)
        hit[point_idx[first]] = poly_idx[first]
        out[np.flatnonzero(ok)] = hit
        return out


def load_lsoa_index(reference_dir: Path) -> LsoaIndex:
    return _load_lsoa_index(str(Path(reference_dir).resolve()))


@lru_cache(maxsize=2)
def _load_lsoa_index(reference_dir: str) -> LsoaIndex:
    features = read_features(Path(reference_dir) / LSOA21_FILE)
    codes = np.array([f["properties"]["LSOA21CD"] for f in features])
    districts = np.array([f["properties"]["LADCD"] for f in features])
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in features], dtype=object)
    shapely.prepare(geoms)
    return LsoaIndex(
        codes=codes, districts=districts, geometries=geoms, tree=STRtree(geoms), hips=shapely.union_all(geoms)
    )
