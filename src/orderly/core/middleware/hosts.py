"""Host header allow-list that answers with problem+json (Starlette's answers plain text)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from orderly.core.problems import problem_response


def _host_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"host":
            host: str = value.decode("latin-1")
            # Strip the port, but keep IPv6 literals ("[::1]:8000" -> "[::1]").
            return host.rsplit(":", 1)[0] if host.count(":") == 1 or "]:" in host else host
    return ""


class TrustedHostMiddleware:
    def __init__(self, app: ASGIApp, *, allowed_hosts: list[str]) -> None:
        self.app = app
        self.exact = {h.lower() for h in allowed_hosts if not h.startswith("*.")}
        self.suffixes = tuple(h[1:].lower() for h in allowed_hosts if h.startswith("*."))

    def _allowed(self, host: str) -> bool:
        host = host.lower()
        return host in self.exact or (bool(self.suffixes) and host.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._allowed(_host_of(scope)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response = problem_response(
            status=400,
            code="INVALID_HOST",
            detail="The Host header is not one this service answers to.",
            instance=scope["path"],
        )
        await response(scope, receive, send)
