"""The OpenAPI 3.1 document for the API, built from the measure registry and the warehouse's districts so its
enumerations are always the values the API accepts."""

from __future__ import annotations

from vrp.api import evaluate
from vrp.data_access.cube import AGES, MONTH_PATTERN, PERIODS, CubeReader
from vrp.data_access.validation import HIPS

MONTH = {"type": "string", "pattern": MONTH_PATTERN, "examples": ["2024-03"]}
NULLABLE_NUMBER = {"type": ["number", "null"]}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _ok(description: str, content: dict) -> dict:
    return {
        "description": description,
        "headers": {
            "ETag": {
                "description": "The version of the figures (changes with every data load).",
                "required": True,
                "schema": {"type": "string"},
            },
            "Cache-Control": {
                "description": "Revalidate with If-None-Match before reuse.",
                "required": True,
                "schema": {"type": "string"},
            },
        },
        "content": content,
    }


NOT_MODIFIED = {"description": "Not modified: the figures are the version named in If-None-Match."}


def _schemas(reader: CubeReader) -> dict:
    text, nullable_text = {"type": "string"}, {"type": ["string", "null"]}
    row = {
        "measure": text,
        "area": {"type": "string", "description": "District code, HIPS, a force name, or districts joined by +"},
        "area_name": text,
        "area_level": {"enum": ["district", "districts", "hips", "force"]},
        "age": {"enum": list(AGES)},
        "period_type": {"enum": list(PERIODS)},
        "start": MONTH,
        "end": {**MONTH, "description": "The period's last month."},
        "months": {"type": "integer", "minimum": 1},
        "count": {"type": ["integer", "null"], "minimum": 0, "description": "null when hidden (small numbers)"},
        "suppressed": {"type": "boolean"},
        "incomplete": {"type": "boolean", "description": "The supplier hid some of this count (1-7 each)."},
        "population": NULLABLE_NUMBER,
        "rate": {**NULLABLE_NUMBER, "description": "A year's count per 100,000 (or per million) residents"},
        "lower": {**NULLABLE_NUMBER, "description": "95% confidence interval (Byar; exact Poisson below 10)"},
        "upper": NULLABLE_NUMBER,
        "synthetic": {"type": "boolean", "description": "Synthetic demonstration data: not real records"},
    }
    meta = {
        "measure": text,
        "name": text,
        "definition": text,
        "unit": text,
        "per": {"type": "integer"},
        "source": text,
        "source_name": nullable_text,
        "licence": nullable_text,
        "synthetic": {"type": "boolean"},
        "extract_date": {"type": ["string", "null"], "description": "When the source was last loaded (YYYY-MM-DD)"},
        "coverage_end": nullable_text,
        "suppress_below": {"type": "integer"},
        "data_version": text,
        "audience": {"enum": ["public", "partner"]},
        "period_type": {"enum": list(PERIODS)},
        "age": {"enum": list(AGES)},
        "areas": {"type": "array", "items": text},
    }
    measure = {
        "id": {"enum": list(reader.wh.registry.ids)},
        "name": text,
        "unit": text,
        "per": {"type": "integer"},
        "source": text,
        "definition": text,
        "suppress_below": {"type": "integer", "minimum": 0},
        "denominator": text,
        "polarity": text,
        "areas": {"enum": ["district", "force"]},
        "periods": {"type": "array", "items": {"enum": list(PERIODS)}},
        "ages": {"type": "array", "items": {"enum": list(AGES)}},
        "first": nullable_text,
        "last": nullable_text,
        "synthetic": {"type": "boolean"},
    }
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": text},
            "additionalProperties": False,
        },
        "Measure": {"type": "object", "required": list(measure), "properties": measure},
        "Row": {"type": "object", "required": list(row), "properties": row},
        "Meta": {"type": "object", "required": list(meta), "properties": meta},
        "Data": {
            "type": "object",
            "required": ["rows", "meta"],
            "properties": {
                "rows": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}},
                "meta": {"$ref": "#/components/schemas/Meta"},
            },
        },
    }


def _data_parameters(reader: CubeReader) -> list[dict]:
    districts = sorted(reader.wh.district_codes)
    example_area = ",".join(districts[:2]) if districts else HIPS

    def query(name, schema, description, required=False):
        return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}

    return [
        query("measure", {"enum": list(reader.wh.registry.ids)}, "A measure id from /api/v1/measures.", True),
        query(
            "area",
            {
                "type": "string",
                "default": HIPS,
                "maxLength": 1000,
                "pattern": reader.area_pattern(),
                "examples": [HIPS, example_area],
            },
            "HIPS and/or district codes, comma-separated: each area its own rows, never summed (except "
            "period=range, partners only). For the ONS force series, HIPS means the Hampshire force area, "
            "and any force name is accepted.",
        ),
        query(
            "period",
            {"enum": list(PERIODS), "default": "month"},
            "A period of the published lattice (month, quarter, financial year, rolling 12 months at quarter "
            "ends). range (a free window from..to, one row) is for partners only.",
        ),
        query("from", MONTH, "Only periods starting in or after this month."),
        query("to", MONTH, "Only periods ending in or before this month."),
        query("age", {"enum": list(AGES), "default": "all"}, "all ages, or victims under 25."),
        query(
            "format",
            {"enum": ["json", "csv"], "default": "json"},
            "csv: the same rows as plain CSV with a header row (Power BI 'From Web', Excel).",
        ),
    ]


def build_spec(reader: CubeReader) -> dict:
    audience = reader.audience
    refused = {
        "400": _error("A parameter is unknown, repeated or not one of the values the API knows."),
        "403": _error("Outside what this audience may see (period=range for the public)."),
        "404": _error("Unknown measure."),
        "429": _error("Too many requests from this client (a per-client rate limit): retry after Retry-After seconds."),
        "503": _error("The warehouse cannot be read just now."),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "HIPS serious-violence figures",
            "version": "1.0.0",
            "description": (
                "Read-only figures of the HIPS Violence Reduction Partnership dashboard. The public audience "
                "receives only cells of the published cube, with small numbers hidden (count null). "
                f"This server answers the {audience} audience. Demonstration data are synthetic where "
                "meta.synthetic is true. Licences: meta.licence; see /api for examples."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/measures": {
                "get": {
                    "summary": "Every measure, with its definition, unit, source and suppression threshold",
                    "operationId": "listMeasures",
                    "responses": {
                        "200": _ok(
                            "The measures.",
                            {
                                "application/json": {
                                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Measure"}}
                                }
                            },
                        ),
                        "304": NOT_MODIFIED,
                        "400": refused["400"],
                        "429": refused["429"],
                        "503": refused["503"],
                    },
                }
            },
            "/api/v1/evaluate": evaluate.path(reader.wh, _ok, refused, NOT_MODIFIED),
            "/api/v1/data": {
                "get": {
                    "summary": "Counts and rates for a measure, areas and periods",
                    "operationId": "getData",
                    "parameters": _data_parameters(reader),
                    "responses": {
                        "200": _ok(
                            "Rows (each area and period its own) and where they come from.",
                            {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Data"}},
                                "text/csv": {"schema": {"type": "string"}},
                            },
                        ),
                        "304": NOT_MODIFIED,
                        **refused,
                    },
                }
            },
        },
        "components": {"schemas": {**_schemas(reader), **evaluate.schemas()}},
    }
