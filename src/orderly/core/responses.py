"""OpenAPI descriptions of the problem+json errors a route can answer with.

A route names the error classes it can raise, ``responses=problems(OrderNotFoundError,
InvalidOrderStateError)``, and the document shows each under its status with an example
built from the class itself (status, code, title, default detail), so the document
cannot drift from what is served. Several codes under one status are named examples.
Every error response refers to the ``Problem`` schema (``document_problems`` adds it,
and documents FastAPI's own request validation, 422 ``VALIDATION_ERROR``, the same way).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from orderly.core.errors import (
    AppError,
    HeaderFieldsTooLargeError,
    InvalidHostError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationFailedError,
)
from orderly.core.problems import PROBLEM_MEDIA_TYPE, status_title

Responses = dict[int | str, dict[str, Any]]
PROBLEM_REF = "#/components/schemas/Problem"

_DESCRIPTIONS = {
    400: "Bad request: `INVALID_HOST` (a malformed Host header, or one this service does "
    "not answer to), or a body that cannot be read.",
    401: "Missing, invalid, expired or revoked credentials.",
    402: "The tenant's plan does not include this.",
    403: "Authenticated, but the role or API-key scope does not allow this.",
    404: "Not found (also for resources of other tenants).",
    409: "Conflicts with the current state.",
    412: "`If-Match` does not match the current ETag.",
    413: "`PAYLOAD_TOO_LARGE`: the request body is longer than the server accepts.",
    422: "Invalid input; `errors` lists each field (`JSON_TOO_DEEP`: a JSON body nested "
    "deeper than 32 levels).",
    429: "Rate limited; see `Retry-After`.",
    431: "`REQUEST_HEADER_FIELDS_TOO_LARGE`: a header line longer than 8 KiB, or request "
    "line and headers longer than 32 KiB (the server closes the connection).",
    502: "An upstream service failed.",
    503: "Temporarily unavailable; see `Retry-After`.",
}

NOT_MODIFIED: Responses = {
    304: {"description": "Not modified: the `If-None-Match` ETag is current."}
}


class ProblemFieldError(BaseModel):
    field: str = Field(examples=["body.lines.0.quantity"])
    message: str
    code: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is served."""

    type: str = Field(examples=["about:blank"])
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable code (UPPER_SNAKE).")
    instance: str = Field(description="The request path.")
    request_id: str = Field(description="Equals the response's `X-Request-ID`.")
    errors: list[ProblemFieldError] = Field(
        default_factory=list, description="Each invalid field; only on 422, else absent."
    )
    # Extension members of the 402s (SPEC "Plans and traffic protection").
    plan: str | None = Field(default=None, description="402: the tenant's plan.")
    limit: str | None = Field(
        default=None, description="402 `PLAN_LIMIT_REACHED`: the limit's name (`items`...)."
    )
    max: int | None = Field(
        default=None, description="402 `PLAN_LIMIT_REACHED`: the plan's maximum."
    )
    feature: str | None = Field(
        default=None, description="402 `PLAN_UPGRADE_REQUIRED`: the feature asked for."
    )


def example(error: type[AppError]) -> dict[str, Any]:
    """What ``error`` looks like when served (ids and paths elided)."""
    # A not-found error's detail names the resource and the id asked for.
    detail = (
        f"{error.resource} '…' was not found"
        if issubclass(error, NotFoundError)
        else error.default_detail
    )
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": status_title(error.status),
        "status": error.status,
        "detail": detail,
        "code": error.code,
        "instance": "/api/v1/…",
        "request_id": "3f1c0c0e8c1a4f0e9b7f4b6f1f0d2a11",
    }
    if error.status == 422:
        body["errors"] = [{"field": "body.…", "message": "…", "code": "…"}]
    return body


def add_problem(response: dict[str, Any], error: type[AppError]) -> None:
    """Document ``error`` in one status's response entry (codes already there stay)."""
    content = response.setdefault("content", {})
    content.pop("application/json", None)  # FastAPI's default for 422, not what is served
    problem = content.setdefault(PROBLEM_MEDIA_TYPE, {})
    problem["schema"] = {"$ref": PROBLEM_REF}
    examples = problem.setdefault("examples", {})
    examples.setdefault(error.code, {"summary": error.code, "value": example(error)})
    codes = ", ".join(f"`{code}`" for code in examples)
    response["description"] = f"{_DESCRIPTIONS.get(error.status, 'Error.')} Codes: {codes}."


def problems(*errors: type[AppError]) -> Responses:
    """``responses=`` entries for the errors a route can raise (grouped by status)."""
    out: Responses = {}
    for error in errors:
        add_problem(out.setdefault(error.status, {}), error)
    return out


def document_problems(app: FastAPI) -> None:
    """Add the ``Problem`` schema to the document, and describe request validation
    failures as they are served: FastAPI documents them as its own JSON
    (``HTTPValidationError``), while the app answers 422 problem+json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if "parameters" in operation or "requestBody" in operation:
                    response = operation["responses"].setdefault("422", {})
                    add_problem(response, ValidationFailedError)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# What any route can answer before it is reached (Host check, body and head bounds).
EDGE = problems(InvalidHostError, PayloadTooLargeError, HeaderFieldsTooLargeError)


# Tenant data may be cached only by the client that fetched it, must be revalidated,
# and differs per credential (a shared cache must never serve it to someone else).
TENANT_DATA_HEADERS = {"Cache-Control": "private, no-cache", "Vary": "Authorization, X-API-Key"}
# Responses that carry a token or a secret (login, refresh, a new API key): no cache
# may store them, shared or private (RFC 6749 section 5.1 asks it of token responses).
NO_STORE_HEADERS = {"Cache-Control": "no-store"}
