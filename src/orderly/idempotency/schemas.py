"""The stored form of a response (not an API schema: it never reaches a client as JSON)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StoredResponse(BaseModel):
    """JSON with the body in base64: readable with redis-cli, no custom format."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    fingerprint: str
    status: int
    # Latin-1 text, as ASGI header bytes are; a list because a name may repeat.
    headers: list[tuple[str, str]]
    body: bytes
