"""The page registry: path -> page. A small router of our own rather than Dash Pages, whose router redraws the
whole page whenever the query string changes; here the query string is filter state, and a filter change must
update the map in place (Patch), not rebuild it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dash import html


@dataclass(frozen=True)
class Page:
    path: str
    name: str
    title: str
    layout: Callable[[], html.Div]
    uses_filters: bool = True
    measure: str | None = None  # a page that shows one measure of its own, whatever the Measure filter says
    period_level: str = "hips"  # whose published periods the public chooses from: "lsoa" for the map's years
    in_nav: bool = True  # False: linked from elsewhere (the footer), not the navigation
    uses_measure: bool = True  # False: the page reads no measure from the filter (the Overview shows them all)

    @property
    def hides_measure(self) -> bool:
        """Whether the Measure box would be a choice that does nothing here."""
        return self.measure is not None or not self.uses_measure


def pages() -> list[Page]:
    from vrp.dashboards import accessibility, admissions, data, home, homicide, hotspots, knife_crime, national, profile
    from vrp.dashboards import evaluate as evaluate_page

    return [
        Page("/", "Overview", "Overview", home.layout, uses_measure=False),
        Page("/hotspots", "Hotspots", "Hotspots", hotspots.layout, period_level="lsoa"),
        Page(
            "/knife-crime",
            "Knife crime",
            "Knife-enabled serious violence",
            knife_crime.layout,
            True,
            "knife_enabled_sv",
        ),
        Page(
            "/hospital-admissions",
            "Hospital admissions",
            admissions.PAGE_TITLE,
            admissions.layout,
            True,
            "sharp_object_admissions",
        ),
        Page("/homicide", "Homicide", homicide.PAGE_TITLE, homicide.layout, True, "homicide"),
        Page(
            "/national", "National comparison", "Knife crime: national comparison", national.layout, uses_measure=False
        ),
        Page("/evaluate", "Evaluate", "Evaluate an intervention", evaluate_page.layout, uses_filters=False),
        # The profile reads the district and period (its own measures): the Measure box is hidden.
        Page("/profile", "Profile", profile.PAGE_TITLE, profile.layout, True, profile.FOCUS),
        Page("/data", "Data and definitions", "Data and definitions", data.layout, uses_filters=False),
        Page("/accessibility", "Accessibility", accessibility.PAGE_TITLE, accessibility.layout, False, in_nav=False),
    ]


def nav_pages() -> list[Page]:
    """The pages the navigation lists, in its order (their links are ``nav-0``, ``nav-1``, ...)."""
    return [p for p in pages() if p.in_nav]


def find(path: str | None) -> Page | None:
    if path is not None and not isinstance(path, str):  # the browser may post anything: not a page
        return None
    path = (path or "/").rstrip("/") or "/"
    return next((p for p in pages() if p.path == path), None)
