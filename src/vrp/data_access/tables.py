"""The warehouse schema, declared in code (duckdb-engine cannot reflect tables).

The same definitions serve DuckDB (embedded default) and PostgreSQL (production).
Naming: ``dim_*`` reference dimensions, ``fact_*`` one table per source as loaded,
``mart_*`` curated tables every chart reads, the rest is bookkeeping.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# Where the app keeps its own facts: data version (bumped by every load), build time, schema version.
meta_info = sa.Table(
    "meta_info",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

dim_district = sa.Table(
    "dim_district",
    metadata,
    sa.Column("district_code", sa.String(9), primary_key=True),
    sa.Column("district_name", sa.Text, nullable=False),
)

dim_area = sa.Table(
    "dim_area",
    metadata,
    sa.Column("lsoa21_code", sa.String(9), primary_key=True),
    sa.Column("lsoa21_name", sa.Text, nullable=False),
    sa.Column("lsoa11_code", sa.String(9), nullable=False),
    sa.Column("change", sa.String(16), nullable=False),
    sa.Column("district_code", sa.String(9), nullable=False),
    sa.Column("imd_decile", sa.SmallInteger, nullable=False),
    sa.Column("imd_rank", sa.Integer, nullable=False),
    sa.Column("census_population", sa.Integer, nullable=False),
)

# Base age bands per LSOA, raked to the mid-2023 district estimates (see pipeline/reference.py).
dim_population = sa.Table(
    "dim_population",
    metadata,
    sa.Column("lsoa21_code", sa.String(9), primary_key=True),
    sa.Column("age_band", sa.String(8), primary_key=True),
    sa.Column("population", sa.Float, nullable=False),
)

dim_month = sa.Table(
    "dim_month",
    metadata,
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("month_label", sa.String(7), nullable=False),
    sa.Column("calendar_year", sa.SmallInteger, nullable=False),
    sa.Column("financial_year", sa.String(7), nullable=False),
    sa.Column("fy_quarter", sa.SmallInteger, nullable=False),
)

dim_offence = sa.Table(
    "dim_offence",
    metadata,
    sa.Column("ho_offence_code", sa.String(8), primary_key=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("offence_group", sa.Text, nullable=False),
    sa.Column("offence_subgroup", sa.Text, nullable=False),
    sa.Column("local_code", sa.Boolean, nullable=False),
)

dim_measure = sa.Table(
    "dim_measure",
    metadata,
    sa.Column("measure_id", sa.String(64), primary_key=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("unit", sa.String(32), nullable=False),
    sa.Column("denominator", sa.String(16), nullable=False),
    sa.Column("polarity", sa.String(24), nullable=False),
    sa.Column("geography_levels", sa.Text, nullable=False),
    sa.Column("time_grain", sa.String(16), nullable=False),
    sa.Column("suppress_below", sa.Integer, nullable=False),
    sa.Column("filter_json", sa.Text, nullable=False),
)

# ---- facts, one per source -------------------------------------------------------------------------

fact_police_uk = sa.Table(
    "fact_police_uk",
    metadata,
    # Crime ID where police.uk gives one; for ASB rows (no ID) a hash of the row's content.
    sa.Column("crime_key", sa.String(80), primary_key=True),
    sa.Column("crime_id", sa.String(80)),
    sa.Column("month", sa.Date, nullable=False),
    sa.Column("reported_by", sa.Text),
    sa.Column("falls_within", sa.Text),
    sa.Column("longitude", sa.Float),
    sa.Column("latitude", sa.Float),
    sa.Column("location", sa.Text),
    sa.Column("published_lsoa_code", sa.String(9)),
    sa.Column("lsoa21_code", sa.String(9)),
    sa.Column("district_code", sa.String(9)),
    sa.Column("out_of_area", sa.Boolean, nullable=False),
    sa.Column("crime_type", sa.Text, nullable=False),
    sa.Column("last_outcome", sa.Text),
    sa.Column("context", sa.Text),
    sa.Column("load_id", sa.Integer, nullable=False),
)

fact_police_records = sa.Table(
    "fact_police_records",
    metadata,
    sa.Column("crime_reference", sa.String(64), primary_key=True),
    sa.Column("recorded_date", sa.Date, nullable=False),
    sa.Column("recorded_month", sa.Date, nullable=False),
    sa.Column("occurred_at", sa.DateTime),
    sa.Column("ho_offence_code", sa.String(8), nullable=False),
    sa.Column("knife_flag", sa.Boolean, nullable=False),
    sa.Column("victim_age", sa.SmallInteger),
    sa.Column("age_band", sa.String(8), nullable=False),
    sa.Column("domestic_flag", sa.Boolean, nullable=False),
    sa.Column("longitude", sa.Float, nullable=False),
    sa.Column("latitude", sa.Float, nullable=False),
    sa.Column("lsoa21_code", sa.String(9), nullable=False),
    sa.Column("district_code", sa.String(9), nullable=False),
    sa.Column("load_id", sa.Integer, nullable=False),
)

fact_admissions = sa.Table(
    "fact_admissions",
    metadata,
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("area_code", sa.String(9), primary_key=True),
    sa.Column("age_band", sa.String(8), primary_key=True),
    sa.Column("sex", sa.String(1), primary_key=True),
    sa.Column("area_level", sa.String(8), nullable=False),
    sa.Column("lsoa21_code", sa.String(9)),
    sa.Column("district_code", sa.String(9), nullable=False),
    # NULL when the supplier suppressed the cell ("*"): a count of 1-7 we cannot know.
    sa.Column("admissions", sa.Integer),
    sa.Column("suppressed_upstream", sa.Boolean, nullable=False),
    sa.Column("load_id", sa.Integer, nullable=False),
)

fact_homicides = sa.Table(
    "fact_homicides",
    metadata,
    sa.Column("homicide_reference", sa.String(64), primary_key=True),
    sa.Column("victim_number", sa.SmallInteger, primary_key=True),
    sa.Column("offence_date", sa.Date, nullable=False),
    sa.Column("month", sa.Date, nullable=False),
    sa.Column("area_code", sa.String(9), nullable=False),
    sa.Column("area_level", sa.String(8), nullable=False),
    sa.Column("lsoa21_code", sa.String(9)),
    sa.Column("district_code", sa.String(9), nullable=False),
    sa.Column("victim_age", sa.SmallInteger),
    sa.Column("age_band", sa.String(8), nullable=False),
    sa.Column("victim_sex", sa.String(1), nullable=False),
    sa.Column("domestic", sa.Boolean, nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("location_type", sa.String(32), nullable=False),
    sa.Column("load_id", sa.Integer, nullable=False),
)

fact_ons_knife = sa.Table(
    "fact_ons_knife",
    metadata,
    sa.Column("force_name", sa.String(64), primary_key=True),
    sa.Column("financial_year", sa.String(7), primary_key=True),
    sa.Column("fy_quarter", sa.SmallInteger, primary_key=True),
    sa.Column("quarter_start", sa.Date, nullable=False),
    sa.Column("region", sa.String(64)),
    sa.Column("population_thousands", sa.Float),
    sa.Column("knife_enabled", sa.Integer),
    sa.Column("violence_with_injury", sa.Integer),
    sa.Column("homicide_serious_injury", sa.Integer),
    sa.Column("knife_crime", sa.Integer, nullable=False),
    sa.Column("load_id", sa.Integer, nullable=False),
)

# ---- curated marts ----------------------------------------------------------------------------------

mart_counts = sa.Table(
    "mart_counts",
    metadata,
    sa.Column("measure_id", sa.String(64), nullable=False),
    sa.Column("month", sa.Date, nullable=False),
    sa.Column("geography_level", sa.String(8), nullable=False),  # lsoa | district
    sa.Column("lsoa21_code", sa.String(9)),  # NULL when the source has only district geography
    sa.Column("district_code", sa.String(9), nullable=False),
    sa.Column("age_band", sa.String(8), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    # Cells the supplier suppressed ("*"), each a hidden 1-7: the count above is a lower bound when > 0.
    sa.Column("suppressed_cells", sa.Integer, nullable=False),
    sa.Index("ix_mart_counts_measure_month", "measure_id", "month"),
)

mart_force_counts = sa.Table(
    "mart_force_counts",
    metadata,
    sa.Column("measure_id", sa.String(64), nullable=False),
    sa.Column("force_name", sa.String(64), nullable=False),
    sa.Column("region", sa.String(64)),
    sa.Column("quarter_start", sa.Date, nullable=False),
    sa.Column("financial_year", sa.String(7), nullable=False),
    sa.Column("fy_quarter", sa.SmallInteger, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("population", sa.Float),
)

mart_population = sa.Table(
    "mart_population",
    metadata,
    sa.Column("geography_level", sa.String(8), primary_key=True),  # lsoa | district | force
    sa.Column("area_code", sa.String(9), primary_key=True),
    sa.Column("age_group", sa.String(8), primary_key=True),  # all | u25 | u18 | 18_24 | 25plus
    sa.Column("population", sa.Float, nullable=False),
)

# ---- the published cube: every number the public audience may receive ----------------------------------

# One row per published cell (docs/METHODS.md#the-published-cube): a measure for an area, an age group and a period
# of the fixed lattice. ``count`` is NULL where the cell is hidden; ``incomplete`` where the supplier hid some of it.
pub_cube = sa.Table(
    "pub_cube",
    metadata,
    sa.Column("measure_id", sa.String(64), nullable=False),
    sa.Column("area_level", sa.String(8), nullable=False),  # lsoa | district | hips | force
    sa.Column("area_code", sa.String(64), nullable=False),  # LSOA or district code, HIPS, or an ONS force name
    sa.Column("age", sa.String(8), nullable=False),  # all | u25
    sa.Column("period_type", sa.String(10), nullable=False),  # month | quarter | fy | rolling12
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),  # the first day of the period's last month
    sa.Column("count", sa.Integer),
    sa.Column("suppressed", sa.Boolean, nullable=False),
    sa.Column("incomplete", sa.Boolean, nullable=False),
    sa.Column("data_version", sa.String(64), nullable=False),
    sa.Index("ix_pub_cube_cell", "measure_id", "period_type", "area_level", "age", "period_start"),
)

# The audit behind it, partner-only: for each hidden cell (and each small interior cell, such as 25 and over, that
# is never published but could be worked out), the whole-number interval a user can derive from everything published.
pub_cube_audit = sa.Table(
    "pub_cube_audit",
    metadata,
    sa.Column("measure_id", sa.String(64), nullable=False),
    sa.Column("area_level", sa.String(8), nullable=False),
    sa.Column("area_code", sa.String(64), nullable=False),
    sa.Column("age", sa.String(8), nullable=False),  # all | u25 | 25plus | rest (a whole less its part)
    sa.Column("period_type", sa.String(10), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("value", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(16), nullable=False),  # small | protects (hidden so others cannot be derived)
    sa.Column("published", sa.Boolean, nullable=False),  # False: an interior cell, never published
    sa.Column("lower", sa.Float, nullable=False),
    sa.Column("upper", sa.Float, nullable=False),  # may be infinite: nothing published bounds it above
    sa.Column("data_version", sa.String(64), nullable=False),
)

# Public reference data built from police.uk (pipeline/place_names.py): each LSOA's most frequent street location,
# so pages can name a place "Portsmouth 027C, around Commercial Road". LSOAs with no police.uk street have no row.
pub_place_names = sa.Table(
    "pub_place_names",
    metadata,
    sa.Column("lsoa21_code", sa.String(9), primary_key=True),
    sa.Column("street", sa.Text, nullable=False),
)

# ---- bookkeeping -------------------------------------------------------------------------------------

load_audit = sa.Table(
    "load_audit",
    metadata,
    sa.Column("load_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("rows_read", sa.Integer, nullable=False),
    sa.Column("rows_loaded", sa.Integer, nullable=False),
    sa.Column("rows_out_of_area", sa.Integer, nullable=False),
    sa.Column("rows_rejected", sa.Integer, nullable=False),
    sa.Column("rows_duplicate", sa.Integer, nullable=False),
    sa.Column("synthetic", sa.Boolean, nullable=False),
    # The last month the file covers (given by the loader, else its latest row): a sparse source such as
    # homicides may have no rows in its final months, and "no rows" must still read as "zero", not "no data".
    sa.Column("period_end", sa.Date),
    sa.Column("loaded_at", sa.DateTime, nullable=False),
    # The partner's mapping file the load used (name and SHA-256 prefix), NULL for a contract file as it is;
    # rows whose 2011 LSOA had split, placed by the documented rule (pipeline/sources/base.py split_assignment).
    # Both added after the first release: pipeline/load.py upgrade_load_audit adds them to older warehouses.
    sa.Column("mapping", sa.Text),
    sa.Column("rows_lsoa11_split", sa.Integer),
    sa.UniqueConstraint("source", "sha256", name="uq_load_audit_source_sha"),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("load_id", sa.Integer, nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
)

source_registry = sa.Table(
    "source_registry",
    metadata,
    sa.Column("source_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("licence", sa.Text, nullable=False),
    sa.Column("sharing_status", sa.Text, nullable=False),
    sa.Column("geography", sa.Text, nullable=False),
    sa.Column("synthetic", sa.String(16), nullable=False),  # real | synthetic | mixed | none loaded
    sa.Column("coverage_start", sa.Date),
    sa.Column("coverage_end", sa.Date),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("files_loaded", sa.Integer, nullable=False),
    sa.Column("last_load_at", sa.DateTime),
)

FACT_TABLES = {
    "police_uk": fact_police_uk,
    "police_records": fact_police_records,
    "admissions": fact_admissions,
    "homicides": fact_homicides,
    "ons_knife": fact_ons_knife,
}
