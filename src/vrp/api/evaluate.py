"""``GET /api/v1/evaluate``: an interrupted time series evaluation of an intervention in a place, as JSON
(docs/METHODS.md#interrupted-time-series; vrp.data_access.evaluation does the work). The public audience gets one
only where every month is a published cell of one district or of HIPS (otherwise 403 saying why); partners any."""

from __future__ import annotations

from flask import Response, current_app

from vrp.api import ApiError, _args, _etag, _not_modified, _send, _warehouse, blueprint
from vrp.data_access import evaluation as ev
from vrp.data_access.cube import AGES, MONTH_PATTERN
from vrp.data_access.validation import HIPS

PARAMS = (
    "measure",
    "area",
    "start",
    "from",
    "to",
    "comparison",
    "phase_in",
    "errors",
    "family",
    "offset",
    "age",
    "lsoa",
)
LSOA_PATTERN = "^[EW]01[0-9]{6}(?:, ?[EW]01[0-9]{6})*$"
MONTH = {"type": "string", "pattern": MONTH_PATTERN, "examples": ["2024-04"]}


def _whole(text: str | None, name: str, default: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or len(text) > 3:
        raise ApiError(400, f"{name} must be a whole number of months, not {text[:20]!r}")
    return int(text)


def _flag(text: str | None, name: str) -> bool:
    if text is None:
        return False
    if text not in ("true", "false"):
        raise ApiError(400, f"{name} must be true or false, not {text[:20]!r}")
    return text == "true"


@blueprint.route("/api/v1/evaluate")
def evaluate():
    args = _args(PARAMS)
    wh = _warehouse()
    if args.get("measure") is None:
        raise ApiError(400, "give a measure (measure=ID from /api/v1/measures)")
    q = ev.question(
        wh,
        args["measure"],
        args.get("area", HIPS),
        args.get("start"),
        args.get("from"),
        args.get("to"),
        lsoas=args.get("lsoa"),
        phase_in=_whole(args.get("phase_in"), "phase_in", 0),
        comparison=args.get("comparison"),
        age=args.get("age", "all"),
        errors=args.get("errors", "quasi"),
        family=args.get("family", "poisson"),
        offset=_flag(args.get("offset"), "offset"),
    )
    etag = _etag(wh, "evaluate", q.key())
    held = _not_modified(wh, etag)
    if held is not None:
        return held
    body = wh.cached("api:evaluate", q.key(), lambda: current_app.json.dumps(ev.evaluate(wh, q)))
    return _send(wh, Response(body, mimetype="application/json"), etag)


# ---- its part of the OpenAPI document (api/spec.py) ------------------------------------------------------------


def _query(name, schema, description, required=False):
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def parameters(measure_ids, area_pattern: str) -> list[dict]:
    area = {"type": "string", "maxLength": 1000, "pattern": area_pattern, "default": HIPS}
    return [
        _query("measure", {"enum": list(measure_ids)}, "A monthly measure id from /api/v1/measures.", True),
        _query("area", area, "HIPS or district codes, comma-separated (their sum; the public: one area)."),
        _query("start", MONTH, "The month the intervention started (T0).", True),
        _query("from", MONTH, "The period's first month (default: the first loaded)."),
        _query("to", MONTH, "The period's last month (default: the latest loaded)."),
        _query("comparison", area, "A comparison area (HIPS or districts): adds difference-in-differences."),
        _query(
            "phase_in",
            {"type": "integer", "minimum": 0, "maximum": ev.MAX_PHASE_IN, "default": 0},
            "Months after the start left out of the fit while the intervention beds in.",
        ),
        _query(
            "errors", {"enum": list(ev.ERRORS), "default": "quasi"}, "Standard errors: quasi-Poisson or Newey-West."
        ),
        _query("family", {"enum": list(ev.FAMILIES), "default": "poisson"}, "Poisson (default) or negative binomial."),
        _query("offset", {"type": "boolean", "default": False}, "A log-population offset (rates, not counts)."),
        _query("age", {"enum": list(AGES), "default": "all"}, "all ages, or victims under 25."),
        _query(
            "lsoa",
            {"type": "string", "maxLength": 1000, "pattern": LSOA_PATTERN},
            "Partners only: LSOA codes, comma-separated, evaluated as one area in place of area.",
        ),
    ]


def schemas() -> dict:
    number, nullable = {"type": "number"}, {"type": ["number", "null"]}
    ratio = {
        "type": "object",
        "required": ["ratio", "lower", "upper", "p_value"],
        "properties": {"ratio": number, "lower": number, "upper": number, "p_value": nullable},
    }
    per_year = {
        "type": "object",
        "required": ["ratio_per_year", "lower", "upper", "p_value"],
        "properties": {"ratio_per_year": number, "lower": number, "upper": number, "p_value": nullable},
    }
    point = {
        "type": "object",
        "required": ["month", "observed", "phase", "fitted", "counterfactual", "cf_lower", "cf_upper"],
        "properties": {
            "month": MONTH,
            "observed": nullable,
            "phase": {"enum": ["before", "phase-in", "after"]},
            "fitted": number,
            "counterfactual": {**number, "description": "Expected with no intervention (the months before, continued)"},
            "cf_lower": {**number, "description": "95% interval of the counterfactual"},
            "cf_upper": number,
            "comparison": {**nullable, "description": "The comparison area's count (with comparison=)"},
        },
    }
    text = {"type": "string"}
    required = ["measure", "area", "start", "from", "to", "model", "level", "trend", "pre_trend", "did"]
    required += ["diagnostics", "sentences", "caveats", "series", "synthetic", "comparison", "phase_in", "age"]
    return {
        "Ratio": ratio,
        "TrendRatio": per_year,
        "Evaluation": {"type": "object", "required": required, "properties": _evaluation(point, text, nullable)},
    }


def _evaluation(point: dict, text: dict, nullable: dict) -> dict:
    area = {"type": "object", "required": ["name"], "properties": {"name": text}}
    return {
        "measure": {"type": "object", "required": ["id", "label"]},
        "area": area,
        "comparison": {"oneOf": [{"type": "null"}, area]},
        "start": MONTH,
        "from": MONTH,
        "to": MONTH,
        "phase_in": {"type": "integer"},
        "age": {"enum": list(AGES)},
        "model": {"type": "object", "required": ["family", "errors", "offset", "terms"]},
        "level": {"$ref": "#/components/schemas/Ratio", "description": "exp(b_step): the level change"},
        "trend": {"$ref": "#/components/schemas/TrendRatio", "description": "exp(12 b_after)"},
        "pre_trend": {"$ref": "#/components/schemas/TrendRatio"},
        "did": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["level", "trend"],
                    "properties": {
                        "level": {"$ref": "#/components/schemas/Ratio"},
                        "trend": {"$ref": "#/components/schemas/TrendRatio"},
                    },
                },
            ]
        },
        "diagnostics": {
            "type": "object",
            "required": ["dispersion", "autocorrelation_lag1", "autocorrelation_p", "notes"],
            "properties": {
                "dispersion": nullable,
                "autocorrelation_lag1": nullable,
                "autocorrelation_p": nullable,
                "notes": {"type": "array", "items": text},
            },
        },
        "sentences": {"type": "array", "items": text},
        "caveats": {
            "type": "array",
            "items": {"type": "object", "required": ["check", "message"]},
        },
        "series": {"type": "array", "items": point},
        "synthetic": {"type": "boolean"},
    }


def path(wh, ok, refused: dict, not_modified: dict) -> dict:
    """The path item: parameters from the warehouse's measures and districts, the answers spec.py states."""
    measure_ids = [m.id for m in wh.registry if m.time_grain == "month" and m.source != "ons_knife"]
    token = "|".join([HIPS, *sorted(wh.district_codes)])
    area_pattern = f"^(?:{token})(?:, ?(?:{token}))*$"
    return {
        "get": {
            "summary": "Did an intervention change the level or trend? An interrupted time series evaluation",
            "description": (
                "Segmented quasi-Poisson regression of the monthly counts (docs/METHODS.md#interrupted-time-"
                "series): level change exp(b_step), trend change per year exp(12 b_after), the series with the "
                "fitted line and the counterfactual. The public audience: one district or HIPS, and only where "
                "every month is published (403 otherwise)."
            ),
            "operationId": "evaluate",
            "parameters": parameters(measure_ids, area_pattern),
            "responses": {
                "200": ok(
                    "The evaluation.",
                    {"application/json": {"schema": {"$ref": "#/components/schemas/Evaluation"}}},
                ),
                "304": not_modified,
                "400": refused["400"],
                "403": _forbidden(refused["403"]),
                "429": refused["429"],
                "503": refused["503"],
            },
        }
    }


def _forbidden(base: dict) -> dict:
    return {
        **base,
        "description": "Months not published for the public (hidden small numbers), or LSOAs (partners only).",
    }
