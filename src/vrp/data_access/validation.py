"""Checking what the browser (or the CLI) sends: every filter value is compared with known values before it
reaches SQL, and comes out as a normalised ``Filter`` from which both the cache key and the SQL are built."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from vrp.data_access.measures import MeasureRegistry

AGE_GROUPS = {"all": None, "u25": ("u18", "18_24")}
HIPS = "HIPS"


class InvalidQuery(ValueError):
    """A filter value that is not one the warehouse knows: refused with a message fit for the page."""


class NotPermitted(PermissionError):
    """Record-level or unsuppressed data asked for in the public audience."""


_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def parse_month(value: str | date | None, what: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.replace(day=1)
    if not isinstance(value, str) or not _MONTH.match(value.strip()):
        raise InvalidQuery(f"{what} must be a month like 2024-03, not {str(value)[:20]!r}")
    y, m = value.strip().split("-")
    if not 2000 <= int(y) <= 2100:  # year 0000 or 9999 would break date arithmetic further on
        raise InvalidQuery(f"{what} {value.strip()} is outside the years this dashboard covers")
    return date(int(y), int(m), 1)


@dataclass(frozen=True)
class Filter:
    """A checked, normalised question: the cache key and the SQL both come from this."""

    measure_id: str
    districts: tuple[str, ...]  # sorted; empty = all of HIPS
    start: date | None
    end: date | None
    age: str

    def as_key(self) -> dict:
        return {
            "m": self.measure_id,
            "d": list(self.districts),
            "s": self.start,
            "e": self.end,
            "a": self.age,
        }


def check_filter(
    registry: MeasureRegistry,
    district_codes: Callable[[], frozenset[str]],
    measure_id: str,
    districts=(),
    start=None,
    end=None,
    age: str = "all",
) -> Filter:
    """The checked filter, or InvalidQuery. ``district_codes`` is asked only when districts are given."""
    if not isinstance(measure_id, str) or measure_id not in registry:
        raise InvalidQuery(f"unknown measure {str(measure_id)[:40]!r}")
    if isinstance(districts, str):
        districts = [d for d in districts.split(",") if d.strip()]
    if not isinstance(districts, (list, tuple, set, frozenset)):
        raise InvalidQuery("districts must be a list of district codes")
    cleaned = []
    for d in districts:
        code = str(d).strip().upper()
        if code == HIPS:
            continue
        if code not in district_codes():
            raise InvalidQuery(f"unknown district {str(d)[:20]!r}")
        cleaned.append(code)
    s, e = parse_month(start, "the start month"), parse_month(end, "the end month")
    if s and e and s > e:
        raise InvalidQuery(f"the start month {s:%Y-%m} is after the end month {e:%Y-%m}")
    if age not in AGE_GROUPS:
        raise InvalidQuery(f"age must be one of {', '.join(AGE_GROUPS)}, not {str(age)[:20]!r}")
    measure = registry.get(measure_id)
    if age != "all" and measure.source in ("police_uk", "ons_knife"):
        raise InvalidQuery(f"{measure.label} has no victim ages, so no under-25 figure")
    return Filter(measure_id, tuple(sorted(set(cleaned))), s, e, age)
