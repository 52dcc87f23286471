"""Evaluating an intervention in a place: the monthly series, the caveats the code checks, and the answer the
/evaluate page, ``GET /api/v1/evaluate`` and ``vrp evaluate`` all give (docs/METHODS.md#interrupted-time-series).

The series is a district, several districts or all of HIPS; for partners also a set of LSOAs (the Hotspots map's
selection). The public audience gets an evaluation only where every month of the window is a published cube cell
of one district or of HIPS (a hidden month would have to be guessed, and a model's fitted values near it could give
it away); otherwise a ``NotPublished`` refusal saying why. The model itself is vrp.stats.its.evaluate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from vrp.data_access import tables as t
from vrp.data_access.mart import mart_where
from vrp.data_access.published import NotPublished
from vrp.data_access.validation import HIPS, Filter, InvalidQuery, parse_month
from vrp.periods import add_months, months_in

if TYPE_CHECKING:
    from vrp.data_access.queries import Warehouse

# Thresholds of the caveats (docs/METHODS.md#interrupted-time-series): refused below MIN_BEFORE months before the
# start or MIN_AFTER after it (after the phase-in), or fewer than TOO_FEW_EVENTS events a month on average before
# the start; a warning below FEW_EVENTS a month, and when the area was among the TOP_DISTRICTS districts (or its
# LSOAs among the top TOP_LSOA_SHARE of LSOAs) by rate (LSOAs: by count) in the 12 months before the start.
MIN_BEFORE, MIN_AFTER = 12, 6
TOO_FEW_EVENTS, FEW_EVENTS = 1.0, 5.0
TOP_DISTRICTS, TOP_LSOA_SHARE = 3, 0.05
MAX_PHASE_IN, MAX_LSOAS = 12, 300
ERRORS = {"quasi": "quasi-Poisson", "newey-west": "Newey-West"}
FAMILIES = {"poisson": "Poisson", "negbin": "negative binomial"}


class CannotEvaluate(InvalidQuery):
    """A question the model cannot answer (too little data, too few events): the message says why."""


@dataclass(frozen=True)
class Question:
    """A checked evaluation question: the cache key and the queries come from this."""

    measure_id: str
    districts: tuple[str, ...]  # empty: all of HIPS (unless LSOAs are given)
    lsoas: tuple[str, ...]
    start: date
    first: date
    last: date
    phase_in: int = 0
    comparison: tuple[str, ...] | None = None  # None: no comparison; (): all of HIPS
    age: str = "all"
    errors: str = "quasi"
    family: str = "poisson"
    offset: bool = False

    def key(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def _codes(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise InvalidQuery("areas must be a comma-separated list of codes")
    return [v.strip().upper() for v in value if v.strip()]


def _lsoas(wh: Warehouse, codes: list[str]) -> tuple[str, ...]:
    if not codes:
        return ()
    if wh.audience != "partner":
        raise NotPublished(
            "An evaluation of a set of LSOAs is for signed-in partners: the published figures hold LSOAs by "
            "financial year only, not by month."
        )
    if len(codes) > MAX_LSOAS:
        raise InvalidQuery(f"at most {MAX_LSOAS} LSOAs at a time")
    from vrp.data_access import places

    known = set(places.lsoa_options(wh)["lsoa21_code"])
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidQuery(f"unknown LSOA {unknown[0][:20]!r}")
    return tuple(sorted(set(codes)))


def question(
    wh: Warehouse,
    measure_id,
    area=None,
    start=None,
    first=None,
    last=None,
    *,
    lsoas=None,
    phase_in=0,
    comparison=None,
    age="all",
    errors="quasi",
    family="poisson",
    offset=False,
) -> Question:
    """Every value checked against what the warehouse knows. ``area``: district codes or HIPS; ``lsoas``: LSOA
    codes (partners); ``start``, ``first``, ``last``: months (the period defaults to every month loaded)."""
    if not isinstance(measure_id, str) or measure_id not in wh.registry:
        raise InvalidQuery(f"unknown measure {str(measure_id)[:40]!r}")
    measure = wh.registry.get(measure_id)
    if measure.source == "ons_knife" or measure.time_grain != "month":
        raise InvalidQuery(f"{measure.label} is not a monthly local series, so it cannot be evaluated here")
    f = wh.check(measure_id, [c for c in _codes(area) if c != HIPS], None, None, age)
    lsoa_codes = _lsoas(wh, _codes(lsoas))
    if lsoa_codes and not measure.has_lsoa:
        raise InvalidQuery(f"{measure.label} is not available by LSOA")
    s = parse_month(start, "the start month")
    if s is None:
        raise InvalidQuery("give the month the intervention started (start=YYYY-MM)")
    loaded_first, loaded_last = wh.month_range(measure_id)
    if loaded_first is None:
        raise CannotEvaluate(f"{measure.label} has no monthly figures loaded")
    lo = parse_month(first, "the first month") or loaded_first
    hi = parse_month(last, "the last month") or loaded_last
    if not lo <= s <= hi:
        raise InvalidQuery(f"the start month {s:%Y-%m} must lie inside the period {lo:%Y-%m} to {hi:%Y-%m}")
    if isinstance(phase_in, bool) or not isinstance(phase_in, int) or not 0 <= phase_in <= MAX_PHASE_IN:
        raise InvalidQuery(f"the phase-in must be a whole number of months from 0 to {MAX_PHASE_IN}")
    if errors not in ERRORS or family not in FAMILIES:
        raise InvalidQuery(f"errors must be one of {', '.join(ERRORS)}; family one of {', '.join(FAMILIES)}")
    comp = None
    if comparison is not None and _codes(comparison):
        comp = wh.check(measure_id, [c for c in _codes(comparison) if c != HIPS]).districts
        if set(comp) & set(f.districts) or (comp == f.districts and not lsoa_codes):
            raise InvalidQuery("the comparison area must not overlap the area evaluated")
    return Question(measure_id, f.districts, lsoa_codes, s, lo, hi, phase_in, comp, f.age, errors, family, offset)


def monthly_series(wh: Warehouse, measure_id: str, districts, lsoas, first: date, last: date, age: str):
    """month, count, population for every month from ``first`` to ``last``. Public: the published month cells of
    one district or HIPS, refused unless every month is published."""
    if lsoas:
        return _lsoa_series(wh, measure_id, tuple(lsoas), first, last, age)
    frame = wh.monthly_counts(measure_id, districts, f"{first:%Y-%m}", f"{last:%Y-%m}", age)
    expected = months_in(first, last)
    if wh.audience == "public":
        hidden = int(frame["suppressed"].sum()) + expected - len(frame)
        if hidden:
            label = wh.registry.get(measure_id).label
            raise NotPublished(
                f"{label} is not published for {hidden} of the {expected} months from {first:%b %Y} to "
                f"{last:%b %Y} in this area (small numbers are hidden): an evaluation needs every month, so it is "
                "shown to signed-in partners only. Try a larger area or all of HIPS."
            )
    frame = frame.assign(month=pd.to_datetime(frame["month"]))
    return frame[["month", "count", "population"]].reset_index(drop=True)


def _lsoa_series(wh: Warehouse, measure_id: str, lsoas: tuple[str, ...], first: date, last: date, age: str):
    wh.require_partner("An evaluation of a set of LSOAs")
    measure = wh.registry.get(measure_id)
    f = Filter(measure_id, (), first, last, age)

    def compute() -> pd.DataFrame:
        m, p = t.mart_counts, t.mart_population
        q = (
            sa.select(m.c.month, sa.func.sum(m.c.count).label("count"))
            .where(*mart_where(f), m.c.geography_level == "lsoa", m.c.lsoa21_code.in_(list(lsoas)))
            .group_by(m.c.month)
        )
        found = wh.read(q)
        found["month"] = pd.to_datetime(found["month"])
        pops = wh.read(
            sa.select(sa.func.sum(p.c.population)).where(
                p.c.geography_level == "lsoa",
                p.c.age_group == measure.population_group(age),
                p.c.area_code.in_(list(lsoas)),
            )
        )
        months = pd.DataFrame({"month": pd.date_range(first, last, freq="MS")})
        out = months.merge(found, on="month", how="left")
        out["count"] = out["count"].fillna(0).astype(float)
        out["population"] = float(pops.iloc[0, 0] or 0)
        return out

    return wh.cached("eval_lsoa_series", {**f.as_key(), "l": list(lsoas)}, compute)


def area_name(wh: Warehouse, districts, lsoas=()) -> str:
    names = wh.districts().set_index("district_code")["district_name"]
    if lsoas:
        return f"{len(lsoas)} LSOA{'s' if len(lsoas) != 1 else ''} chosen on the map"
    if not districts:
        return "all of HIPS"
    named = sorted(names.get(d, d) for d in districts)
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def recording_changes(measure, first: date, last: date) -> list[dict]:
    """Documented changes in how the source records the measure (config/measures.toml ``spc_recalculate``, the
    months the SPC charts restart their limits at) that fall inside the window."""
    out = []
    for month, reason in measure.spc_recalculate:
        when = parse_month(month, "a recorded change")
        if first < when <= last:
            out.append({"month": month, "reason": reason})
    return out


def before_window(q: Question) -> tuple[date, date]:
    """The 12 months before the start (or fewer, from the period's first month)."""
    return max(add_months(q.start, -12), q.first), add_months(q.start, -1)


def regression_to_the_mean(wh: Warehouse, q: Question) -> str | None:
    """A warning when the area was among the highest in the 12 months before the start: chosen because it was
    high, it would tend to fall back whatever was done."""
    lo, hi = before_window(q)
    if hi < lo:
        return None
    if q.lsoas:
        f = Filter(q.measure_id, (), lo, hi, q.age)
        counts = wh.lsoa_counts_raw(f).sort_values("count", ascending=False)
        top = set(counts["lsoa21_code"].head(max(1, int(round(TOP_LSOA_SHARE * len(counts))))))
        hot = sorted(set(q.lsoas) & top)
        if not hot:
            return None
        return (
            f"{len(hot)} of the {len(q.lsoas)} LSOAs were among the top {TOP_LSOA_SHARE:.0%} of HIPS LSOAs by "
            f"count in the 12 months before the start. Places chosen because they were high tend to fall back "
            "towards the average anyway (regression to the mean): part of any fall may be that, not the "
            "intervention. A comparison area chosen the same way helps."
        )
    if not q.districts:
        return None
    from vrp.data_access import outcomes

    rates = outcomes.district_rates(wh, q.measure_id, f"{lo:%Y-%m}", f"{hi:%Y-%m}", q.age)
    ranked = rates.dropna(subset=["rate"]).sort_values("rate", ascending=False)["district_code"].tolist()
    hot = [d for d in q.districts if d in ranked[:TOP_DISTRICTS]]
    if not hot:
        return None
    return (
        f"{area_name(wh, hot)} had one of the {TOP_DISTRICTS} highest rates of the {len(ranked)} districts in the "
        "12 months before the start. Places chosen because they were high tend to fall back towards the average "
        "anyway (regression to the mean): part of any fall may be that, not the intervention."
    )


def _ratio(r, per_year: bool = False) -> dict:
    key = "ratio_per_year" if per_year else "ratio"
    return {key: r.ratio, "lower": r.lower, "upper": r.upper, "p_value": r.p_value}


def _caveats(wh: Warehouse, q: Question, series: pd.DataFrame) -> list[dict]:
    """The checks that cannot refuse: few events, regression to the mean, recording changes, a comparison that
    holds the area evaluated."""
    out = []
    before = series["count"].iloc[: months_in(q.first, q.start) - 1]
    mean = float(before.mean()) if len(before) else 0.0
    label = wh.registry.get(q.measure_id).label
    if mean < TOO_FEW_EVENTS:
        raise CannotEvaluate(
            f"too few events: {mean:.1f} a month on average before the start (the evaluation needs at least "
            f"{TOO_FEW_EVENTS:g}); choose a larger area or a broader measure"
        )
    if mean < FEW_EVENTS:
        out.append(
            {
                "check": "few_events",
                "message": f"Few events: {mean:.1f} a month before the start (under {FEW_EVENTS:g}). Intervals are "
                "wide and only a large change could show.",
            }
        )
    rtm = regression_to_the_mean(wh, q)
    if rtm:
        out.append({"check": "regression_to_the_mean", "message": rtm})
    for change in recording_changes(wh.registry.get(q.measure_id), q.first, q.last):
        out.append(
            {
                "check": "recording_change",
                "message": f"{label}: a documented change in recording in {change['month']} ({change['reason']}) "
                "falls inside the period: a step there may be the change, not the intervention.",
            }
        )
    if q.comparison == () and (q.districts or q.lsoas):
        out.append(
            {
                "check": "comparison_contains_area",
                "message": "The comparison, all of HIPS, includes the area evaluated: the difference-in-differences "
                "ratio understates any change there.",
            }
        )
    return out


def evaluate(wh: Warehouse, q: Question) -> dict:
    """The evaluation as plain values (JSON-ready): the model's ratios, sentences, diagnostics, caveats and the
    monthly series with the fitted line and the counterfactual. CannotEvaluate or NotPublished when it cannot be
    answered for this audience."""
    return wh.cached("evaluation", q.key(), lambda: jsonable(_evaluate(wh, q)))


def jsonable(value):
    """Plain JSON values: numpy scalars as Python numbers, NaN and infinities (a diagnostic that could not be
    computed) as None."""
    if hasattr(value, "item") and not isinstance(value, (list, dict)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def _evaluate(wh: Warehouse, q: Question) -> dict:
    from vrp.stats.its import NotEvaluable
    from vrp.stats.its import evaluate as fit
    from vrp.stats.its_plan import did_sentence, level_sentence, trend_sentence

    measure = wh.registry.get(q.measure_id)
    series = monthly_series(wh, q.measure_id, q.districts, q.lsoas, q.first, q.last, q.age)
    caveats = _caveats(wh, q, series)
    comp = None
    if q.comparison is not None:
        comp = monthly_series(wh, q.measure_id, q.comparison, (), q.first, q.last, q.age)
    start_index = months_in(q.first, q.start) - 1
    try:
        res = fit(
            series["count"].to_numpy(dtype=float),
            series["month"],
            start_index,
            phase_in=q.phase_in,
            population=series["population"].to_numpy(dtype=float) if q.offset else None,
            errors=q.errors,
            family=q.family,
            comparison=None if comp is None else comp["count"].to_numpy(dtype=float),
            comparison_population=None if comp is None or not q.offset else comp["population"].to_numpy(dtype=float),
            min_before=MIN_BEFORE,
            min_after=MIN_AFTER,
        )
    except NotEvaluable as exc:
        raise CannotEvaluate(str(exc)) from exc
    place = area_name(wh, q.districts, q.lsoas)
    what = measure.label[:1].lower() + measure.label[1:]
    effect_start = pd.Timestamp(add_months(q.start, q.phase_in))
    sentences = [level_sentence(res.level, effect_start, what, place), trend_sentence(res.trend)]
    out_series = res.series.assign(month=res.series["month"].dt.strftime("%Y-%m"))
    if comp is not None:
        out_series["comparison"] = comp["count"].to_numpy(dtype=float)
        sentences.append(did_sentence(res.did_level, place, area_name(wh, q.comparison)))
    return {
        "measure": {"id": measure.id, "label": measure.label},
        "area": {"districts": list(q.districts), "lsoas": list(q.lsoas), "name": place},
        "comparison": None
        if q.comparison is None
        else {"districts": list(q.comparison), "name": area_name(wh, q.comparison)},
        "start": f"{q.start:%Y-%m}",
        "phase_in": q.phase_in,
        "from": f"{q.first:%Y-%m}",
        "to": f"{q.last:%Y-%m}",
        "age": q.age,
        "model": {
            "family": q.family,
            "errors": q.errors,
            "offset": q.offset,
            "terms": res.terms,
            "months_before": res.n_before,
            "months_after": res.n_after,
            "phase_in_months": res.n_phase_in,
            **{k: v for k, v in res.options.items() if k in ("negbin_alpha", "newey_west_lags")},
        },
        "level": _ratio(res.level),
        "trend": _ratio(res.trend, per_year=True),
        "pre_trend": _ratio(res.pre_trend, per_year=True),
        "did": None
        if res.did_level is None
        else {"level": _ratio(res.did_level), "trend": _ratio(res.did_trend, per_year=True)},
        "diagnostics": _diagnostics(res),
        "sentences": sentences,
        "caveats": caveats,
        "series": out_series.to_dict("records"),
        "synthetic": measure.source in wh.synthetic_sources(),
    }


def _diagnostics(res) -> dict:
    notes = []
    if res.dispersion > 1.5:
        notes.append(
            f"Overdispersed (Pearson chi-squared / df = {res.dispersion:.2f}): the quasi-Poisson scale widens the "
            "intervals to allow for it."
        )
    if res.autocorrelation_p < 0.05:
        notes.append(
            f"Residual autocorrelation (lag 1: {res.autocorrelation:.2f}, Breusch-Godfrey p = "
            f"{res.autocorrelation_p:.3f}): the intervals may be too narrow; try Newey-West errors."
        )
    return {
        "dispersion": res.dispersion,
        "autocorrelation_lag1": res.autocorrelation,
        "autocorrelation_p": res.autocorrelation_p,
        "notes": notes,
    }


def plan(wh: Warehouse, q: Question, months_after: int = 12) -> dict:
    """The minimum detectable level change of a planned evaluation: the months before ``q.start`` (from
    ``q.first``), ``months_after`` months after it; by simulation (vrp.stats.its_plan)."""
    from vrp.stats.its import NotEvaluable
    from vrp.stats.its_plan import minimum_detectable_effect

    if not 6 <= months_after <= 60:
        raise InvalidQuery("plan for 6 to 60 months after the start")
    last = add_months(q.start, -1)
    if last < q.first:
        raise CannotEvaluate("no months before the start to plan from")

    def compute() -> dict:
        series = monthly_series(wh, q.measure_id, q.districts, q.lsoas, q.first, last, q.age)
        try:
            p = minimum_detectable_effect(series["count"].to_numpy(dtype=float), series["month"], n_after=months_after)
        except NotEvaluable as exc:
            raise CannotEvaluate(str(exc)) from exc
        return {
            "mde_drop": p.mde_drop,
            "power": p.power,
            "alpha": p.alpha,
            "months_before": p.n_before,
            "months_after": p.n_after,
            "simulations": p.simulations,
            "dispersion": p.dispersion,
            "curve": jsonable(p.curve.to_dict("records")),
        }

    return wh.cached("evaluation_plan", {**q.key(), "after": months_after}, compute)
