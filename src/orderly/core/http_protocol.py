"""uvicorn's httptools protocol with a bound on the request head: 431 beyond it.

uvicorn 0.54 puts no limit on request headers when it parses with httptools (a 1 MB
header was accepted and handed to the app; Kludex/uvicorn#157, the limit PR
Kludex/uvicorn#1684 was closed) and httptools buffers a header of any size before it
calls back (MagicStack/httptools#87). A check in ASGI middleware would come after
all of it was buffered, so the bound is kept here, in the protocol, while the head
arrives:

* per field: a header line (name and value) longer than ``MAX_FIELD_BYTES`` stops the
  parser in ``on_header``;
* in total: more than ``MAX_HEAD_BYTES`` of request line and headers stops it too,
  counted in ``on_header`` and, so that one endless header line cannot be buffered
  first, in ``data_received`` while the head is incomplete (at most one socket read,
  256 KiB with uvloop, beyond the bound is ever held).

The limits follow nginx (``large_client_header_buffers 4 8k``: a line of at most
8 KiB, 32 KiB in all) and sit far above what our clients send (a bearer token of
under 1 KiB and a few short headers; the API sets no cookies).

The refusal is a problem+json 431 written on the transport (the app never sees the
request), with a fresh ``X-Request-ID`` and the security headers, then the connection
is closed: its remaining bytes are not worth reading. Requests the parser rejects
(a NUL or other control character in a header, a malformed request line) get the same
treatment as a 400 ``BAD_REQUEST``, instead of uvicorn's plain-text one.

Private API, pinned to uvicorn 0.54 (``tests/core/test_http_protocol.py`` checks the
version and the parser callbacks this class overrides).
"""

from __future__ import annotations

import json
import os
from http import HTTPStatus
from typing import Any

import structlog
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from orderly.core.middleware.security_headers import API_CSP

MAX_FIELD_BYTES = 8 * 1024
MAX_HEAD_BYTES = 32 * 1024
CODE = "REQUEST_HEADER_FIELDS_TOO_LARGE"
DETAIL = (
    f"A request header line is longer than {MAX_FIELD_BYTES // 1024} KiB, or the request "
    f"line and headers together are longer than {MAX_HEAD_BYTES // 1024} KiB."
)
BAD_REQUEST_DETAIL = "The request is not valid HTTP/1.1."
_SECURITY_HEADERS = (
    b"x-content-type-options: nosniff\r\n"
    b"x-frame-options: DENY\r\n"
    b"referrer-policy: strict-origin-when-cross-origin\r\n"
    b"content-security-policy: " + API_CSP.encode("ascii") + b"\r\n"
)

logger = structlog.get_logger("orderly.http")


class HeadTooLargeError(Exception):
    """Raised in a parser callback: httptools stops and ``feed_data`` raises."""


def refusal(request_id: str, status: int = 431) -> bytes:
    """The whole response (431, or 400 for a request that is not valid HTTP)."""
    too_large = status == 431
    body = json.dumps(
        {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": DETAIL if too_large else BAD_REQUEST_DETAIL,
            "code": CODE if too_large else "BAD_REQUEST",
            "instance": "",  # the request line may not even have been read whole
            "request_id": request_id,
        },
        separators=(",", ":"),
    ).encode("ascii")
    return b"".join(
        [
            STATUS_LINE[status],
            b"content-type: application/problem+json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n",
            b"x-request-id: " + request_id.encode("ascii") + b"\r\n",
            b"x-process-time: 0.000000\r\n",
            _SECURITY_HEADERS,
            b"\r\n",
            body,
        ]
    )


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True
        self._received_in_head = 0  # bytes read off the socket since the head began
        self._field_bytes = 0  # header names and values seen by ``on_header``
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._reading_head:
            self._received_in_head += len(data)
        super().data_received(data)
        # Checked after parsing: a read that completes a small head may carry a large
        # body with it, and only the head counts.
        if self._reading_head and self._received_in_head > MAX_HEAD_BYTES:
            self._refuse()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._field_bytes = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value)
        self._field_bytes += size
        if size > MAX_FIELD_BYTES or self._field_bytes > MAX_HEAD_BYTES:
            self._refused = True
            raise HeadTooLargeError
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True  # a kept-alive connection's next request
        self._received_in_head = 0

    def send_400_response(self, msg: str) -> None:
        # Every parser error arrives here through uvicorn's ``data_received``, the one
        # raised by ``on_header`` included (that one is the 431).
        self._refuse(431 if self._refused else 400)

    def _refuse(self, status: int = 431) -> None:
        self._refused = True
        if self.transport.is_closing():
            return
        request_id = os.urandom(16).hex()
        event = "request_head_too_large" if status == 431 else "request_not_http"
        logger.warning(event, status=status, request_id=request_id)
        self.transport.write(refusal(request_id, status))
        self.transport.close()
