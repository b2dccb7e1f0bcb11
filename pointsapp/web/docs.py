"""The API documentation, rendered from the generated OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, render_template

from pointsapp import names
from pointsapp.api.openapi_text import translated
from pointsapp.extensions import api

bp = Blueprint("docs", __name__)
METHODS = ("get", "post", "put", "patch", "delete")


def _fields(schema: dict, components: dict) -> list[tuple[str, str, bool]]:
    """(name, type, required) for an object schema, following one $ref."""
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type") or (prop["$ref"].rsplit("/", 1)[-1] if "$ref" in prop else "object")
        if isinstance(kind, list):
            kind = " | ".join(kind)
        if prop.get("enum"):
            kind += ": " + " | ".join("null" if value is None else str(value) for value in prop["enum"])
        rows.append((name, kind, name in required))
    return rows


@bp.get("/api/docs")
def api_docs():
    """Show every API operation with its request fields and responses."""
    spec = translated(api.spec.to_dict(), names.reader_language())
    components = spec.get("components", {}).get("schemas", {})
    operations = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "tag": (op.get("tags") or [""])[0],
                    "fields": _fields(body, components) if body else [],
                    "responses": sorted(op.get("responses", {})),
                }
            )
    return render_template("docs/api.html", sections=_by_tag(operations, spec.get("tags", [])), info=spec["info"])


def _by_tag(operations: list[dict], tags: list[dict]) -> list[tuple[str, list[dict]]]:
    """Operations grouped by tag, in the document's order of tags (not sorted: translated names sort arbitrarily)."""
    order = [tag["name"] for tag in tags]
    order += [op["tag"] for op in operations if op["tag"] not in order]
    return [(tag, ops) for tag in dict.fromkeys(order) if (ops := [op for op in operations if op["tag"] == tag])]
