"""Error responses as served: every status an operation can answer, problem+json.

A route names its own errors (``problems(...)``); these rules add what the code around
it can answer, so that a new route cannot forget them:

- what its dependencies declare (``core.responses.declare``): authentication, the
  database and the shared store (503), idempotency, rate limiting (429);
- 422 ``VALIDATION_ERROR`` on every operation that takes parameters or a body;
- 413 ``PAYLOAD_TOO_LARGE`` on every operation that takes a body;
- 500 ``INTERNAL_ERROR`` everywhere (a bug, but answered as documented).

FastAPI's own 422 (``HTTPValidationError``, ``application/json``) is replaced: the app
answers problem+json.
"""

from __future__ import annotations

from typing import Any

from orderly.app.openapi.routes import DocumentedRoute
from orderly.core.errors import AppError, PayloadTooLargeError, ValidationFailedError
from orderly.core.responses import Problem, add_problem


def add_errors(schema: dict[str, Any], routes: list[DocumentedRoute]) -> None:
    for route in routes:
        for parameter in route.parameters:
            _add_parameter(route.operation, parameter)
        errors: list[type[AppError]] = list(route.errors)
        if route.has_input:
            errors.append(ValidationFailedError)
        if "requestBody" in route.operation:
            errors.append(PayloadTooLargeError)
        errors.append(AppError)
        responses = route.operation["responses"]
        for error in errors:
            add_problem(responses.setdefault(str(error.status), {}), error)
        route.operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem


def _add_parameter(operation: dict[str, Any], parameter: dict[str, Any]) -> None:
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    key = (parameter["name"].lower(), parameter["in"])
    if all((p["name"].lower(), p["in"]) != key for p in parameters):
        parameters.append(parameter)
