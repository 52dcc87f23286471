"""What the outcome pages (hospital admissions, homicide) share: the filter state checked for a page's measure and
fitted to the months its source covers, the headline total, and the sentence that says how many counts are hidden.
One home, so neither page imports the other's callbacks."""

from __future__ import annotations

from dataclasses import dataclass

from vrp.callbacks.text import period_text
from vrp.data_access import published, published_outcomes
from vrp.data_access.context import warehouse
from vrp.data_access.filter_state import FilterState, coverage, read_state
from vrp.data_access.validation import HIPS, InvalidQuery
from vrp.periods import Period, add_months, months_in


@dataclass(frozen=True)
class Scope:
    """The filter state checked for this page's measure and clipped to the months its source covers."""

    districts: tuple[str, ...]
    start: str
    end: str
    age: str
    note: str | None = None
    published: Period | None = None  # public: the published period the page shows (start and end are its months)

    @property
    def months(self) -> int:
        return months_in(self.start, self.end)

    @property
    def period(self) -> str:
        return period_text(self.start, self.end)


def page_scope(wh, measure_id: str, state: FilterState) -> Scope:
    """Refuse what the warehouse does not know (InvalidQuery, shown politely); fit the period to the source."""
    if wh.audience == "public":
        return public_scope(wh, measure_id, state)
    f = wh.check(measure_id, state.districts, state.start, state.end, state.age)
    label = wh.registry.get(measure_id).label
    cov = coverage(wh, measure_id)
    if not cov:
        raise InvalidQuery(f"No data are loaded yet for {label.lower()}.")
    first, last = cov
    start = f"{f.start:%Y-%m}" if f.start else max(add_months(last, -11), first)
    end = f"{f.end:%Y-%m}" if f.end else last
    note = None
    if end < first or start > last:
        note = (
            f"{label} data run from {period_text(first, first)} to {period_text(last, last)}; the chosen period "
            f"is outside them, so this page shows the latest 12 months."
        )
        start, end = max(add_months(last, -11), first), last
    elif start < first or end > last:
        note = (
            f"{label} data run from {period_text(first, first)} to {period_text(last, last)}: the period is cut to fit."
        )
        start, end = max(start, first), min(end, last)
    return Scope(f.districts, start, end, f.age, note)


def public_scope(wh, measure_id: str, state: FilterState) -> Scope:
    """Public: the one published area the selection names (several districts are refused with the reason) and
    the published period of the page's measure the filter's period gives, with a note when it is another."""
    age = wh.check(measure_id, (), state.start or None, state.end or None, state.age).age  # refuse junk politely
    area = published.area_of(wh, state.districts)
    period, note = published.page_period(wh, measure_id, state.start, state.end)
    return Scope(() if area == HIPS else (area,), f"{period.start:%Y-%m}", f"{period.end:%Y-%m}", age, note, period)


def period_total(wh, measure_id: str, scope: Scope) -> dict:
    """The headline total: count (None when hidden), incomplete, population. Public: the published cell."""
    if wh.audience == "public":
        return published_outcomes.page_total(wh, measure_id, scope.districts, scope.start, scope.end, scope.age)
    return wh.period_total(measure_id, scope.districts, scope.start, scope.end, scope.age)


def open_page(state_data, measure_id: str):
    """What every callback of the admissions and homicide pages starts from: the warehouse, the filter state
    checked and fitted to the measure's source (page_scope), and the measure."""
    wh = warehouse()
    return wh, page_scope(wh, measure_id, read_state(state_data)), wh.registry.get(measure_id)


def hidden_sentence(n: int, threshold: int, what: str) -> str:
    if not n:
        return ""
    return (
        f" {n} {what}{' is' if n == 1 else 's are'} hidden (*): counts from 1 to {threshold - 1} are not published, "
        "and further counts are hidden where a total would reveal them."
    )
