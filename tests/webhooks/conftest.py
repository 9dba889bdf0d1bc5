"""Webhook tests: an app whose guard lets deliveries reach the loopback receiver
(``APP_WEBHOOK_ALLOW_PRIVATE_NETWORKS``, on for every test app unless a test turns it
off), with a compressed retry schedule, and the receiver itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orderly.config import Settings
from tests.conftest import make_settings
from tests.support.services import Backend
from tests.webhooks.receiver import Receiver, running_receiver

TIMEOUT_SECONDS = 2.0


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return make_settings(
        backend,
        webhook_allow_private_networks=True,
        webhook_retry_schedule="1,1,2",
        webhook_timeout_seconds=TIMEOUT_SECONDS,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from running_receiver()
