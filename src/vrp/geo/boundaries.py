"""Boundaries from the reference folder, and placing points in 2021 LSOAs."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from shapely.strtree import STRtree

log = logging.getLogger(__name__)

LSOA21_FILE = "geography/lsoa21_hips.geojson"
LSOA21_SIMPLIFIED_FILE = "geography/lsoa21_hips_simplified.geojson"
LAD_FILE = "geography/lad_hips.geojson"

# GEOS prepared geometries and STRtree queries are not safe to share between threads (a concurrent query aborted
# the process under the threaded test server), and the first load must happen once: one lock for all of it.
GEOMETRY_LOCK = threading.RLock()


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
        with GEOMETRY_LOCK:
            point_idx, poly_idx = self.tree.query(points, predicate="intersects")
        # Where a point touches two areas, keep the first match for a stable answer.
        first = np.unique(point_idx, return_index=True)[1]
        hit = np.full(points.shape[0], -1, dtype=np.int64)
        hit[point_idx[first]] = poly_idx[first]
        out[np.flatnonzero(ok)] = hit
        return out


def load_lsoa_index(reference_dir: Path) -> LsoaIndex:
    with GEOMETRY_LOCK:
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


@dataclass(frozen=True)
class Topology:
    """What the pages need from the full-resolution LSOA polygons, without loading them: queen contiguity (shared
    boundary point) by code, and each district's (min lon, min lat, max lon, max lat) for zooming the map."""

    neighbours: dict[str, list[str]]
    district_bounds: dict[str, tuple[float, float, float, float]]


TOPOLOGY_FORMAT = 1  # raise when what is stored, or how it is computed, changes: older files are then ignored


def lsoa_topology(reference_dir: Path, build_dir: Path) -> Topology:
    """Computed once from the reference polygons (about a second) into the build folder, then read from there
    (milliseconds), so no worker's first request pays for loading every polygon. A changed reference file gives a
    new file name, so the stored topology always matches the polygons."""
    reference_dir = Path(reference_dir).resolve()
    stat = (reference_dir / LSOA21_FILE).stat()
    with GEOMETRY_LOCK:
        return _lsoa_topology(str(reference_dir), str(Path(build_dir).resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=2)
def _lsoa_topology(reference_dir: str, build_dir: str, size: int, mtime_ns: int) -> Topology:
    out = Path(build_dir) / "geo" / f"lsoa21-topology-v{TOPOLOGY_FORMAT}-{size}-{mtime_ns}.json"
    try:
        stored = json.loads(out.read_text(encoding="utf-8"))
        return Topology(stored["neighbours"], {k: tuple(v) for k, v in stored["district_bounds"].items()})
    except FileNotFoundError:
        pass
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("%s is unreadable: computing the topology again", out)
    topology = _compute_topology(_load_lsoa_index(reference_dir))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f"{out.name}.{os.getpid()}-{threading.get_ident()}.tmp")  # two workers may build at once
        tmp.write_text(
            json.dumps({"neighbours": topology.neighbours, "district_bounds": topology.district_bounds}),
            encoding="utf-8",
        )
        tmp.replace(out)
    except OSError:  # a read-only build folder costs the next process a second, not this request
        log.warning("could not store the topology in %s", out.parent, exc_info=True)
    return topology


def _compute_topology(index: LsoaIndex) -> Topology:
    from vrp.geo.neighbours import queen_neighbours

    lists = queen_neighbours(index.geometries)
    neighbours = {str(code): [str(index.codes[j]) for j in nbrs] for code, nbrs in zip(index.codes, lists, strict=True)}
    bounds = {}
    for district in np.unique(index.districts):
        geoms = index.geometries[index.districts == district]
        bounds[str(district)] = tuple(float(v) for v in shapely.total_bounds(geoms))
    return Topology(neighbours, bounds)
