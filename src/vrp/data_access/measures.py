"""The measure registry: definitions live in ``config/measures.toml``, never in code.

This module reads and checks the file, and turns each measure's ``include`` clauses into a SQL condition on
its source's fact table, so changing a definition means editing the file and rebuilding the marts.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from vrp.data_access import tables as t

SOURCES = ("police_records", "police_uk", "admissions", "homicides", "ons_knife")
UNITS = ("count", "rate_per_100k", "rate_per_million")
DENOMINATORS = ("all_ages", "u25")
POLARITIES = ("lower_is_better", "higher_is_better", "no_polarity")
GEOGRAPHY_LEVELS = ("lsoa", "district", "force")
TIME_GRAINS = ("month", "quarter")
PUBLIC_PERIODS = ("month", "quarter", "fy", "rolling12")  # the public cube's lattice, finest first

# Which clause keys each source understands; anything else in the file is an error, not silently ignored.
CLAUSE_KEYS = {
    "police_records": {
        "offence_codes",
        "offence_subgroups",
        "knife",
        "domestic",
        "victim_age_min",
        "victim_age_max",
    },
    "police_uk": {"crime_types"},
    "homicides": {"domestic", "victim_age_min", "victim_age_max", "methods"},
    "admissions": {"age_bands"},
    "ons_knife": set(),
}
REQUIRED = (
    "id",
    "label",
    "definition",
    "source",
    "unit",
    "denominator",
    "polarity",
    "geography_levels",
    "time_grain",
    "suppress_below",
)


class MeasureConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Measure:
    id: str
    label: str
    definition: str
    source: str
    unit: str
    denominator: str
    polarity: str
    geography_levels: tuple[str, ...]
    time_grain: str
    suppress_below: int
    headline: bool = False
    include: tuple[dict, ...] = field(default=())
    part_of: str | None = None
    # The lattice periods the published cube carries for this measure (docs/METHODS.md#the-published-cube).
    public_periods: tuple[str, ...] = PUBLIC_PERIODS
    # SPC limits: fixed on the first N months of each segment, recalculated at each (month, reason) change
    # (docs/METHODS.md#statistical-process-control). Not a disclosure rule: outside the cube's rules digest.
    spc_baseline_months: int = 24
    spc_recalculate: tuple[tuple[str, str], ...] = ()

    @property
    def per(self) -> int:
        return {"rate_per_100k": 100_000, "rate_per_million": 1_000_000}.get(self.unit, 1)

    def population_group(self, age: str = "all") -> str:
        """The population a rate divides by: under-25s when the filter or the measure itself is about them."""
        return "u25" if age == "u25" or self.denominator == "u25" else "all"

    @property
    def has_lsoa(self) -> bool:
        return "lsoa" in self.geography_levels

    def filter_json(self) -> str:
        return json.dumps(list(self.include), sort_keys=True)


@dataclass(frozen=True)
class MeasureRegistry:
    measures: tuple[Measure, ...]

    def __iter__(self):
        return iter(self.measures)

    def __len__(self) -> int:
        return len(self.measures)

    def __contains__(self, measure_id: object) -> bool:
        return any(m.id == measure_id for m in self.measures)

    def get(self, measure_id: str) -> Measure:
        for m in self.measures:
            if m.id == measure_id:
                return m
        raise KeyError(f"unknown measure {measure_id!r}")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.measures)

    def for_source(self, source: str) -> list[Measure]:
        return [m for m in self.measures if m.source == source]

    def related(self, measure_id: str) -> list[Measure]:
        """Measures published beside this one whose difference from it is itself a count: its whole (part_of)
        and its parts."""
        me = self.get(measure_id)
        return [m for m in self.measures if m.id == me.part_of or m.part_of == me.id]


def load_registry(path: Path) -> MeasureRegistry:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MeasureConfigError(f"measure registry not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MeasureConfigError(f"{path}: not valid TOML: {exc}") from exc
    entries = raw.get("measures")
    if not entries:
        raise MeasureConfigError(f"{path}: no [[measures]] entries")
    measures = [_parse(entry, path) for entry in entries]
    ids = [m.id for m in measures]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise MeasureConfigError(f"{path}: duplicate measure ids: {', '.join(dupes)}")
    for m in measures:
        if m.part_of is not None and m.part_of not in ids:
            raise MeasureConfigError(f"{path}: measure {m.id!r} is part_of unknown measure {m.part_of!r}")
    return MeasureRegistry(tuple(measures))


def _parse(entry: dict, path: Path) -> Measure:
    where = f"{path}: measure {entry.get('id', '?')!r}"
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise MeasureConfigError(f"{where}: missing {', '.join(missing)}")
    checks = [
        ("source", SOURCES),
        ("unit", UNITS),
        ("denominator", DENOMINATORS),
        ("polarity", POLARITIES),
        ("time_grain", TIME_GRAINS),
    ]
    for key, allowed in checks:
        if entry[key] not in allowed:
            raise MeasureConfigError(f"{where}: {key} must be one of {', '.join(allowed)}, not {entry[key]!r}")
    levels = tuple(entry["geography_levels"])
    if not levels or any(level not in GEOGRAPHY_LEVELS for level in levels):
        raise MeasureConfigError(f"{where}: geography_levels must be drawn from {', '.join(GEOGRAPHY_LEVELS)}")
    include = tuple(entry.get("include", ()))
    allowed_keys = CLAUSE_KEYS[entry["source"]]
    for clause in include:
        unknown = set(clause) - allowed_keys
        if unknown:
            raise MeasureConfigError(
                f"{where}: include clause keys {sorted(unknown)} are not understood for source {entry['source']}"
                f" (allowed: {sorted(allowed_keys) or 'none'})"
            )
        if not clause:
            raise MeasureConfigError(f"{where}: empty include clause")
    periods = tuple(entry.get("public_periods", PUBLIC_PERIODS))
    if not periods or any(p not in PUBLIC_PERIODS for p in periods):
        raise MeasureConfigError(f"{where}: public_periods must be drawn from {', '.join(PUBLIC_PERIODS)}")
    if int(entry["suppress_below"]) < 0:
        raise MeasureConfigError(f"{where}: suppress_below must be 0 or more")
    spc_baseline, spc_changes = _spc_settings(entry, where)
    return Measure(
        id=str(entry["id"]),
        label=str(entry["label"]),
        definition=" ".join(str(entry["definition"]).split()),
        source=entry["source"],
        unit=entry["unit"],
        denominator=entry["denominator"],
        polarity=entry["polarity"],
        geography_levels=levels,
        time_grain=entry["time_grain"],
        suppress_below=int(entry["suppress_below"]),
        headline=bool(entry.get("headline", False)),
        part_of=entry.get("part_of"),
        include=include,
        public_periods=tuple(p for p in PUBLIC_PERIODS if p in periods),
        spc_baseline_months=spc_baseline,
        spc_recalculate=spc_changes,
    )


def _spc_settings(entry: dict, where: str) -> tuple[int, tuple[tuple[str, str], ...]]:
    """spc_baseline_months (12 or more, as NHSRplotthedots' fix_after_n_points) and spc_recalculate: a list of
    {month = "YYYY-MM", reason = "..."}, each a documented change at which the SPC limits start again."""
    baseline = entry.get("spc_baseline_months", 24)
    if not isinstance(baseline, int) or isinstance(baseline, bool) or baseline < 12:
        raise MeasureConfigError(f"{where}: spc_baseline_months must be a whole number of months, 12 or more")
    changes = []
    for change in entry.get("spc_recalculate", ()):
        month, reason = (change.get("month"), change.get("reason")) if isinstance(change, dict) else (None, None)
        if not (isinstance(month, str) and re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month)) or not (
            isinstance(reason, str) and reason.strip()
        ):
            raise MeasureConfigError(f'{where}: each spc_recalculate entry needs month = "YYYY-MM" and a reason')
        changes.append((month, " ".join(reason.split())))
    return baseline, tuple(sorted(changes))


def condition(measure: Measure) -> sa.ColumnElement[bool]:
    """The SQL condition selecting this measure's rows from its source's fact table."""
    if not measure.include:
        return sa.true()
    return sa.or_(*(_clause(measure.source, clause) for clause in measure.include))


def _clause(source: str, clause: dict) -> sa.ColumnElement[bool]:
    parts: list[sa.ColumnElement[bool]] = []
    if source == "police_records":
        f = t.fact_police_records
        if "offence_codes" in clause:
            parts.append(f.c.ho_offence_code.in_([str(c) for c in clause["offence_codes"]]))
        if "offence_subgroups" in clause:
            sub = sa.select(t.dim_offence.c.ho_offence_code).where(
                t.dim_offence.c.offence_subgroup.in_(clause["offence_subgroups"])
            )
            parts.append(f.c.ho_offence_code.in_(sub))
        if "knife" in clause:
            parts.append(f.c.knife_flag.is_(bool(clause["knife"])))
        if "domestic" in clause:
            parts.append(f.c.domestic_flag.is_(bool(clause["domestic"])))
        parts += _age(f.c.victim_age, clause)
    elif source == "police_uk":
        parts.append(t.fact_police_uk.c.crime_type.in_(clause["crime_types"]))
    elif source == "homicides":
        f = t.fact_homicides
        if "domestic" in clause:
            parts.append(f.c.domestic.is_(bool(clause["domestic"])))
        if "methods" in clause:
            parts.append(f.c.method.in_(clause["methods"]))
        parts += _age(f.c.victim_age, clause)
    elif source == "admissions":
        parts.append(t.fact_admissions.c.age_band.in_(clause["age_bands"]))
    return sa.and_(*parts)


def _age(column: sa.Column, clause: dict) -> list[sa.ColumnElement[bool]]:
    out = []
    if "victim_age_min" in clause:
        out.append(column >= int(clause["victim_age_min"]))
    if "victim_age_max" in clause:
        out.append(column <= int(clause["victim_age_max"]))
    return out


def disclosure_rules(registry: MeasureRegistry) -> str:
    """For each measure, a digest of everything that decides which of its cells the published cube hides: its
    source, definition, threshold, the whole it is part of and its published periods (JSON: id -> digest). The
    cube records it when it is built, and the public read side refuses a cube whose measures were made under
    other rules (a raised threshold must not show what it hides)."""
    return json.dumps({m.id: _rules_digest(m) for m in registry}, sort_keys=True)


def changed_rules(recorded: str | None, registry: MeasureRegistry) -> list[str]:
    """The measures of a recorded ``disclosure_rules`` whose rules differ now (all of them when none is recorded:
    a cube from before the record existed)."""
    if not recorded:
        return list(registry.ids)
    before = json.loads(recorded)
    return [mid for mid, digest in before.items() if mid in registry and _rules_digest(registry.get(mid)) != digest]


def _rules_digest(m: Measure) -> str:
    rules = (m.id, m.source, m.suppress_below, m.part_of, tuple(m.public_periods), m.filter_json())
    return hashlib.sha256(repr(rules).encode()).hexdigest()[:16]
