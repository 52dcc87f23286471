"""The read side: one method per question the dashboard (or the CLI) asks, returning small DataFrames.

``Warehouse`` holds the connection, the data version, the cache and the audience rule; the questions themselves
live by subject beside it (counts, reference, records, outcomes, places) and take the warehouse. Every argument
from outside is checked against known values before it reaches SQL (validation), and every query is built with
SQLAlchemy Core (parameterised). The audience rule is enforced in data_access, not in page layouts: the
``public`` audience never receives a count the measure's suppression rule hides, nor record-level rows.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from datetime import date
from functools import cached_property

import pandas as pd
from sqlalchemy.engine import Engine

from vrp.data_access import audience, counts, records, reference
from vrp.data_access.audience import AudienceRule
from vrp.data_access.cache import QueryCache, code_version
from vrp.data_access.engine import duckdb_path, get_meta, make_engine
from vrp.data_access.measures import Measure, MeasureRegistry, load_registry
from vrp.data_access.published import guard_public
from vrp.data_access.validation import Filter, check_filter
from vrp.settings import Settings


class Warehouse:
    """Read access to one warehouse, for one audience."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        cache: QueryCache | None = None,
        registry: MeasureRegistry | None = None,
    ):
        self.settings = settings
        self.audience = settings.audience
        self.audience_rule = AudienceRule(settings)
        self._engine = engine
        self._guarded: tuple | None = None
        self._owns_engine = engine is None
        self._file_id: tuple | None = None
        self._lock = threading.Lock()
        self.cache = cache or QueryCache(None)
        self._version: tuple | None = None
        self._held: dict[str, tuple] = {}
        self._registry = registry

    # ---- connection and version -------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        with self._lock:
            path = duckdb_path(self.settings.warehouse) if self._owns_engine else None
            if path is not None:
                # `vrp build-demo` swaps in a new file: notice it and reopen, so readers follow the rebuild.
                try:
                    st = os.stat(path)
                    file_id = (st.st_ino, st.st_mtime_ns)
                except FileNotFoundError:
                    file_id = None
                if self._engine is not None and file_id != self._file_id:
                    self._engine.dispose()
                    self._engine = None
                self._file_id = file_id
            if self._engine is None:
                self._engine = make_engine(self.settings.warehouse, read_only=True)
            if self.audience != "public":
                return self._engine
            # The public audience reads through a guarded view of the same engine (data_access/published.py).
            if self._guarded is None or self._guarded[0] is not self._engine:
                self._guarded = (self._engine, guard_public(self._engine))
            return self._guarded[1]

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    VERSION_TTL = 2.0  # seconds: a load shows within this, and a callback's 5-6 lookups share one round trip

    def data_version(self) -> str:
        engine = self.engine  # first: notices a swapped DuckDB file and reopens
        now = time.monotonic()
        cached = self._version
        if cached and now - cached[1] < self.VERSION_TTL and cached[2] is engine:
            return cached[0]
        with engine.connect() as conn:
            version = get_meta(conn, "data_version") or "0"
        self._version = (version, now, engine)
        return version

    def meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return get_meta(conn, key)

    @property
    def registry(self) -> MeasureRegistry:
        if self._registry is None:
            self._registry = load_registry(self.settings.measures_file)
        return self._registry

    def cached(self, name: str, key: dict, compute):
        # The code version is in the key too, so an upgrade never serves results shaped by older code, and so are
        # the suppression settings and measure definitions: raising a threshold must not serve older, finer results.
        version = f"{code_version()}:{self.data_version()}:{self.audience}:{self.rules_hash}"
        return self.cache.fetch(name, version, key, compute)

    @cached_property
    def rules_hash(self) -> str:
        # Every field of every measure (definitions, thresholds, part_of, units, labels) and the settings that
        # shape what a page shows: editing any of them must not serve results or views made under the old ones.
        rules = [(repr(m), m.filter_json()) for m in self.registry]
        settings = (self.settings.public_min_count, self.settings.baseline_fy)
        return hashlib.sha256(repr((rules, settings)).encode()).hexdigest()[:12]

    def read(self, query) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn)

    def in_process(self, name: str, compute):
        """Small reference tables every callback asks for many times (districts, sources): kept in the process
        for the current data version, since even a cache round trip per ask adds up. DataFrames are copied out,
        so a caller cannot change what the next one gets."""
        version = self.data_version()
        held = self._held.get(name)
        if held is None or held[0] != version:
            held = (version, compute())
            self._held[name] = held
        value = held[1]
        return value.copy() if isinstance(value, (pd.DataFrame, dict)) else value

    # ---- checking what the browser sends, and the audience rule ----------------------------------------------

    @property
    def district_codes(self) -> frozenset[str]:
        # From the district list, so a rebuilt warehouse is followed like everything else.
        return self.in_process("district_codes", lambda: frozenset(self.districts()["district_code"]))

    def check(self, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> Filter:
        return check_filter(self.registry, lambda: self.district_codes, measure_id, districts, start, end, age)

    def threshold(self, measure: Measure) -> int:
        return self.audience_rule.threshold(measure)

    def require_partner(self, what: str) -> None:
        self.audience_rule.require_partner(what)

    def hidden_totals(self, f: Filter, periods: dict, totals: dict, known: dict | None = None) -> dict[str, bool]:
        return audience.hidden_totals(self, f, periods, totals, known)

    # ---- questions (vrp.data_access.reference, .counts and .records) -----------------------------------------

    def districts(self) -> pd.DataFrame:
        return reference.districts(self)

    def measures(self) -> pd.DataFrame:
        return reference.measures(self)

    def sources(self) -> pd.DataFrame:
        return reference.sources(self)

    def synthetic_sources(self) -> set[str]:
        return reference.synthetic_sources(self)

    def source_coverage(self) -> dict[str, tuple[date | None, date | None]]:
        return reference.source_coverage(self)

    def load_audit(self) -> pd.DataFrame:
        return reference.load_audit(self)

    def month_range(self, measure_id: str) -> tuple[date | None, date | None]:
        return counts.month_range(self, measure_id)

    def population(self, districts: tuple[str, ...] = (), age: str = "all", measure: Measure | None = None) -> float:
        return counts.population(self, districts, age, measure)

    def monthly_counts(self, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> pd.DataFrame:
        return counts.monthly_counts(self, measure_id, districts, start, end, age)

    def lsoa_counts_raw(self, f: Filter) -> pd.DataFrame:
        return counts.lsoa_counts_raw(self, f)

    def counts_by_lsoa(self, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> pd.DataFrame:
        return counts.counts_by_lsoa(self, measure_id, districts, start, end, age)

    def counts_by_period(
        self, measure_id: str, by: str = "fy", districts=(), start=None, end=None, age: str = "all"
    ) -> pd.DataFrame:
        return counts.counts_by_period(self, measure_id, by, districts, start, end, age)

    def force_quarterly(self, measure_id: str = "ons_knife_crime", forces: tuple[str, ...] = ()) -> pd.DataFrame:
        return counts.force_quarterly(self, measure_id, forces)

    def period_total(self, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> dict:
        return counts.period_total(self, measure_id, districts, start, end, age)

    def latest_figures(self, districts=()) -> pd.DataFrame:
        return counts.latest_figures(self, districts)

    def records_where(self, f: Filter) -> list:
        return records.records_where(self.registry, f)

    def quarantine(self, load_id: int | None = None) -> pd.DataFrame:
        return records.quarantine(self, load_id)

    def incidents(self, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> pd.DataFrame:
        return records.incidents(self, measure_id, districts, start, end, age)
