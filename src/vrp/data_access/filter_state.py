"""The filter state: what a page shows (districts, period, measure, age group), read from the URL query string or
the browser's store and checked against what the warehouse holds.

Parameters: ``district`` (comma-separated district codes), ``from`` and ``to`` (``YYYY-MM``), ``measure`` (a measure
id), ``age`` (``all`` or ``u25``). A link reproduces the view; an unknown or malformed value is reported on the page
and replaced by the default, never an error. The controls that set it are in dashboards/filters.py.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from urllib.parse import parse_qs, urlencode

from vrp.data_access import published
from vrp.data_access.queries import Warehouse
from vrp.data_access.validation import InvalidQuery
from vrp.periods import add_months, fy_months

PARAMS = ("district", "from", "to", "measure", "age")
PRESENT = "present"  # ?present=1: how the page is shown (assets/vrp-present.js), not what: kept in the link
DEFAULT_MEASURE = "serious_violence"
AGES = {"all": "All ages", "u25": "Under 25"}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class FilterState:
    districts: tuple[str, ...] = ()
    start: str = ""
    end: str = ""
    measure: str = DEFAULT_MEASURE
    age: str = "all"
    problems: tuple[str, ...] = field(default=(), compare=False)

    def query(self) -> str:
        params = {}
        if self.districts:
            params["district"] = ",".join(self.districts)
        params.update({"from": self.start, "to": self.end, "measure": self.measure, "age": self.age})
        return "?" + urlencode(params, safe=",")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["districts"] = list(self.districts)
        d["problems"] = list(self.problems)
        return d

    @classmethod
    def from_dict(cls, data: dict | None) -> FilterState:
        data = data or {}
        return cls(
            districts=tuple(data.get("districts") or ()),
            start=data.get("start", ""),
            end=data.get("end", ""),
            measure=data.get("measure", DEFAULT_MEASURE),
            age=data.get("age", "all"),
        )


def read_state(state_data) -> FilterState:
    """The filter state as the browser sent it, refused politely when it is not the shape the shell writes."""
    if not isinstance(state_data, dict):
        raise InvalidQuery("The filters were not understood: please choose them again.")
    data = dict(state_data)
    districts = data.get("districts") or []
    if isinstance(districts, str):
        districts = districts.split(",")
    if not isinstance(districts, (list, tuple)) or not all(isinstance(d, str) for d in districts):
        raise InvalidQuery("The district filter was not a list of district codes.")
    for key in ("start", "end", "measure", "age"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InvalidQuery(f"The {key} filter was not understood.")
    return FilterState.from_dict({**data, "districts": districts})


def _month(d: date) -> str:
    return f"{d:%Y-%m}"


def coverage(wh: Warehouse, measure_id: str) -> tuple[str, str] | None:
    first, last = wh.source_coverage().get(wh.registry.get(measure_id).source, (None, None))
    return (_month(first), _month(last)) if first and last else None


def resolve(
    wh: Warehouse,
    *,
    districts=None,
    start=None,
    end=None,
    measure=None,
    age=None,
    period_measure=None,
    period_level="hips",
) -> FilterState:
    """Check every value against what the warehouse knows; replace what is wrong by the default and say so.
    ``period_measure`` is the measure whose published periods the public audience chooses from (a page's own
    measure, else the filter's), at ``period_level`` (the Hotspots map: the LSOA years)."""
    problems: list[str] = []
    period_given = bool(start or end)
    if measure is not None and measure not in wh.registry:
        problems.append(f"Unknown measure “{str(measure)[:40]}”: showing {wh.registry.get(DEFAULT_MEASURE).label}.")
        measure = None
    measure = measure or DEFAULT_MEASURE
    label = wh.registry.get(measure).label

    known = wh.district_codes
    chosen: list[str] = []
    if districts:
        if isinstance(districts, str):
            districts = districts.split(",")
        if not isinstance(districts, (list, tuple)):
            districts = []
            problems.append("The district filter was not a list of district codes: showing all of HIPS.")
        for d in districts:
            code = str(d).strip().upper()
            if code in ("", "HIPS"):
                continue
            if code in known:
                chosen.append(code)
            else:
                problems.append(f"Unknown district “{str(d)[:20]}” ignored.")
    chosen = sorted(set(chosen))

    if age not in (None, "", *AGES):
        problems.append(f"Unknown age group “{str(age)[:20]}”: showing all ages.")
        age = "all"
    age = age or "all"
    if age == "u25" and wh.registry.get(measure).source in ("police_uk", "ons_knife"):
        problems.append(f"{label} has no victim ages: showing all ages.")
        age = "all"

    cov = coverage(wh, measure)
    default_end = cov[1] if cov else ""
    default_start = max(add_months(default_end, -11), cov[0]) if cov else ""
    bad = [v for v in (start, end) if v not in (None, "") and (not isinstance(v, str) or not _MONTH.match(v))]
    if bad:
        problems.append(f"“{str(bad[0])[:20]}” is not a month like 2025-04: showing the latest 12 months.")
        start = end = None
    start, end = start or None, end or None
    if start and end and start > end:
        problems.append(f"The period started ({start}) after it ended ({end}): showing the latest 12 months.")
        start = end = None
    if cov and ((start and (start > cov[1])) or (end and end < cov[0])):
        problems.append(f"{label} has data from {cov[0]} to {cov[1]}: showing the latest 12 months.")
        start = end = None
    if cov and start and start < cov[0]:
        problems.append(f"{label} starts in {cov[0]}: the period starts there.")
        start = cov[0]
    if cov and end and end > cov[1]:
        problems.append(f"{label} ends in {cov[1]}: the period ends there.")
        end = cov[1]
    if start and not end:
        end = min(add_months(start, 11), cov[1]) if cov else start
    if end and not start:
        start = max(add_months(end, -11), cov[0]) if cov else end
    state = FilterState(tuple(chosen), start or default_start, end or default_end, measure, age, tuple(problems))
    if wh.audience == "public":
        return public_state(wh, state, period_measure or measure, period_given, period_level)
    return state


def public_state(
    wh: Warehouse, state: FilterState, period_measure: str, period_given: bool, period_level: str = "hips"
) -> FilterState:
    """The public audience sees published cells only: one district (or all of HIPS) and one of the measure's
    published periods (docs/METHODS.md#the-published-cube). Anything else is replaced and the page says why."""
    problems = list(state.problems)
    districts = state.districts
    if len(districts) > 1:
        name = wh.districts().set_index("district_code")["district_name"].get(districts[0], districts[0])
        problems.append(
            f"The public view shows one district at a time, or all of HIPS (a sum of several could be subtracted "
            f"to reveal a small number): showing {name}."
        )
        districts = districts[:1]
    options = public_periods(wh, period_measure, period_level)
    start, end = state.start, state.end
    if f"{start}/{end}" not in {o["value"] for o in options}:
        start, end = options[0]["value"].split("/") if options else ("", "")
        if period_given and options:
            label = wh.registry.get(period_measure).label
            kinds = ", ".join(dict.fromkeys(published.KIND_NAMES[o["kind"]] for o in options))
            where = " on the map" if period_level == "lsoa" and {o["kind"] for o in options} == {"fy"} else ""
            problems.append(f"{label} is published{where} for fixed periods ({kinds}): showing {options[0]['label']}.")
    return FilterState(districts, start, end, state.measure, state.age, tuple(problems))


PUBLIC_KINDS = {
    "rolling12": lambda p: f"12 months to {p.end:%b %Y}",
    "fy": lambda p: f"Financial year {p.label}",
    "quarter": lambda p: f"Quarter {p.label}",
    "month": lambda p: f"Month: {p.label}",
}


def public_periods(wh: Warehouse, measure_id: str, level: str = "hips") -> list[dict]:
    """The Period choices of the public audience: the measure's published periods at ``level`` (HIPS; or the
    LSOA years the Hotspots map shows, where the measure has them), latest rolling year first (the default), then
    financial years, quarters and months, each latest first. A rolling year ending in March is its financial year
    and is listed once, as the year. Each: label, value ``YYYY-MM/YYYY-MM``, kind."""
    found = (published.periods(wh, measure_id, level) if level != "hips" else []) or published.periods(wh, measure_id)
    years = {(p.start, p.end) for p in found if p.type == "fy"}
    out = []
    for kind, label in PUBLIC_KINDS.items():
        of_kind = [p for p in found if p.type == kind and not (kind == "rolling12" and (p.start, p.end) in years)]
        for p in sorted(of_kind, key=lambda p: p.end, reverse=True):
            out.append({"label": label(p), "value": f"{p.start:%Y-%m}/{p.end:%Y-%m}", "kind": kind})
    return out


def from_query(
    wh: Warehouse, search: str | None, period_measure: str | None = None, period_level: str = "hips"
) -> FilterState:
    raw = parse_qs((search or "").lstrip("?"), keep_blank_values=True)
    unknown = sorted(set(raw) - set(PARAMS) - {PRESENT})
    values = {k: v[-1] for k, v in raw.items() if k in PARAMS}
    state = resolve(
        wh,
        districts=values.get("district"),
        start=values.get("from"),
        end=values.get("to"),
        measure=values.get("measure"),
        age=values.get("age"),
        period_measure=period_measure,
        period_level=period_level,
    )
    if unknown:
        note = f"Unknown link parameter{'s' if len(unknown) > 1 else ''} ignored: {', '.join(u[:20] for u in unknown)}."
        state = FilterState(state.districts, state.start, state.end, state.measure, state.age, (*state.problems, note))
    return state


PRESETS = {"12m": "Latest 12 months", "36m": "Latest 3 years", "fy": "Latest full financial year", "all": "All months"}


def apply_preset(wh: Warehouse, measure: str, preset: str) -> tuple[str, str]:
    cov = coverage(wh, measure)
    if not cov:
        return "", ""
    first, last = cov
    if preset == "36m":
        return max(add_months(last, -35), first), last
    if preset == "all":
        return first, last
    if preset == "fy":
        # The latest April-March year that is complete in the data.
        y, m = int(last[:4]), int(last[5:7])
        end_year = y if m >= 3 else y - 1
        start, end = fy_months(f"{end_year - 1}-{end_year % 100:02d}")
        return (start, end) if start >= first else (first, last)
    return max(add_months(last, -11), first), last


def matching_preset(wh: Warehouse, measure: str, start: str, end: str) -> str:
    """The preset that gives exactly this period (so a link or the default view names it), else "custom"."""
    if not (start and end):  # nothing loaded for the measure: no period, so no preset either
        return "custom"
    return next((p for p in PRESETS if apply_preset(wh, measure, p) == (start, end)), "custom")


def month_options(wh: Warehouse, measure: str) -> list[dict]:
    cov = coverage(wh, measure)
    if not cov:
        return []
    out, m = [], cov[0]
    while m <= cov[1]:
        out.append({"label": date(int(m[:4]), int(m[5:7]), 1).strftime("%b %Y"), "value": m})
        m = add_months(m, 1)
    return out


@dataclass(frozen=True)
class FilterChoices:
    """What the filter bar offers: the districts and measures the warehouse holds, and whether the audience is
    the public (one district or all of HIPS, published periods only)."""

    districts: tuple[dict, ...] = ()
    measures: tuple[dict, ...] = ()
    public: bool = False


def filter_choices(wh: Warehouse) -> FilterChoices:
    districts = wh.districts()
    return FilterChoices(
        districts=tuple({"label": r.district_name, "value": r.district_code} for r in districts.itertuples()),
        measures=tuple({"label": m.label, "value": m.id} for m in wh.registry),
        public=wh.audience == "public",
    )
