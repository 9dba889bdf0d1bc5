"""Rules an OpenAPI document must keep for outside judges (schemathesis, Spectral's
OWASP rules, generated clients): each returns the places that break it, so a test
can show both that the app keeps it and that the rule catches a breach."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Document = dict[str, Any]
Schema = dict[str, Any]

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")


def operations(document: Document) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def resolve(document: Document, schema: Schema) -> Schema:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    resolved: Schema = node
    return resolved


def unbounded(document: Document, schema: Schema, where: str, seen: set[str]) -> list[str]:
    """Every string without maxLength (or enum/const), array without maxItems, integer
    without minimum, maximum and an int32/int64 format, in ``schema`` and below it."""
    ref = schema.get("$ref")
    if ref is not None:
        if ref in seen:
            return []
        return unbounded(document, resolve(document, schema), f"{where}->{ref}", seen | {ref})
    found = _unbounded_here(schema, where)
    for key in ("anyOf", "oneOf", "allOf"):
        for index, sub in enumerate(schema.get(key, [])):
            found += unbounded(document, sub, f"{where}.{key}[{index}]", seen)
    for name, sub in schema.get("properties", {}).items():
        found += unbounded(document, sub, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += unbounded(document, schema[key], f"{where}.{key}", seen)
    return found


def _unbounded_here(schema: Schema, where: str) -> list[str]:
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
        return []
    if kind == "string" and "maxLength" not in schema:
        return [f"{where}: string without maxLength"]
    if kind == "array" and "maxItems" not in schema:
        return [f"{where}: array without maxItems"]
    if kind == "integer":
        missing = [k for k in ("minimum", "maximum") if k not in schema]
        if schema.get("format") not in {"int32", "int64"}:
            missing.append("format int32/int64")
        if missing:
            return [f"{where}: integer without {', '.join(missing)}"]
    return []


def unbounded_inputs(document: Document) -> list[str]:
    found: list[str] = []
    for operation_name, operation in operations(document):
        for parameter in operation.get("parameters", []):
            where = f"{operation_name} {parameter['in']} {parameter['name']}"
            found += unbounded(document, parameter["schema"], where, set())
        content = operation.get("requestBody", {}).get("content", {})
        for media_type, body in content.items():
            found += unbounded(document, body["schema"], f"{operation_name} {media_type}", set())
    return found


def unbounded_outputs(document: Document) -> list[str]:
    found: list[str] = []
    for operation_name, operation in operations(document):
        for status, response in operation["responses"].items():
            for media_type, body in response.get("content", {}).items():
                if "schema" in body:
                    where = f"{operation_name} {status} {media_type}"
                    found += unbounded(document, body["schema"], where, set())
    return found


def errors_not_problems(document: Document) -> list[str]:
    found: list[str] = []
    for operation_name, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            content = response.get("content", {})
            schema = content.get(PROBLEM_MEDIA_TYPE, {}).get("schema")
            if list(content) != [PROBLEM_MEDIA_TYPE] or schema != {"$ref": PROBLEM_REF}:
                found.append(f"{operation_name} {status}: {sorted(content)}")
    return found


def missing_statuses(document: Document) -> list[str]:
    """422 where there is input, 413 where there is a body, 500 everywhere, and the
    headers a 429 implies."""
    found: list[str] = []
    for operation_name, operation in operations(document):
        responses = operation["responses"]
        if (operation.get("parameters") or "requestBody" in operation) and "422" not in responses:
            found.append(f"{operation_name}: input but no 422")
        if "requestBody" in operation and "413" not in responses:
            found.append(f"{operation_name}: a body but no 413")
        if "500" not in responses:
            found.append(f"{operation_name}: no 500")
        if "429" in responses:
            found += rate_limit_headers_missing(operation_name, responses)
    return found


def rate_limit_headers_missing(operation_name: str, responses: dict[str, Any]) -> list[str]:
    found: list[str] = []
    if "Retry-After" not in responses["429"].get("headers", {}):
        found.append(f"{operation_name} 429: no Retry-After")
    for status, response in responses.items():
        headers = response.get("headers", {})
        if status[0] in "24" and not {"RateLimit", "RateLimit-Policy"} <= set(headers):
            found.append(f"{operation_name} {status}: no RateLimit headers")
    return found


def request_id_missing(document: Document) -> list[str]:
    return [
        f"{operation_name} {status}"
        for operation_name, operation in operations(document)
        for status, response in operation["responses"].items()
        if not response.get("headers", {}).get("X-Request-ID", {}).get("required")
    ]


def security_of(document: Document, operation: dict[str, Any]) -> set[str] | None:
    """The schemes an operation accepts: None when it is declared public (``[{}]``)."""
    security = operation.get("security", document.get("security"))
    assert security, "every operation states its security, [{}] when public"
    if security == [{}]:
        return None
    schemes = {name for requirement in security for name in requirement}
    assert schemes <= set(document["components"]["securitySchemes"]), schemes
    return schemes


def broken_links(document: Document) -> list[str]:
    operation_ids = {operation["operationId"] for _, operation in operations(document)}
    found: list[str] = []
    for operation_name, operation in operations(document):
        for status, response in operation["responses"].items():
            for name, link in response.get("links", {}).items():
                if link.get("operationId") not in operation_ids:
                    found.append(f"{operation_name} {status} link {name}")
    return found
