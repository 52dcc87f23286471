"""The /api page: plain HTML, styled with the app's own Bootstrap (assets/), explaining each endpoint with
examples built from the warehouse's real measures and districts."""

from __future__ import annotations

from html import escape

from vrp.data_access.cube import CubeReader
from vrp.data_access.validation import HIPS

PARAMETERS = (
    ("measure", "required", "A measure id from <code>/api/v1/measures</code>."),
    (
        "area",
        "HIPS",
        "<code>HIPS</code> and/or district codes, comma-separated. Each area gets its own rows: the "
        "API never adds districts together for the public. For the ONS force series, <code>HIPS</code> means the "
        "Hampshire force area (rows name it <code>Hampshire</code>), and any force name is accepted.",
    ),
    (
        "period",
        "month",
        "<code>month</code>, <code>quarter</code>, <code>fy</code> (April to March) or "
        "<code>rolling12</code> (12 months to each quarter end): the published lattice. <code>/api/v1/measures</code> "
        "lists which a measure is published by. <code>range</code> (partners only) sums <code>from</code> to "
        "<code>to</code> over the areas given, in one row.",
    ),
    ("from", "", "YYYY-MM: only periods that start in or after this month."),
    ("to", "", "YYYY-MM: only periods that end in or before this month."),
    ("age", "all", "<code>all</code>, or <code>u25</code> for victims under 25 (where the source records age)."),
    ("format", "json", "<code>json</code>, or <code>csv</code> for the same rows as plain CSV with a header row."),
)

ENDPOINTS = (
    (
        "<code>GET /api/v1/measures</code>",
        "Every measure: id, name, unit, source, definition, suppress_below "
        "(counts from 1 to this less one are hidden), and the periods and ages it is published for.",
    ),
    (
        "<code>GET /api/v1/data</code>",
        '<code>{"rows": [...], "meta": {...}}</code>: one row per area and '
        "period with count, suppressed, rate and its 95% interval (lower, upper); meta gives the source, "
        "definition, extract date, licence and whether the data are synthetic.",
    ),
    ('<a href="/api/openapi.json"><code>GET /api/openapi.json</code></a>', "This API described in OpenAPI 3.1."),
)


def _table(head: tuple[str, ...], rows) -> str:
    th = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (
        f'<div class="table-responsive"><table class="table table-sm"><thead><tr>{th}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _example(base: str, path: str) -> str:
    return (
        f'<pre class="bg-light p-2 border"><code>curl -s "{escape(base + path)}"</code></pre>'
        f'<p>Open it: <a href="{escape(path)}">{escape(path)}</a></p>'
    )


def _areas(reader: CubeReader) -> str:
    districts = reader.wh.districts()
    rows = [("<code>HIPS</code>", "all of Hampshire, the Isle of Wight, Portsmouth and Southampton")]
    rows += [
        (f"<code>{escape(c)}</code>", escape(n))
        for c, n in zip(districts["district_code"], districts["district_name"], strict=True)
    ]
    forces = ", ".join(escape(f) for f in sorted(reader.forces())) or "none loaded"
    return (
        _table(("area", "name"), rows)
        + f"<p>Force areas (the ONS series only; <code>HIPS</code> there means Hampshire): {forces}.</p>"
    )


def render(reader: CubeReader, base: str = "http://127.0.0.1:8050") -> str:
    """The page; ``base`` is the server's address as the browser reached it, for the curl examples."""
    wh = reader.wh
    measures = reader.measures()
    district = sorted(wh.district_codes)[0] if wh.district_codes else HIPS
    published = [m for m in measures if m["periods"] and m["areas"] == "district"]
    first = published[0] if published else (measures[0] if measures else {"id": "serious_violence", "periods": []})
    period = next((p for p in ("fy", "rolling12", "quarter", "month") if p in first["periods"]), "fy")
    data = f"/api/v1/data?measure={first['id']}&area={HIPS},{district}&period={period}"
    synthetic = any(m["synthetic"] for m in measures)
    banner = (
        '<p class="vrp-synthetic p-3">SYNTHETIC demonstration data: the partner sources in this warehouse are not '
        "real records. Every response says so in <code>meta.synthetic</code>; do not publish them.</p>"
        if synthetic
        else ""
    )
    audience = escape(reader.audience)
    measure_rows = [
        (
            f"<code>{escape(m['id'])}</code>",
            escape(m["name"]),
            escape(", ".join(m["periods"]) or "not yet published"),
            escape(", ".join(m["ages"])),
            str(m["suppress_below"]),
        )
        for m in measures
    ]
    endpoints = _table(("endpoint", "what it returns"), ENDPOINTS)
    parameters = _table(("name", "default", "meaning"), [(f"<code>{n}</code>", escape(d), t) for n, d, t in PARAMETERS])
    measure_table = _table(("id", "name", "periods", "ages", "suppress below"), measure_rows)
    first_name = first.get("name", first["id"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>API: HIPS serious-violence figures</title>
<link rel="stylesheet" href="/assets/bootstrap.min.css"><link rel="stylesheet" href="/assets/vrp.css"></head>
<body><header class="vrp-header p-3"><a href="/">HIPS serious violence dashboard</a></header>
<main class="container my-4">
<h1>The figures as data: a read-only API</h1>
{banner}
<p>The dashboard's figures for your own tools: JSON, or CSV for Power BI and Excel. This server answers the
<strong>{audience}</strong> audience. Public answers come only from the published cube: every measure by area,
age group and period of a fixed lattice, with small numbers hidden (the count is <code>null</code>, and so are
the rate and its interval) and the hidden cells chosen so that none can be worked out from the others. A free
window of months, or a sum of districts, could be subtracted from published figures to reveal a small count, so
those are for signed-in partners only.</p>
<h2>Endpoints</h2>
{endpoints}
<h2>Parameters of <code>/api/v1/data</code></h2>
{parameters}
<p>Any other parameter, a parameter given twice, or a value the API does not know is refused with status 400 and
<code>{{"error": "..."}}</code> saying why; a request outside what the audience may see gets 403; an unknown
measure 404.</p>
<h2>Examples</h2>
<p>The measures:</p>{_example(base, "/api/v1/measures")}
<p>{escape(first_name)} for all of HIPS and one district, by {escape(period)}:</p>
{_example(base, data)}
<p>The same as CSV:</p>{_example(base, data + "&format=csv")}
<p>Each row carries <code>measure, area, area_name, area_level, age, period_type, start, end, months, count,
suppressed, incomplete, population, rate, lower, upper, synthetic</code>. Rates are a year's count per 100,000
residents (per million for homicide), with the 95% interval by Byar's method (exact Poisson below 10).</p>
<h2>Power BI and Excel</h2>
<p>In Power BI choose <em>Get data</em>, <em>Web</em>, and paste an address ending in <code>&amp;format=csv</code>;
in Excel, <em>Data</em>, <em>From Web</em>. Both read the header row as column names and an empty cell as a
hidden value. Refreshing asks again; nothing is sent again unless the figures changed.</p>
<h2>Caching</h2>
<p>Every answer has an <code>ETag</code> that changes when the data are reloaded. Send it back in
<code>If-None-Match</code> and an unchanged answer comes back as <code>304 Not Modified</code>.</p>
<h2>Measures</h2>
{measure_table}
<h2>Areas</h2>
{_areas(reader)}
</main>
<footer class="vrp-footer container py-3">Contains public sector information licensed under the Open Government
Licence v3.0 (data.police.uk, Office for National Statistics). Each response's <code>meta.licence</code> names its
source's licence.</footer></body></html>"""
