"""Background jobs of exports (registered by ``resources.provide``)."""

from __future__ import annotations

from orderly.core.container import Container
from orderly.core.jobs import JobArgs
from orderly.exports import flows


async def run(container: Container, args: JobArgs) -> None:
    """``exports.run(export_id)``: write the file (idempotent, see ``flows.ExportRun``)."""
    await flows.ExportRun(container).run(str(args["export_id"]))


async def sweep(container: Container, args: JobArgs) -> None:
    """``exports.sweep``: queue again the exports whose run was lost."""
    await flows.sweep(container)


async def purge(container: Container, args: JobArgs) -> None:
    """``exports.purge``: exports and files older than 24 h."""
    await flows.purge(container)
