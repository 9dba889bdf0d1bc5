"""OpenAPI descriptions of the problem+json errors a route can answer with.

A route names the error classes it can raise, ``responses=problems(OrderNotFoundError,
InvalidOrderStateError)``, and the document shows each under its status with an example
built from the class itself (status, code, title, default detail), so the document
cannot drift from what is served. Several codes under one status are named examples.
Every error response refers to the ``Problem`` schema. The generator
(``orderly.app.openapi``) adds what the code around a route can answer: see
``declare`` below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, Field

from orderly.core.errors import (
    AppError,
    HeaderFieldsTooLargeError,
    InvalidHostError,
    NotFoundError,
)
from orderly.core.problems import (
    MAX_DETAIL,
    MAX_FIELD_ERRORS,
    MAX_FIELD_TEXT,
    PROBLEM_MEDIA_TYPE,
    status_title,
)
from orderly.core.schemas import shown_integer, shown_text

Responses = dict[int | str, dict[str, Any]]
PROBLEM_REF = "#/components/schemas/Problem"
# What the request-context middleware echoes or makes (core/middleware/request_context.py).
REQUEST_ID_PATTERN = "^[A-Za-z0-9._-]{1,128}$"
# The request path a problem names fits in the request head (core/http_protocol.py).
MAX_HEAD_BYTES = 32 * 1024

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
    500: "A bug: the problem names no cause (that is in the log, under the request id).",
    502: "An upstream service failed.",
    503: "Temporarily unavailable; see `Retry-After`.",
}

NOT_MODIFIED: Responses = {
    304: {"description": "Not modified: the `If-None-Match` ETag is current."}
}


class ProblemFieldError(BaseModel):
    field: Annotated[str, shown_text(MAX_FIELD_TEXT)] = Field(examples=["body.lines.0.quantity"])
    message: Annotated[str, shown_text(MAX_FIELD_TEXT)]
    code: Annotated[str, shown_text(64)]


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is served."""

    type: Annotated[str, shown_text(200, format="uri-reference")] = Field(examples=["about:blank"])
    title: Annotated[str, shown_text(100)]
    status: Annotated[int, shown_integer(400, 599)]
    detail: Annotated[str, shown_text(MAX_DETAIL)]
    code: Annotated[str, shown_text(64, pattern="^[A-Z][A-Z0-9_]*$")] = Field(
        description="Stable machine-readable code (UPPER_SNAKE)."
    )
    instance: Annotated[str, shown_text(MAX_HEAD_BYTES)] = Field(description="The request path.")
    request_id: Annotated[str, shown_text(128, pattern=REQUEST_ID_PATTERN)] = Field(
        description="Equals the response's `X-Request-ID`."
    )
    errors: list[ProblemFieldError] = Field(
        default_factory=list,
        description="Each invalid field; only on 422, else absent.",
        json_schema_extra={"maxItems": MAX_FIELD_ERRORS},
    )
    # Extension members of the 402s (SPEC "Plans and traffic protection").
    plan: Annotated[str, shown_text(32)] | None = Field(
        default=None, description="402: the tenant's plan."
    )
    limit: Annotated[str, shown_text(64)] | None = Field(
        default=None, description="402 `PLAN_LIMIT_REACHED`: the limit's name (`items`...)."
    )
    max: Annotated[int, shown_integer(0, 2**63 - 1)] | None = Field(
        default=None, description="402 `PLAN_LIMIT_REACHED`: the plan's maximum."
    )
    feature: Annotated[str, shown_text(64)] | None = Field(
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


# What any route can answer before it is reached (Host check, request-head bound).
EDGE = problems(InvalidHostError, HeaderFieldsTooLargeError)


# Tenant data may be cached only by the client that fetched it, must be revalidated,
# and differs per credential (a shared cache must never serve it to someone else).
TENANT_DATA_HEADERS = {"Cache-Control": "private, no-cache", "Vary": "Authorization, X-API-Key"}
# Responses that carry a token or a secret (login, refresh, a new API key): no cache
# may store them, shared or private (RFC 6749 section 5.1 asks it of token responses).
NO_STORE_HEADERS = {"Cache-Control": "no-store"}


# What a dependency adds to every route that depends on it, read by the OpenAPI
# generator (orderly.app.openapi) from each route's dependency tree: a rule attached
# where the behaviour lives, so a route gains the documentation with the dependency.
_DECLARED = "__orderly_openapi__"


@dataclass(frozen=True, slots=True)
class Declared:
    errors: tuple[type[AppError], ...] = ()
    # Response headers on the route's success responses (names in HEADERS).
    success_headers: tuple[str, ...] = ()
    # Request parameters it reads by hand (OpenAPI parameter objects).
    parameters: tuple[dict[str, Any], ...] = ()


def declare(
    dependency: Callable[..., Any],
    *errors: type[AppError],
    success_headers: tuple[str, ...] = (),
    parameters: tuple[dict[str, Any], ...] = (),
) -> None:
    """Document on every route that depends on ``dependency`` the errors it can raise
    (``RateLimitedError`` makes a route rate limited: 429 and the RateLimit headers),
    the headers it sets on success and the request headers it reads itself.
    Declarations add up."""
    known: Declared = getattr(dependency, _DECLARED, Declared())
    merged = Declared(
        errors=(*known.errors, *errors),
        success_headers=(*known.success_headers, *success_headers),
        parameters=(*known.parameters, *parameters),
    )
    setattr(dependency, _DECLARED, merged)


def declared(dependency: object) -> Declared | None:
    found = getattr(dependency, _DECLARED, None)
    return found if isinstance(found, Declared) else None


def _header(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", **schema}}


# Shapes of header values: a list of directives, a list of tokens, and the draft's
# structured-field lists of quotas (a name, then integer parameters).
_DIRECTIVES = r"^[A-Za-z-]+(=[0-9]+)?(, *[A-Za-z-]+(=[0-9]+)?)*$"
_TOKENS = r"^[A-Za-z0-9-]+(, *[A-Za-z0-9-]+)*$"
_QUOTA = r'"[^"]*"(;[a-z]+=[0-9]+)+'
_QUOTAS = f"^{_QUOTA}(, *{_QUOTA})*$"

# Response headers as served, by name: routes name them (``with_headers``), rules add
# the rest (X-Request-ID everywhere, RateLimit on limited routes, Retry-After...).
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": _header(
        "Echoes a well-formed incoming `X-Request-ID`, else a new id; the same as the "
        "problem's `request_id`.",
        maxLength=128,
        pattern=REQUEST_ID_PATTERN,
    ),
    "ETag": _header("Strong validator of this representation.", maxLength=64, pattern='^"[^"]+"$'),
    "Location": _header("The created resource.", maxLength=2048, format="uri-reference"),
    "Cache-Control": _header(
        "`private, no-cache`: tenant data.", maxLength=100, pattern=_DIRECTIVES
    ),
    "Vary": _header(
        "`Authorization, X-API-Key` (and `Accept-Encoding` when compressed).",
        maxLength=100,
        pattern=_TOKENS,
    ),
    "X-Idempotent-Replayed": _header(
        "`true` when this is the stored response of an earlier request with the same "
        "`Idempotency-Key`.",
        enum=["true"],
    ),
    "Retry-After": _header("Seconds to wait before retrying.", maxLength=16, pattern="^[0-9]+$"),
    "WWW-Authenticate": _header(
        "`Bearer`: how to authenticate.", maxLength=200, pattern="^Bearer( .*)?$"
    ),
    "RateLimit-Policy": _header(
        'The quotas that apply to this request, e.g. `"principal";q=120;w=60` '
        "(draft-ietf-httpapi-ratelimit-headers-10).",
        maxLength=256,
        pattern=_QUOTAS,
    ),
    "RateLimit": _header(
        "What is left of each quota and when it resets, e.g. "
        '`"principal";r=117;t=42` (draft-ietf-httpapi-ratelimit-headers-10).',
        maxLength=256,
        pattern=_QUOTAS,
    ),
    "Access-Control-Allow-Origin": _header(
        "Present when the request's `Origin` is one of `APP_CORS_ORIGINS`.",
        maxLength=2048,
        pattern=r"^(\*|null|[a-z][a-z0-9+.-]*://\S+)$",
    ),
}


def with_headers(status: int, *names: str) -> Responses:
    """``responses=`` entry documenting headers a route sets on ``status``."""
    return {status: {"headers": {name: HEADERS[name] for name in names}}}
