"""What webhooks adds to the container: the URL guard's resolver and policy, the
secret box, one shared HTTP client for every delivery, the event sink, and its jobs."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.jobs import JOBS
from orderly.core.tasks import TASKS
from orderly.events.sinks import EVENT_SINKS
from orderly.tenants.usage import USAGE_METERS
from orderly.webhooks import tasks
from orderly.webhooks.addresses import SystemResolver, UrlPolicy
from orderly.webhooks.flows import WebhookSink
from orderly.webhooks.policy import (
    DELIVER_BATCH_JOB,
    DELIVER_JOB,
    PURGE_JOB,
    SWEEP_JOB,
    WEBHOOK_POLICY,
    WEBHOOK_RESOLVER,
    WEBHOOK_SECRETS,
    WEBHOOK_SENDER,
    WebhookPolicy,
    parse_schedule,
)
from orderly.webhooks.repository import count_endpoints
from orderly.webhooks.sealing import SecretBox
from orderly.webhooks.sender import WebhookSender, open_client

PURGE_EVERY_SECONDS = 3600.0


def policy_of(settings: Settings) -> WebhookPolicy:
    return WebhookPolicy(
        url=UrlPolicy(
            allow_private_networks=settings.webhook_allow_private_networks,
            require_https=settings.is_production,
        ),
        timeout_seconds=settings.webhook_timeout_seconds,
        retry_schedule=parse_schedule(settings.webhook_retry_schedule),
    )


async def provide(container: Container, settings: Settings) -> None:
    policy = container.add(WEBHOOK_POLICY, policy_of(settings))
    container.add(WEBHOOK_RESOLVER, SystemResolver())
    container.add(WEBHOOK_SECRETS, SecretBox(settings.verification_keys))
    client = open_client(policy.timeout_seconds)
    task_runner = container[TASKS]

    async def close_client() -> None:
        # Parts close newest first, so this client would close before the task runner
        # drains: a delivery already sending gets to finish with it first (a send is
        # bounded by the timeout; a retry still waiting for its time is not waited for).
        await task_runner.drain(limit_seconds=policy.timeout_seconds + 1)
        await client.aclose()

    sender = WebhookSender(client, timeout_seconds=policy.timeout_seconds)
    container.add(WEBHOOK_SENDER, sender, close=close_client)
    container[EVENT_SINKS].add(WebhookSink())
    container[USAGE_METERS].register("webhook_endpoints", count_endpoints)
    jobs = container[JOBS]
    jobs.register(DELIVER_JOB, partial(tasks.deliver, container))
    jobs.register(DELIVER_BATCH_JOB, partial(tasks.deliver_batch, container))
    sweep_margin = timedelta(seconds=settings.webhook_sweep_seconds)
    jobs.register_periodic(
        SWEEP_JOB,
        partial(tasks.sweep, container, sweep_margin),
        every_seconds=settings.webhook_sweep_seconds,
    )
    jobs.register_periodic(
        PURGE_JOB, partial(tasks.purge, container), every_seconds=PURGE_EVERY_SECONDS
    )
