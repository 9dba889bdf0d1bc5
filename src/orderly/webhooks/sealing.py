"""Endpoint secrets: generated (``whsec_`` + base64), shown once, stored sealed.

Signing a delivery needs the raw secret, so a hash cannot be stored as for API keys.
The secret is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the app's
secret key: a copy of the database alone does not give the secrets away. The endpoint
id is the associated data, so a sealed secret moved to another row does not open.
After an ``APP_SECRET_KEY`` rotation, the keys in ``APP_PREVIOUS_SECRET_KEYS`` still
open what was sealed before; new seals use the current key.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of generated secrets, not a secret
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 bytes
_NONCE_BYTES = 12
_VERSION = "v1"


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _derive(app_secret: str) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"orderly-webhook-secrets"
    ).derive(app_secret.encode())
    return AESGCM(key)


class SecretUnreadableError(RuntimeError):
    """A sealed secret that no configured key opens (the app secret changed without
    keeping the old one in APP_PREVIOUS_SECRET_KEYS): rotate the endpoint's secret."""


class SecretBox:
    def __init__(self, app_secrets: Sequence[str]) -> None:
        if not app_secrets:
            raise ValueError("SecretBox needs at least one key")
        self._ciphers = [_derive(secret) for secret in app_secrets]

    def seal(self, secret: str, *, endpoint_id: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._ciphers[0].encrypt(nonce, secret.encode(), endpoint_id.encode())
        return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def open(self, sealed: str, *, endpoint_id: str) -> str:
        version, _, data = sealed.partition(".")
        if version != _VERSION:
            raise SecretUnreadableError("unknown seal version")
        raw = base64.urlsafe_b64decode(data)
        nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(nonce, body, endpoint_id.encode()).decode()
            except InvalidTag:
                continue
        raise SecretUnreadableError("no configured key opens this secret")
