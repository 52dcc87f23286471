"""`vrp mapping check`: a mapping checked against a file, and the file's first rows as they will load.

Nothing is written: the rows go through the mapping's conversion and the contract's checks (which read the
warehouse's reference data) exactly as `vrp ingest` would, and are shown with what each check found.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vrp.pipeline.mapping import open_stream, read_mapping
from vrp.pipeline.sources import SPECS


def preview(mapping_path: Path, path: Path, rows: int, wh, reference_dir: Path) -> list[str]:
    """Lines to print. ``wh`` is a Warehouse for the checks, or None to show the converted text unchecked.
    A broken mapping or an unusable file raises FileRefused (MappingError) with one line, as `vrp ingest` does."""
    mapping = read_mapping(mapping_path)
    spec = SPECS[mapping.source]
    stream = open_stream(path, spec, mapping)
    where = f"{path.name}, sheet '{stream.sheet_name}'" if hasattr(stream, "sheet_name") else path.name
    found = ", ".join(f"{c} <- '{mapping.columns.get(c, c)}'" for c in stream.positions)
    lines = [
        f"{mapping.name}: OK for {mapping.source.replace('_', '-')}; {where}: {found}",
    ]
    chunk = next(iter(stream.chunks(rows)), None)
    if chunk is None or chunk.rows.empty:
        return [*lines, "(the file has no rows after its header)"]
    given = chunk.rows.head(rows)
    converted = mapping.convert(given)
    if wh is None:
        shown = converted.drop(columns=["_raw", "_line"])
    else:
        from vrp.pipeline.load import context_for

        with wh.engine.connect() as conn:
            ctx = context_for(conn, reference_dir)
        prepared = spec.prepare(converted, ctx)
        shown = prepared.frame.copy()
        shown["check"] = mapping.explain(prepared.reasons).replace("", "ok")
    shown.insert(0, "line", given["_line"])
    lines.append(f"first {len(shown)} rows as they will load (nothing loaded):")
    with pd.option_context("display.width", 10_000, "display.max_columns", None, "display.max_colwidth", 80):
        lines += shown.to_string(index=False).splitlines()
    return lines
