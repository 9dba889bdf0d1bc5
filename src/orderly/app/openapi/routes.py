"""The routes behind the document's operations, with what their dependencies declare."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from orderly.core.errors import AppError
from orderly.core.responses import declared

Operation = dict[str, Any]


@dataclass
class DocumentedRoute:
    """One operation of the document and what the code says about it."""

    method: str
    path: str
    operation: Operation
    calls: set[Any] = field(default_factory=set)  # every dependency callable, nested too
    errors: list[type[AppError]] = field(default_factory=list)
    success_headers: list[str] = field(default_factory=list)
    parameters: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_input(self) -> bool:
        return bool(self.operation.get("parameters") or self.operation.get("requestBody"))


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def documented_routes(app: FastAPI, schema: dict[str, Any]) -> Iterator[DocumentedRoute]:
    """Each operation in ``schema`` with its route's dependency tree read."""
    # Included routers are resolved lazily (FastAPI 0.16x): walk the effective routes.
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if not isinstance(original, APIRoute) or not original.include_in_schema:
            continue
        path = route.path_format
        item = schema["paths"].get(path, {}) if path else {}
        dependant: Dependant = route.dependant
        calls = set(_calls(dependant))
        for method in sorted(route.methods or ()):
            operation = item.get(method.lower())
            if operation is None or path is None:
                continue
            found = DocumentedRoute(method, path, operation, calls)
            for call in calls:
                declaration = declared(call)
                if declaration is not None:
                    found.errors.extend(declaration.errors)
                    found.success_headers.extend(declaration.success_headers)
                    found.parameters.extend(declaration.parameters)
            yield found
