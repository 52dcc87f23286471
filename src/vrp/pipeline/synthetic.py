"""Synthetic partner extracts for the demo warehouse, written in the same CSV contracts real extracts use.

Police records, hospital admissions and homicides are restricted in real life, so the demo generates stand-ins on
the real geography. Deterministic by seed. Where violence falls comes from population, deprivation and the real
police.uk violence points (so real town centres stand out); when it happens has seasonality, a gentle downward
trend and a night-time-economy peak on Friday and Saturday nights. Annual volumes sit near the published figures
in ../shared/data/national/published_figures.csv (HIPS knife-enabled offences about 1,000-1,300 a year,
sharp-object admissions 50-100, homicides 10-20). Every file is loaded flagged synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from vrp.geo.boundaries import LsoaIndex

DEFAULT_START = date(2021, 4, 1)
DEFAULT_END = date(2026, 9, 1)

# Offences in the synthetic police extract: (HO code, offences a year across HIPS at the start, share with a knife,
# share domestic, victim present, yearly trend). Knife-flagged total is about 1,150 a year, falling to about 950.
POLICE_OFFENCES = [
    ("8N", 10_400, 0.045, 0.35, True, -0.03),
    ("105A", 12_000, 0.0, 0.35, True, -0.01),
    ("5D", 520, 0.30, 0.15, True, -0.04),
    ("5E", 40, 0.25, 0.10, True, -0.04),
    ("2", 28, 0.55, 0.15, True, -0.03),
    ("3B", 1_100, 0.12, 0.45, True, -0.02),
    ("34B", 1_250, 0.22, 0.0, True, -0.05),
    ("34A", 160, 0.20, 0.0, True, -0.05),
    ("19C", 900, 0.012, 0.45, True, 0.0),
    ("20A", 1_500, 0.005, 0.15, True, 0.0),
    ("10D", 900, 0.0, 0.0, False, -0.02),
    ("10C", 320, 0.0, 0.0, False, -0.02),
    ("10B", 45, 0.0, 0.0, False, 0.0),
    ("81", 25, 0.0, 0.0, False, 0.0),
    ("62A", 110, 0.0, 0.0, False, -0.02),
    ("66R", 0.4, 0.0, 0.0, False, 0.0),
    ("4.4", 12, 0.0, 0.0, True, 0.0),
    ("4.8", 14, 0.0, 0.0, True, 0.0),
    ("1", 9, 0.45, 0.35, True, -0.02),
    ("4.1", 3, 0.20, 0.30, True, 0.0),
]
ADMISSIONS_PER_YEAR = 80
HOMICIDES_PER_YEAR = 14
MALE_SHARE_ADMISSIONS = 0.88


@dataclass
class SpatialModel:
    """Where things happen: LSOA weights and a pool of plausible points in each LSOA."""

    codes: np.ndarray
    districts: np.ndarray
    public_weight: np.ndarray  # street violence: town centres, night-time economy
    domestic_weight: np.ndarray  # follows where people live, more in deprived areas
    points_lon: list[np.ndarray]
    points_lat: list[np.ndarray]


def months_between(start: date, end: date) -> pd.DatetimeIndex:
    if end < start:
        raise ValueError(f"the end month {end:%Y-%m} is before the start {start:%Y-%m}")
    return pd.date_range(start, end, freq="MS")


def seasonal(months: pd.DatetimeIndex) -> np.ndarray:
    # Violence peaks in early summer and dips in February.
    return 1 + 0.12 * np.cos(2 * np.pi * (months.month.to_numpy() - 6.5) / 12)


def spatial_model(
    index: LsoaIndex,
    area: pd.DataFrame,
    population: pd.Series,
    police_uk: pd.DataFrame,
    rng: np.random.Generator,
) -> SpatialModel:
    """``area``: dim_area rows; ``population``: all-ages population by LSOA; ``police_uk``: real violence points."""
    area = area.set_index("lsoa21_code").loc[index.codes]
    pop = population.reindex(index.codes).fillna(0).to_numpy()
    deprivation = 1 + 0.13 * (10 - area["imd_decile"].to_numpy())
    base = pop * deprivation
    lsoa_of = pd.Series(range(len(index.codes)), index=index.codes)
    real = police_uk.dropna(subset=["lsoa21_code"])
    real_counts = real["lsoa21_code"].value_counts().reindex(index.codes).fillna(0).to_numpy()
    public = 0.35 * base / base.sum() + 0.65 * (real_counts + 0.3) / (real_counts + 0.3).sum()
    domestic = base / base.sum()

    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    real_idx = real.assign(i=real["lsoa21_code"].map(lsoa_of)).groupby("i")
    real_groups = {i: g for i, g in real_idx}
    for i, geom in enumerate(index.geometries):
        rx, ry = _random_points(geom, 40, rng)
        if i in real_groups:
            g = real_groups[i]
            # Real map points, repeated so they carry most of the weight: violence clusters on real streets.
            rx = np.concatenate([rx, np.repeat(g["longitude"].to_numpy(), 3)])
            ry = np.concatenate([ry, np.repeat(g["latitude"].to_numpy(), 3)])
        lons.append(rx)
        lats.append(ry)
    return SpatialModel(index.codes, index.districts, public, domestic, lons, lats)


def _random_points(geom, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = geom.bounds
    xs, ys = [], []
    got = 0
    for _ in range(50):
        x = rng.uniform(minx, maxx, n * 4)
        y = rng.uniform(miny, maxy, n * 4)
        inside = shapely.contains_xy(geom, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        got += int(inside.sum())
        if got >= n:
            break
    x, y = np.concatenate(xs)[:n], np.concatenate(ys)[:n]
    if len(x) == 0:  # a sliver: use a point guaranteed inside
        p = geom.representative_point()
        x, y = np.array([p.x]), np.array([p.y])
    return x, y


def _place(
    model: SpatialModel, lsoa_idx: np.ndarray, rng: np.random.Generator, index: LsoaIndex
) -> tuple[np.ndarray, np.ndarray]:
    lon = np.empty(len(lsoa_idx))
    lat = np.empty(len(lsoa_idx))
    order = np.argsort(lsoa_idx, kind="stable")
    areas, starts = np.unique(lsoa_idx[order], return_index=True)
    for i, rows in zip(areas, np.split(order, starts[1:]), strict=True):
        pick = rng.integers(0, len(model.points_lon[i]), len(rows))
        lon[rows] = model.points_lon[i][pick]
        lat[rows] = model.points_lat[i][pick]
    # A little jitter (about 30 m) so repeated map points do not stack exactly; keep it only inside the LSOA.
    jl = lon + rng.normal(0, 0.0004, len(lon))
    jt = lat + rng.normal(0, 0.00027, len(lat))
    ok = shapely.contains_xy(index.geometries[lsoa_idx].astype(object), jl, jt) if len(lon) else np.array([], bool)
    lon = np.where(ok, jl, lon)
    lat = np.where(ok, jt, lat)
    return np.round(lon, 6), np.round(lat, 6)


def _victim_ages(n: int, rng: np.random.Generator, young: float) -> np.ndarray:
    """Ages with a young skew; ``young`` scales the share under 25."""
    band = rng.choice(
        3, size=n, p=np.array([0.13, 0.27, 0.60]) * [young, young, 1] / (0.13 * young + 0.27 * young + 0.60)
    )
    age = np.where(
        band == 0,
        rng.integers(10, 18, n),
        np.where(band == 1, rng.integers(18, 25, n), 25 + np.minimum(rng.exponential(14, n), 64)),
    )
    return age.astype(int)


def _occurred(recorded_days: np.ndarray, domestic: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Occurrence date-times: a reporting lag of a few days, and a night-time peak on Friday and Saturday nights."""
    n = len(recorded_days)
    lag = np.where(rng.random(n) < 0.7, 0, rng.geometric(0.25, n))
    day = recorded_days - lag  # the calendar day it happened
    # A night runs from the evening into the small hours of the next day; which nights are busy is a matter of the
    # evening they began (Friday and Saturday). A time past midnight belongs to the evening before, so it still
    # falls on ``day``, never after the record.
    # The draws come in the order they always have, so the rest of the demo data (drawn after) stays as it was.
    chance = rng.random(n)
    night_minutes = np.round(rng.normal(23.7, 1.8, n) * 60).astype(int)
    day_minutes = np.round(rng.normal(15.5, 3.5, n) * 60).astype(int) % (24 * 60)  # the rare tails wrap round
    after_midnight = night_minutes >= 24 * 60
    evening = day - after_midnight
    weekday = (evening + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    weekend_night = np.isin(weekday, [4, 5]) & ~domestic
    at_night = chance < np.where(weekend_night, 0.68, np.where(domestic, 0.30, 0.35))
    minutes = np.where(at_night, np.clip(night_minutes - after_midnight * 24 * 60, 0, 24 * 60 - 1), day_minutes)
    return day.astype("datetime64[D]").astype("datetime64[m]") + minutes.astype("timedelta64[m]")


def police_records(
    model: SpatialModel,
    index: LsoaIndex,
    months: pd.DatetimeIndex,
    rng: np.random.Generator,
    scale: float = 1.0,
) -> pd.DataFrame:
    years = (months - months[0]).days.to_numpy() / 365.25
    season = seasonal(months)
    frames = []
    for code, per_year, knife, domestic_share, victim, trend in POLICE_OFFENCES:
        lam = per_year / 12 * scale * season * (1 + trend) ** years
        counts = rng.poisson(lam)
        n = int(counts.sum())
        if n == 0:
            continue
        month_start = np.repeat(months.to_numpy().astype("datetime64[D]"), counts)
        days_in_month = np.repeat(months.days_in_month.to_numpy(), counts)
        recorded = month_start + rng.integers(0, days_in_month).astype("timedelta64[D]")
        is_knife = rng.random(n) < knife
        is_domestic = (rng.random(n) < domestic_share) & victim
        lsoa = np.where(
            is_domestic,
            rng.choice(len(model.codes), n, p=model.domestic_weight),
            rng.choice(len(model.codes), n, p=model.public_weight),
        )
        lon, lat = _place(model, lsoa, rng, index)
        ages = _victim_ages(n, rng, young=1.6 if knife > 0.1 else 1.0).astype(object)
        ages[rng.random(n) < 0.06] = ""
        if not victim:
            ages[:] = ""
        occurred = _occurred(recorded.astype("int64"), is_domestic, rng).astype("datetime64[m]")
        occurred_text = pd.Series(pd.to_datetime(occurred).strftime("%Y-%m-%dT%H:%M"))
        occurred_text[rng.random(n) < 0.08] = ""
        frames.append(
            pd.DataFrame(
                {
                    "recorded_date": pd.to_datetime(recorded).strftime("%Y-%m-%d"),
                    "occurred_datetime": occurred_text.to_numpy(),
                    "ho_offence_code": code,
                    "knife_flag": np.where(is_knife, "Y", "N"),
                    "victim_age": ages,
                    "domestic_flag": np.where(is_domestic, "Y", "N"),
                    "longitude": lon,
                    "latitude": lat,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True).sort_values(["recorded_date", "ho_offence_code"], kind="stable")
    year = out["recorded_date"].str.slice(2, 4)
    out.insert(0, "crime_reference", "44" + year + "/" + (out.groupby(year).cumcount() + 1).astype(str).str.zfill(7))
    return out.reset_index(drop=True)


def admissions(
    model: SpatialModel, months: pd.DatetimeIndex, rng: np.random.Generator, scale: float = 1.0
) -> pd.DataFrame:
    """District-month counts by age band and sex (the usual shape of a HES extract)."""
    years = (months - months[0]).days.to_numpy() / 365.25
    district_codes = np.unique(model.districts)
    share = pd.Series(model.public_weight).groupby(model.districts).sum().reindex(district_codes).to_numpy()
    bands = [("0-17", 0.16), ("18-24", 0.30), ("25+", 0.52), ("unknown", 0.02)]
    rows = []
    for mi, month in enumerate(months):
        total = ADMISSIONS_PER_YEAR / 12 * scale * seasonal(months[mi : mi + 1])[0] * 0.96 ** years[mi]
        for d, dshare in zip(district_codes, share, strict=True):
            for band, bshare in bands:
                for sex, sshare in (("M", MALE_SHARE_ADMISSIONS), ("F", 1 - MALE_SHARE_ADMISSIONS)):
                    n = rng.poisson(total * dshare * bshare * sshare)
                    if n:
                        rows.append((month.strftime("%Y-%m"), d, band, sex, n))
    out = pd.DataFrame(rows, columns=["month", "area_code", "age_band", "sex", "admissions"])
    # One trust's returns arrive already suppressed under the NHS rule: those cells say "*".
    hidden = (rng.random(len(out)) < 0.05) & (out["admissions"] <= 7)
    out["admissions"] = out["admissions"].astype(str).where(~hidden, "*")
    out["diagnosis_code"] = "X99"
    return out


def homicides(
    model: SpatialModel, months: pd.DatetimeIndex, rng: np.random.Generator, scale: float = 1.0
) -> pd.DataFrame:
    lam = HOMICIDES_PER_YEAR / 12 * scale * np.ones(len(months))
    counts = rng.poisson(lam)
    n = int(counts.sum())
    month_start = np.repeat(months.to_numpy().astype("datetime64[D]"), counts)
    days = np.repeat(months.days_in_month.to_numpy(), counts)
    when = month_start + rng.integers(0, days).astype("timedelta64[D]")
    domestic = rng.random(n) < 0.33
    lsoa = np.where(
        domestic,
        rng.choice(len(model.codes), n, p=model.domestic_weight),
        rng.choice(len(model.codes), n, p=model.public_weight),
    )
    age = np.where(domestic, 25 + np.minimum(rng.exponential(22, n), 70).astype(int), _victim_ages(n, rng, young=1.3))
    methods = [
        "sharp_instrument",
        "hitting_kicking",
        "blunt_instrument",
        "strangulation",
        "shooting",
        "other",
        "not_known",
    ]
    method = rng.choice(methods, n, p=[0.46, 0.2, 0.08, 0.1, 0.03, 0.09, 0.04])
    location = np.where(
        domestic,
        "dwelling",
        rng.choice(
            ["street_public", "dwelling", "commercial_premises", "open_space", "other"],
            n,
            p=[0.5, 0.22, 0.1, 0.13, 0.05],
        ),
    )
    sex = np.where(rng.random(n) < np.where(domestic, 0.35, 0.85), "M", "F")
    refs = [f"HOM{pd.Timestamp(w).year}-{i + 1:03d}" for i, w in enumerate(when)]
    out = pd.DataFrame(
        {
            "homicide_reference": refs,
            "victim_number": 1,
            "offence_date": pd.to_datetime(when).strftime("%Y-%m-%d"),
            # Area of the offence: mostly the LSOA; some records give only the district.
            "area_code": np.where(rng.random(n) < 0.85, model.codes[lsoa], model.districts[lsoa]),
            "victim_age": age,
            "victim_sex": sex,
            "domestic": np.where(domestic, "Y", "N"),
            "method": method,
            "location_type": location,
        }
    )
    # A few incidents with a second victim.
    extra = out[rng.random(n) < 0.03].assign(victim_number=2)
    return (
        pd.concat([out, extra], ignore_index=True)
        .sort_values(["offence_date", "homicide_reference", "victim_number"])
        .reset_index(drop=True)
    )


def write_extracts(
    out_dir: Path, model: SpatialModel, index: LsoaIndex, *, seed: int, scale: float, start: date, end: date
) -> dict[str, Path]:
    """Generate and write the three partner extracts; returns source -> file."""
    months = months_between(start, end)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"synthetic-seed{seed}-scale{scale:g}-{start:%Y%m}-{end:%Y%m}"
    files = {
        "police_records": (
            out_dir / f"police-records-{stem}.csv",
            police_records(model, index, months, streams[0], scale),
        ),
        "admissions": (out_dir / f"admissions-x99-{stem}.csv", admissions(model, months, streams[1], scale)),
        "homicides": (out_dir / f"homicides-{stem}.csv", homicides(model, months, streams[2], scale)),
    }
    for path, frame in files.values():
        frame.to_csv(path, index=False)
    return {k: v[0] for k, v in files.items()}
