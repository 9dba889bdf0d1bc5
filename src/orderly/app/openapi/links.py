"""OpenAPI links from each create operation to what can be done with its result.

A ``POST`` on a collection that answers 201 links to every operation on the member
paths below it (``/items`` -> ``GET``/``PATCH``/``DELETE /items/{item_id}``,
``/orders`` -> ``/orders/{order_id}/cancel``...), with the path parameter taken from
the created resource's ``id``. Clients and schemathesis' stateful phase follow them.
"""

from __future__ import annotations

import re
from typing import Any

from orderly.app.openapi.routes import DocumentedRoute

_MEMBER = re.compile(r"^/\{(?P<param>[a-z_]+)\}(/[a-z-]+)*$")


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
        if links:
            created["links"] = links
