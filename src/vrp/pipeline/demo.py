"""``vrp build-demo``: a complete demonstration warehouse from the reference folder plus synthetic partner data.

The real parts (reference geography, police.uk months, the ONS knife series) load as real; the synthetic partner
extracts are written as CSV files and loaded through the same ingest code a real extract uses.
A DuckDB warehouse is built in a new file and swapped in at the end, so readers never see a half-built one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from tqdm import tqdm

from vrp.data_access import tables as t
from vrp.data_access.engine import duckdb_path, make_engine, normalise_url, set_meta
from vrp.data_access.measures import load_registry
from vrp.geo.boundaries import load_lsoa_index
from vrp.pipeline import synthetic
from vrp.pipeline.load import LoadResult, load_files
from vrp.pipeline.marts import rebuild_marts
from vrp.pipeline.warehouse import init_warehouse
from vrp.settings import Settings

ONS_KNIFE_FILE = "national/knife_offences_by_force_quarterly_2008_2019.csv"
VIOLENT_TYPES = ("Violence and sexual offences", "Public order", "Robbery", "Possession of weapons")


@dataclass
class DemoOptions:
    seed: int = 2024
    scale: float = 1.0
    start: date = synthetic.DEFAULT_START
    end: date = synthetic.DEFAULT_END


def police_uk_months(reference_dir: Path) -> list[Path]:
    """The full months in the reference folder (the 100-row sample is a format fixture, not a month)."""
    return sorted(p for p in (reference_dir / "police_uk").glob("*-street*.csv") if "sample" not in p.name)


def build_demo(settings: Settings, url: str, options: DemoOptions, *, progress: bool = True) -> list[LoadResult]:
    url = normalise_url(url)
    final = duckdb_path(url)
    building = final.with_name(final.name + ".building") if final else None
    if building is not None:
        building.unlink(missing_ok=True)
        engine = make_engine(f"duckdb:///{building}")
    else:
        engine = make_engine(url)
        t.metadata.drop_all(engine)  # a demo build replaces whatever demo was there
    registry = load_registry(settings.measures_file)
    ref = settings.reference_dir
    results: list[LoadResult] = []
    steps = tqdm(total=6, desc="build-demo", unit="step", disable=not progress)
    try:
        steps.set_postfix_str("reference data")
        init_warehouse(engine, settings)
        steps.update()

        steps.set_postfix_str("police.uk months")
        results += load_files(engine, "police_uk", police_uk_months(ref), reference_dir=ref, rebuild=False)
        steps.update()

        steps.set_postfix_str("synthetic extracts")
        index = load_lsoa_index(ref)
        with engine.connect() as conn:
            area = pd.read_sql(sa.select(t.dim_area), conn)
            pop = pd.read_sql(
                sa.select(t.mart_population.c.area_code, t.mart_population.c.population).where(
                    t.mart_population.c.geography_level == "lsoa", t.mart_population.c.age_group == "all"
                ),
                conn,
            )
            points = pd.read_sql(
                sa.select(
                    t.fact_police_uk.c.lsoa21_code, t.fact_police_uk.c.longitude, t.fact_police_uk.c.latitude
                ).where(
                    t.fact_police_uk.c.crime_type.in_(VIOLENT_TYPES),
                    t.fact_police_uk.c.out_of_area.is_(False),
                ),
                conn,
            )
        rng = __import__("numpy").random.default_rng(options.seed)
        model = synthetic.spatial_model(index, area, pop.set_index("area_code")["population"], points, rng)
        files = synthetic.write_extracts(
            settings.build_dir / "demo-extracts",
            model,
            index,
            seed=options.seed,
            scale=options.scale,
            start=options.start,
            end=options.end,
        )
        steps.update()

        for source, path in tqdm(
            files.items(), desc="loading extracts", unit="file", disable=not progress, leave=False
        ):
            results += load_files(
                engine,
                source,
                [path],
                reference_dir=ref,
                synthetic=True,
                rebuild=False,
                period_end=options.end,
            )
        steps.set_postfix_str("ONS knife series")
        steps.update()
        results += load_files(engine, "ons_knife", [ref / ONS_KNIFE_FILE], reference_dir=ref, rebuild=False)
        steps.update()

        steps.set_postfix_str("marts")
        with engine.begin() as conn:
            rebuild_marts(conn, registry, settings.sources_file, settings.public_min_count)
            set_meta(
                conn,
                "demo",
                f"seed={options.seed} scale={options.scale:g} period={options.start:%Y-%m}..{options.end:%Y-%m}",
            )
        steps.update()
    except BaseException:
        engine.dispose()
        if building is not None:
            building.unlink(missing_ok=True)
        raise
    finally:
        steps.close()
    engine.dispose()
    if building is not None:
        os.replace(building, final)  # atomic on one filesystem: readers see the old file or the new one
    return results
