"""What the browser may send a cached callback, in canonical form.

Each normaliser takes one input as posted and returns the value the view is computed from and keyed on, or raises
InvalidQuery (shown politely by ``guarded``). Equal questions spelled differently (districts in another order,
lower-case codes, `` 2024-3``) become one value; anything the warehouse does not know is refused before the cache
sees it, so posting junk cannot fill the cache (or, with a FileSystemCache, evict the entries people need).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from vrp.data_access import places
from vrp.data_access.context import warehouse
from vrp.data_access.filter_state import DEFAULT_MEASURE
from vrp.data_access.validation import AGE_GROUPS, HIPS, InvalidQuery

FIELDS = ("districts", "start", "end", "measure", "age")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidQuery(f"The {what} filter was not understood.")
    return value.strip()


def _districts(wh, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(d, str) for d in value):
        raise InvalidQuery("The district filter was not a list of district codes.")
    known = wh.district_codes
    codes = set()
    for d in value:
        code = d.strip().upper()
        if code in ("", HIPS):
            continue
        if code not in known:
            raise InvalidQuery(f"unknown district {d[:20]!r}")
        codes.add(code)
    return sorted(codes)


def _month(what: str) -> Callable:
    def read(_wh, value) -> str:
        text = "" if value is None else _text(value, what)
        if not text:
            return ""
        match = _MONTH.fullmatch(text)
        if not match or not 1 <= int(match[2]) <= 12:
            raise InvalidQuery(f"the {what} month must be a month like 2024-03, not {text[:20]!r}")
        if not 2000 <= int(match[1]) <= 2100:
            raise InvalidQuery(f"the {what} month {text[:20]} is outside the years this dashboard covers")
        return f"{int(match[1]):04d}-{int(match[2]):02d}"

    return read


def _measure(wh, value) -> str:
    text = ("" if value is None else _text(value, "measure")).lower() or DEFAULT_MEASURE
    if text not in wh.registry:
        raise InvalidQuery(f"unknown measure {text[:40]!r}")
    return text


def _age(_wh, value) -> str:
    text = ("" if value is None else _text(value, "age")).lower() or "all"
    if text not in AGE_GROUPS:
        raise InvalidQuery(f"age must be one of {', '.join(AGE_GROUPS)}, not {text[:20]!r}")
    return text


_READERS = {"districts": _districts, "start": _month("start"), "end": _month("end"), "measure": _measure, "age": _age}


def filter_state(*fields: str) -> Callable:
    """The shell's filter state reduced to ``fields`` (all five by default: a page that reads fewer names only
    those, so the others make no new entries), each checked and written one way. An empty state stays None (the
    callbacks answer it with no_update); anything else the browser adds is dropped."""
    fields = fields or FIELDS
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not filter fields: {sorted(unknown)}")

    def normalise(state_data) -> dict | None:
        if not state_data:
            return None
        # The shell always writes the period: a state without one was not written by the page.
        if not isinstance(state_data, dict) or any(f not in state_data for f in fields if f in ("start", "end")):
            raise InvalidQuery("The filters were not understood: please choose them again.")
        wh = warehouse()
        state = {f: _READERS[f](wh, state_data.get(f)) for f in fields}
        start, end = state.get("start"), state.get("end")
        if start and end and start > end:
            raise InvalidQuery(f"the start month {start} is after the end month {end}")
        return state

    return normalise


def one_of(values: Iterable[str], what: str, default: str | None = None) -> Callable:
    """A value from a fixed set (a radio item, a page's own measure), trimmed and lower-cased; missing gives
    ``default`` when there is one."""
    allowed = tuple(values)

    def normalise(value) -> str:
        if value in (None, "") and default is not None:
            return default
        text = value.strip().lower() if isinstance(value, str) else None
        if text not in allowed:
            raise InvalidQuery(f"unknown {what} {str(value)[:20]!r}")
        return text

    return normalise


def flag(value) -> bool:
    """A component's boolean (a details element's ``open``): missing is False, anything but a boolean refused."""
    if value is None or isinstance(value, bool):
        return bool(value)
    raise InvalidQuery("A switch on the page sent something other than on or off.")


def opened(n_clicks) -> bool:
    """Whether a details element is open, from its summary's clicks (the browser toggles it on each click, by
    mouse or keyboard): odd is open. Missing is closed; anything but a whole number is refused."""
    if n_clicks is None:
        return False
    if isinstance(n_clicks, bool) or not isinstance(n_clicks, int) or n_clicks < 0:
        raise InvalidQuery("The table switch sent something other than a number of clicks.")
    return n_clicks % 2 == 1


def chosen(options: Iterable[str], what: str) -> Callable:
    """A checklist's value: a list of known options, as a sorted list without repeats."""
    allowed = frozenset(options)

    def normalise(value) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v in allowed for v in value):
            raise InvalidQuery(f"The {what} option was not understood.")
        return sorted(set(value))

    return normalise


def lsoa_code(value) -> str | None:
    """An LSOA code the warehouse knows (``e01035444 `` is ``E01035444``); missing is None."""
    if value is None or value == "":
        return None
    code = value.strip().upper() if isinstance(value, str) else None
    if code not in set(places.lsoa_options(warehouse())["lsoa21_code"]):
        raise InvalidQuery(f"unknown LSOA {str(value)[:20]!r}")
    return code


def strings(*values) -> None:
    """Controls and link parts that the page always sends as text (or not at all): anything else is refused."""
    if any(v is not None and not isinstance(v, str) for v in values):
        raise InvalidQuery("A control on the page sent something that was not understood: please choose again.")


def sync_inputs(search, districts, measure, age, start, end, preset, pathname) -> None:
    """The address and the filter bar as the shell's sync receives them: each of the type the page sends (a
    string, or for partners' districts a list of strings), else InvalidQuery. Their values are checked by
    ``filter_state.resolve``, which replaces what it does not know and says so."""
    for value, what in ((search, "link"), (pathname, "page address")):
        if value is not None and not isinstance(value, str):
            raise InvalidQuery(f"The {what} was not understood: please choose the filters again.")
    if districts is not None and not isinstance(districts, str):
        if not isinstance(districts, (list, tuple)) or not all(isinstance(d, str) for d in districts):
            raise InvalidQuery("The district filter was not a list of district codes.")
    for value, what in (
        (measure, "measure"),
        (age, "age"),
        (start, "start month"),
        (end, "end month"),
        (preset, "period"),
    ):
        if value is not None and not isinstance(value, str):
            raise InvalidQuery(f"The {what} filter was not understood.")


# The pages with a measure of their own (knife crime, admissions, homicide, national) do not read the measure filter.
PAGE_STATE = filter_state("districts", "start", "end", "age")
