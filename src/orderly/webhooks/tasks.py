"""Background jobs of webhooks (registered by ``resources.provide``)."""

from __future__ import annotations

from datetime import timedelta

from orderly.core.container import Container
from orderly.core.jobs import JobArgs
from orderly.webhooks.flows import DeliveryRun, Sweeper, purge_logs


async def deliver(container: Container, args: JobArgs) -> None:
    """``webhooks.deliver(delivery_id)``: one attempt (idempotent, see ``DeliveryRun``)."""
    await DeliveryRun(container).deliver(str(args["delivery_id"]))


async def deliver_batch(container: Container, args: JobArgs) -> None:
    """``webhooks.deliver_batch(delivery_ids)``: one attempt each, leased together."""
    ids = [str(delivery_id) for delivery_id in args["delivery_ids"]]
    await DeliveryRun(container).deliver_many(ids)


async def sweep(container: Container, margin: timedelta, args: JobArgs) -> None:
    """``webhooks.sweep``: re-queue pending deliveries whose job was lost."""
    await Sweeper(container, margin=margin).sweep()


async def purge(container: Container, args: JobArgs) -> None:
    """``webhooks.purge``: delivery logs older than the retention."""
    await purge_logs(container)
