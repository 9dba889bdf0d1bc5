"""CORS with problem+json for rejected preflights (Starlette answers those in plain text)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from orderly.core.problems import problem_response


class ProblemCORSMiddleware(CORSMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                response = self.preflight_response(request_headers=headers)
                if response.status_code == 400:
                    reasons = bytes(response.body).decode().removeprefix("Disallowed CORS ")
                    response = problem_response(
                        status=400,
                        code="CORS_PREFLIGHT_REJECTED",
                        detail=f"CORS preflight rejected: {reasons} not allowed.",
                        instance=scope["path"],
                    )
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
