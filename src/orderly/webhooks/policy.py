"""The parts webhooks keeps in the container, and the rules of retrying.

``provide`` (``resources.py``) fills these keys from the settings; everything else
reads them here, so a test can swap one (``container.replace(WEBHOOK_RESOLVER, ...)``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from orderly.core.container import Key
from orderly.webhooks.addresses import Resolver, UrlPolicy
from orderly.webhooks.sealing import SecretBox
from orderly.webhooks.sender import WebhookSender

DEFAULT_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
# A rotated-out secret keeps signing (beside the new one) this long.
SECRET_OVERLAP = timedelta(hours=24)
# Auto-disable: this many failed attempts in a row, or every attempt failing this long.
DISABLE_AFTER_FAILURES = 50
DISABLE_AFTER_FAILING_FOR = timedelta(days=5)
# A lease outlives the send by this much (the outcome's own transaction included).
LEASE_MARGIN = timedelta(seconds=30)
# Delivery logs (deliveries and their attempts) are kept this long.
LOG_RETENTION = timedelta(days=30)
JITTER = 0.2  # each retry delay is drawn from +/- 20 % of the schedule's


def parse_schedule(text: str) -> tuple[float, ...]:
    """``"5,300,1800"`` -> the delays (seconds) before each retry. Raises ``ValueError``."""
    delays = tuple(float(part) for part in text.split(",") if part.strip())
    if not delays or any(delay < 0 for delay in delays):
        raise ValueError("a retry schedule is one or more non-negative numbers of seconds")
    return delays


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    url: UrlPolicy
    timeout_seconds: float = 15.0
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def retry_delay(self, failed_attempts: int) -> float | None:
        """Seconds until the next try after ``failed_attempts`` failures in the
        current schedule (with jitter), or None once the schedule is spent."""
        if failed_attempts > len(self.retry_schedule):
            return None
        base = self.retry_schedule[failed_attempts - 1]
        return base * self.rng.uniform(1 - JITTER, 1 + JITTER)


WEBHOOK_POLICY: Key[WebhookPolicy] = Key("webhooks.policy")
WEBHOOK_RESOLVER: Key[Resolver] = Key("webhooks.resolver")
WEBHOOK_SECRETS: Key[SecretBox] = Key("webhooks.secrets")
WEBHOOK_SENDER: Key[WebhookSender] = Key("webhooks.sender")

# Job names.
DELIVER_JOB = "webhooks.deliver"
DELIVER_BATCH_JOB = "webhooks.deliver_batch"
SWEEP_JOB = "webhooks.sweep"
PURGE_JOB = "webhooks.purge"
