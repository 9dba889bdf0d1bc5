"""Cache hits of tenant reads, answered before dependency injection.

A GET route whose router uses a ``CachedReadRoute`` subclass is served like this:

1. ``authorize(request)`` (the subclass) resolves the principal with the same
   ``get_principal`` the route's dependencies use (the result is remembered for the
   request), applies the same guard the endpoint declares, and returns the cache
   partition: the tenant id. Its errors become problem+json like any dependency's.
2. A hit of the response cache under ``(namespace, tenant, path and query)`` is
   answered at once, with 304 for a matching ``If-None-Match``.
3. Anything else runs the normal FastAPI handler (dependencies, validation, endpoint),
   whose endpoint stores the body through ``ResponseCache.fetch`` under the same key.

Why: FastAPI resolves every dependency of a route on every request; on a cached read
that was ~60 % of the time in-process (profiled), spent to learn what a hit does not
need. Validation is not skipped either: only a request whose exact path and query
already passed it once can have an entry.

An endpoint may also name a **direct read** (``direct_read``): after the same
``authorize``, on a miss (or with the cache off), it answers a request whose query it
fully understands (say, a catalog page with nothing but a canonical ``limit`` and
``cursor``) by calling what the endpoint calls, or returns None and leaves the request
to the normal handler. Profiled on the uncached catalog page: FastAPI's dependency
solving (five query parameters validated one by one, the dependency tree walked) was
about a third of the request's time in-process. Anything else (another parameter, a
repeated one, a value that is not canonical) goes through FastAPI, so every error is
still FastAPI's own.

The fast path stands in for a known set of route dependencies (``replicates``).
``check_cached_routes`` refuses to build an app in which a cached route depends on
anything else (say, a rate limit added to its router later), because a hit would skip
it silently.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ClassVar, TypeVar

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute, iter_route_contexts

from orderly.core.conditional import if_none_match_hits
from orderly.core.container import container_of
from orderly.core.response_cache import RESPONSE_CACHE, CachedBody
from orderly.core.responses import TENANT_DATA_HEADERS

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# (request, tenant id) -> the response, or None: the normal handler answers.
DirectRead = Callable[[Request, str], Awaitable[Response | None]]
E = TypeVar("E", bound=Callable[..., Any])
_DIRECT_READ = "__orderly_direct_read__"


def direct_read(read: DirectRead) -> Callable[[E], E]:
    """Mark an endpoint of a ``CachedReadRoute`` router with its direct read."""

    def mark(endpoint: E) -> E:
        setattr(endpoint, _DIRECT_READ, read)
        return endpoint

    return mark


def cache_variant(request: Request) -> str:
    """The entry of a request within its tenant's namespace: path and query. ``items()``
    keeps the last value of a repeated parameter, the one FastAPI validates."""
    path: str = request.scope["path"]  # not request.url: that builds a whole URL
    if not request.scope["query_string"]:
        return path
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.items()))
    return f"{path}?{query}"


def cached_response(cached: CachedBody, if_none_match: str | None) -> Response:
    """The 200 (or 304) for a cached body; endpoints answer with it too, so a hit and a
    miss cannot differ."""
    headers = TENANT_DATA_HEADERS | ({"ETag": cached.etag} if cached.etag else {})
    if cached.etag and if_none_match_hits(if_none_match, cached.etag):
        # A 304 carries the headers the 200 would have (ETag and the caching ones).
        return Response(status_code=304, headers=headers)
    return Response(cached.body, media_type="application/json", headers=headers)


class CachedReadRoute(APIRoute):
    namespace: ClassVar[str]
    # The route dependencies ``authorize`` stands in for (see check_cached_routes).
    replicates: ClassVar[frozenset[Callable[..., Any]]]

    async def authorize(self, request: Request) -> str:
        """Authenticate and authorize as the route's dependencies would; the tenant id."""
        raise NotImplementedError

    def get_route_handler(self) -> Handler:
        handler: Handler = super().get_route_handler()
        if self.methods != {"GET"}:
            return handler

        direct: DirectRead | None = getattr(self.endpoint, _DIRECT_READ, None)

        async def serve(request: Request) -> Response:
            cache = container_of(request)[RESPONSE_CACHE]
            if cache.enabled or direct is not None:
                tenant_id = await self.authorize(request)
                if cache.enabled:
                    seen = await cache.lookup(self.namespace, tenant_id, cache_variant(request))
                    if seen.hit is not None:
                        return cached_response(seen.hit, request.headers.get("if-none-match"))
                if direct is not None:
                    answer = await direct(request, tenant_id)
                    if answer is not None:
                        return answer
            return await handler(request)

        return serve


def check_cached_routes(app: FastAPI) -> None:
    """Fail at start-up when a cache hit would skip a dependency of its route."""
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if not isinstance(original, CachedReadRoute) or route.methods != {"GET"}:
            continue
        skipped = {dep.dependency for dep in route.dependencies} - original.replicates
        if skipped:
            names = ", ".join(sorted(getattr(dep, "__name__", repr(dep)) for dep in skipped))
            raise RuntimeError(
                f"{route.path}: cache hits are answered before dependencies run and would "
                f"skip {names}; teach {type(original).__name__}.authorize to apply it, "
                "or list it in `replicates` if a hit may skip it."
            )
