"""Endpoint secrets: the shape receivers expect, and sealed at rest."""

from __future__ import annotations

import base64

import pytest
from standardwebhooks import Webhook

from orderly.webhooks.sealing import SecretBox, SecretUnreadableError, generate_secret

APP_KEY = "app-secret-key-for-the-sealing-tests-0123456789"
OLD_APP_KEY = "the-app-secret-key-before-the-rotation-9876543210"


def test_a_secret_is_whsec_and_base64_that_standard_webhooks_accepts() -> None:
    secret = generate_secret()
    raw = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    assert secret.startswith("whsec_")
    assert len(raw) == 32
    Webhook(secret)  # the library takes it as is
    assert generate_secret() != secret


def test_a_sealed_secret_opens_for_its_endpoint_only() -> None:
    box = SecretBox([APP_KEY])
    secret = generate_secret()
    sealed = box.seal(secret, endpoint_id="whk_a")
    assert secret not in sealed
    assert secret.removeprefix("whsec_") not in sealed
    assert box.open(sealed, endpoint_id="whk_a") == secret
    with pytest.raises(SecretUnreadableError):
        box.open(sealed, endpoint_id="whk_b")  # moved to another row


def test_secrets_sealed_before_an_app_key_rotation_still_open() -> None:
    secret = generate_secret()
    sealed_before = SecretBox([OLD_APP_KEY]).seal(secret, endpoint_id="whk_a")
    rotated = SecretBox([APP_KEY, OLD_APP_KEY])
    assert rotated.open(sealed_before, endpoint_id="whk_a") == secret
    with pytest.raises(SecretUnreadableError):
        SecretBox([APP_KEY]).open(sealed_before, endpoint_id="whk_a")
