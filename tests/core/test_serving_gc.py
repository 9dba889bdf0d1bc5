"""Garbage-collection tuning belongs to the served process, not to the app.

`orderly serve` freezes what start-up allocated and raises the young-generation
threshold in each worker; an app built with ``create_app`` and started on its own (as
tests and embedded users do) leaves the process's collector as it found it.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from orderly.core.migrations import upgrade_to_head
from orderly.core.serving import YOUNG_GC_THRESHOLD
from orderly.main import create_app
from tests.conftest import TEST_SECRET, make_settings
from tests.support.services import Backend

# What a uvicorn worker does with `orderly serve`'s app: import the factory by name,
# build the app and run its ASGI lifespan startup (uvicorn's own LifespanOn).
WORKER = """
import asyncio, gc, json
import uvicorn
from uvicorn.lifespan.on import LifespanOn
from orderly.core.serving import SERVED_APP

async def main():
    config = uvicorn.Config(SERVED_APP, factory=True, proxy_headers=False, log_config=None)
    config.load()
    lifespan = LifespanOn(config)
    before = gc.get_threshold()
    await lifespan.startup()
    container = config.loaded_app.state.container  # built by the lifespan's startup
    print(json.dumps({
        "before": before,
        "after": gc.get_threshold(),
        "frozen": gc.get_freeze_count(),
        "startup_frozen": not any(obj is container for obj in gc.get_objects()),
    }))
    await lifespan.shutdown()

asyncio.run(main())
"""


async def test_an_app_started_alone_leaves_garbage_collection_as_it_was(
    backend: Backend,
) -> None:
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    app = create_app(make_settings(backend))
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_threshold() == thresholds
            assert gc.get_freeze_count() == frozen
    finally:  # on a regression, leave this test process as it was for the next tests
        gc.set_threshold(*thresholds)
        if gc.get_freeze_count() != frozen:
            gc.unfreeze()


def test_a_served_worker_tunes_garbage_collection_after_the_app_has_started(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"
    # Migrated, as `orderly serve` does first: the event relay reads the events table
    # as soon as the app has started, and would log its failure on an empty file.
    upgrade_to_head(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")} | {
        "APP_DATABASE_URL": database_url,
        "APP_SECRET_KEY": TEST_SECRET,
        "APP_LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, "-c", WORKER],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["before"][0] != YOUNG_GC_THRESHOLD
    assert seen["after"] == [YOUNG_GC_THRESHOLD, *seen["before"][1:]]
    assert seen["frozen"] > 0
    assert seen["startup_frozen"], "gc.freeze() ran before the lifespan built the app's parts"
