"""A layer of parts under one total (the LSOAs of a district's year), protected on its own: the parts take part
in no other relation, so their bounds follow from the total's interval alone (docs/METHODS.md#the-published-cube,
"The LSOA layer"). The whole-table protection is stats/disclosure.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vrp.stats.disclosure_audit import EPS


@dataclass
class Parts:
    hidden: np.ndarray  # which parts are not published
    primary: np.ndarray  # which parts are small themselves
    lower: np.ndarray  # for hidden parts, the whole-number interval a user can derive (NaN for published ones)
    upper: np.ndarray
    published_sum: float  # what the published parts add up to: the total is at least this much
    remainder_bounds: tuple[float, float]  # the same for the unpublished remainder, when there is one


def protect_parts(values: np.ndarray, threshold: int, total: tuple[float, float], remainder: float = 0.0) -> Parts:
    """Parts that add up to one total and take part in no other relation (the LSOAs of a district's year), given
    what a user can derive about the total: (value, value) when it is published, else its audited interval. An
    unpublished remainder (records with no LSOA) is an unknown part that is never shown.

    Hidden parts are the small ones, and one more where a single unknown would be the total less the rest: the
    smallest part when the total is published, the smallest non-zero part when it is hidden (so the hidden ones
    hold something the total's interval covers). Each hidden part then lies from zero (or, alone, from the total's
    lower bound less the published parts) to the total's upper bound less the published parts.
    """
    values = np.asarray(values, dtype=float)
    primary = (values > 0) & (values < threshold)
    hidden = primary.copy()
    sensitive_rest = 0 < remainder < threshold
    unknowns = hidden.sum() + (remainder > 0)
    published_total = total[0] == total[1]
    candidates = np.flatnonzero(~hidden if published_total else ~hidden & (values > 0))
    if not len(candidates) and not published_total:
        candidates = np.flatnonzero(~hidden)
    needs_more = (
        unknowns == 1
        and (published_total and (primary.any() or sensitive_rest))
        or (unknowns == 0 and not published_total)
    )
    if needs_more and len(candidates):
        hidden[candidates[np.argmin(values[candidates])]] = True
    published_sum = float(values[~hidden].sum())
    unknowns = hidden.sum() + (remainder > 0)
    low, high = total[0] - published_sum, total[1] - published_sum
    # One unknown is the whole gap; with more, each is at least what the others' highs leave (an unbounded high,
    # inf, leaves 0; multiplied out for one unknown it was 0 * inf, a NaN warning though never used).
    lower_one = max(0.0, low - (unknowns - 1) * high) if unknowns > 1 else low
    lower = np.where(hidden, np.ceil(lower_one - EPS), np.nan)
    upper = np.where(hidden, np.floor(high + EPS), np.nan)
    rest = (np.ceil(lower_one - EPS), np.floor(high + EPS)) if remainder > 0 else (np.nan, np.nan)
    return Parts(hidden, primary, lower, upper, published_sum, rest)
