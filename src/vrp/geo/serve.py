"""Boundaries for the browser: generated once into the build folder (simplified, ids only, 5 decimal places) and
served by the app with caching headers, so geometry crosses the network once and figures carry only ids and
values."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

from vrp.geo.boundaries import LSOA21_SIMPLIFIED_FILE, read_features

LAYERS = {
    # name: (reference file, property holding the id, coverage-simplification tolerance in degrees or None)
    "lsoa21": (LSOA21_SIMPLIFIED_FILE, "LSOA21CD", None),
    # For the whole-of-HIPS view: 0.002 degrees is under a pixel at that zoom, and 62% fewer vertices draw about
    # a second sooner in software WebGL (docs/PERFORMANCE.md). Neighbours keep their shared edges.
    "lsoa21-overview": (LSOA21_SIMPLIFIED_FILE, "LSOA21CD", 0.002),
    "districts": ("geography/lad_hips_simplified.geojson", "LADCD", None),
}


def _round(coords, places: int = 5):
    if isinstance(coords[0], (int, float)):
        return [round(c, places) for c in coords]
    return [_round(c, places) for c in coords]


def build_layer(reference_dir: Path, build_dir: Path, name: str) -> Path:
    """The browser's copy of a layer, rebuilt when the reference file changes. Returns its path."""
    source_file, id_prop, tolerance = LAYERS[name]
    source = Path(reference_dir) / source_file
    stamp = hashlib.sha256(f"{source.stat().st_size}-{source.stat().st_mtime_ns}-{tolerance}".encode()).hexdigest()[:12]
    out_dir = Path(build_dir) / "geo"
    out = out_dir / f"{name}-{stamp}.geojson"
    if out.exists():
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    source_features = read_features(source)
    geometries = [f["geometry"] for f in source_features]
    if tolerance:
        simplified = shapely.coverage_simplify([shape(g) for g in geometries], tolerance)
        geometries = [mapping(g) for g in simplified]
    features = [
        {
            "type": "Feature",
            "id": f["properties"][id_prop],
            "properties": {},
            "geometry": {"type": g["type"], "coordinates": _round(g["coordinates"])},
        }
        for f, g in zip(source_features, geometries, strict=True)
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")).encode()
    for path, data in ((out.with_name(out.name + ".gz"), gzip.compress(body, 9)), (out, body)):
        tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")  # two workers may build at once
        tmp.write_bytes(data)
        tmp.replace(path)  # the plain file last: its presence means both are complete
    return out
