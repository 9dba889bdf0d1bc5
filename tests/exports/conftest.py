"""Export tests share the live-events tests' real server (``live_server``: the test
app behind uvicorn on a loopback port, for SSE and the CLI)."""

from tests.live.conftest import live_server

__all__ = ["live_server"]
