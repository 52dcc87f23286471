"""``vrp evaluate``: the interrupted time series evaluation the /evaluate page and ``GET /api/v1/evaluate`` give,
printed (or as JSON), with ``--plan`` for the minimum detectable effect of a planned intervention. Registered on
the ``vrp`` group by vrp.cli."""

from __future__ import annotations

import json

import click

from vrp.cli_common import reader, settings_for, warehouse_option
from vrp.data_access import evaluation as ev


def _pct(value: float) -> str:
    return f"{value:.3f}"


def _lines(result: dict) -> list[str]:
    level, trend = result["level"], result["trend"]
    model = result["model"]
    lines = [
        f"{result['measure']['label']}, {result['area']['name']}, {result['from']} to {result['to']}; "
        f"start {result['start']}" + (f", phase-in {result['phase_in']} months" if result["phase_in"] else ""),
        f"model: {ev.FAMILIES[model['family']]} GLM, log link, {ev.ERRORS[model['errors']]} errors"
        + (", population offset" if model["offset"] else "")
        + f"; {model['months_before']} months before, {model['months_after']} after",
        f"level change ratio {_pct(level['ratio'])} (95% CI {_pct(level['lower'])} to {_pct(level['upper'])}, "
        f"p = {level['p_value']:.3g})",
        f"trend change ratio per year {_pct(trend['ratio_per_year'])} (95% CI {_pct(trend['lower'])} to "
        f"{_pct(trend['upper'])}, p = {trend['p_value']:.3g})",
    ]
    if result["did"]:
        d = result["did"]["level"]
        lines.append(
            f"difference-in-differences level ratio against {result['comparison']['name']}: {_pct(d['ratio'])} "
            f"(95% CI {_pct(d['lower'])} to {_pct(d['upper'])})"
        )
    diag = result["diagnostics"]
    ac = diag["autocorrelation_lag1"]
    lines.append(
        f"diagnostics: dispersion {diag['dispersion']:.2f}; residual autocorrelation (lag 1) "
        + ("not computed" if ac is None else f"{ac:.2f}, p = {diag['autocorrelation_p']:.3g}")
    )
    lines += result["sentences"] + diag["notes"] + [f"caveat: {c['message']}" for c in result["caveats"]]
    if result["synthetic"]:
        lines.append("SYNTHETIC demonstration data: not real records; do not publish.")
    return lines


def _series_csv(result: dict) -> str:
    fields = ["month", "observed", "phase", "fitted", "counterfactual", "cf_lower", "cf_upper"]
    fields += ["comparison"] if result["did"] else []
    rows = [",".join(fields)]
    for r in result["series"]:
        rows.append(",".join(str(r[f]) if isinstance(r[f], str) else f"{r[f]:.4g}" for f in fields))
    return "\n".join(rows)


def _plan_lines(p: dict) -> list[str]:
    mde = p["mde_drop"]
    head = (
        f"minimum detectable effect: a drop of {mde:.0%} in level"
        if mde is not None
        else "minimum detectable effect: not even an 80% drop would be detected reliably"
    )
    return [
        f"{head} ({p['power']:.0%} power, two-sided {p['alpha']:.0%} level; {p['months_before']} months before, "
        f"{p['months_after']} after; {p['simulations']} simulated series a step; overdispersion {p['dispersion']:.2f})"
    ]


@click.command()
@warehouse_option
@click.option("--measure", required=True, metavar="ID", help="A monthly measure (vrp summary lists them).")
@click.option("--area", default="HIPS", show_default=True, metavar="CODE[,CODE]", help="HIPS or district codes.")
@click.option("--lsoa", default=None, metavar="CODE[,CODE]", help="Partners only: LSOA codes, one area.")
@click.option("--start", required=True, metavar="YYYY-MM", help="The month the intervention started.")
@click.option("--from", "first", default=None, metavar="YYYY-MM", help="First month of the period.")
@click.option("--to", "last", default=None, metavar="YYYY-MM", help="Last month of the period.")
@click.option("--comparison", default=None, metavar="CODE[,CODE]", help="A comparison area (HIPS or districts).")
@click.option("--phase-in", type=click.IntRange(0, ev.MAX_PHASE_IN), default=0, help="Months left out after start.")
@click.option("--errors", type=click.Choice(list(ev.ERRORS)), default="quasi", show_default=True)
@click.option("--family", type=click.Choice(list(ev.FAMILIES)), default="poisson", show_default=True)
@click.option("--offset", is_flag=True, help="A log-population offset.")
@click.option("--age", type=click.Choice(["all", "u25"]), default="all", show_default=True)
@click.option("--plan", "plan_months", type=click.IntRange(6, 60), default=None, help="Months after: the MDE only.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
def evaluate(
    warehouse_url,
    measure,
    area,
    lsoa,
    start,
    first,
    last,
    comparison,
    phase_in,
    errors,
    family,
    offset,
    age,
    plan_months,
    fmt,
):
    """Did an intervention change the level or trend of a measure in an area? (docs/METHODS.md)

    The public audience (the default) gets an evaluation only where every month is a published cell of one
    district or of HIPS; VRP_AUDIENCE=partner any area, sums of districts and sets of LSOAs. --plan N gives the
    minimum detectable level change for N months after a planned start instead. csv: the monthly series."""
    wh = reader(settings_for(warehouse_url))
    q = ev.question(
        wh,
        measure,
        area,
        start,
        first,
        last,
        lsoas=lsoa,
        phase_in=phase_in,
        comparison=comparison,
        age=age,
        errors=errors,
        family=family,
        offset=offset,
    )
    if plan_months is not None:
        p = ev.plan(wh, q, plan_months)
        click.echo(json.dumps(p) if fmt == "json" else "\n".join(_plan_lines(p)))
        return
    result = ev.evaluate(wh, q)
    if fmt == "json":
        click.echo(json.dumps(result))
    elif fmt == "csv":
        click.echo(_series_csv(result))
    else:
        click.echo("\n".join(_lines(result)))
