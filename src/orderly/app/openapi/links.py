"""OpenAPI links from each create operation to what can be done with its result.

A ``POST`` on a collection that answers 201 links to every operation on the member
paths below it (``/items`` -> ``GET``/``PATCH``/``DELETE /items/{item_id}``,
``/orders`` -> ``/orders/{order_id}/cancel``...), with the path parameter taken from
the created resource's ``id``. Clients and schemathesis' stateful phase follow them.

``USES`` adds the links the member rule cannot see: a created resource used in another
collection's create (an item ordered), with the request body that uses it.
"""

from __future__ import annotations

import re
from typing import Any

from orderly.app.openapi.routes import DocumentedRoute

_MEMBER = re.compile(r"^/\{(?P<param>[a-z_]+)\}(/[a-z-]+)*$")

# (create operation) -> [(operation that uses the created resource, its request body)]
USES: dict[tuple[str, str], list[tuple[str, str, dict[str, Any]]]] = {
    ("POST", "/api/v1/items"): [
        ("POST", "/api/v1/orders", {"lines": [{"item_id": "$response.body#/id", "quantity": 1}]})
    ],
}


def add_links(routes: list[DocumentedRoute]) -> None:
    for create in routes:
        created = create.operation["responses"].get("201")
        if create.method != "POST" or created is None:
            continue
        links: dict[str, Any] = {}
        for target in routes:
            rest = target.path.removeprefix(create.path)
            match = _MEMBER.match(rest) if rest != target.path else None
            if match is None:
                continue
            operation_id = target.operation["operationId"]
            links[operation_id] = {
                "operationId": operation_id,
                "parameters": {match["param"]: "$response.body#/id"},
                "description": f"{target.method} the created resource.",
            }
        by_route = {(route.method, route.path): route for route in routes}
        for method, path, body in USES.get((create.method, create.path), []):
            target = by_route[(method, path)]
            operation_id = target.operation["operationId"]
            links[operation_id] = {
                "operationId": operation_id,
                "requestBody": body,
                "description": f"{method} {path} with the created resource.",
                # The body as given, not merged into a generated one (whose other
                # lines would name items that do not exist): schemathesis' extension.
                "x-schemathesis": {"merge_body": False},
            }
        if links:
            created["links"] = links
