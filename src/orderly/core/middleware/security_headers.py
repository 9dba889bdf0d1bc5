"""Security headers on every response.

``X-XSS-Protection`` (seen in older guides) is deliberately absent: browsers removed
the XSS auditor and the header can introduce leaks; a CSP is the modern control.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The API serves JSON only: nothing may load, frame or run.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc are served from our own origin but bootstrap with an inline
# script; they need that, their own scripts/styles, and blob workers (ReDoc).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
    "frame-ancestors 'none'"
)
HSTS = b"max-age=63072000; includeSubDomains"
# Nothing served here needs a powerful browser feature, nor lets an embedding page
# delegate one.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), fullscreen=(), browsing-topics=()"
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool, docs_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.docs_prefixes = docs_prefixes
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"permissions-policy", PERMISSIONS_POLICY.encode()),
        ]
        if hsts:
            common.append((b"strict-transport-security", HSTS))
        self.api_headers = [*common, (b"content-security-policy", API_CSP.encode())]
        self.docs_headers = [*common, (b"content-security-policy", DOCS_CSP.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_docs = bool(self.docs_prefixes) and scope["path"].startswith(self.docs_prefixes)
        extra = self.docs_headers if is_docs else self.api_headers

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_wrapper)
