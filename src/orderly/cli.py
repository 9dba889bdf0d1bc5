"""The `orderly` command line.

Only the command line itself is imported up front; each command imports what it uses.
``orderly serve --workers N`` starts its workers with multiprocessing's spawn, and each
of them imports this module again (as ``__mp_main__``) before it can answer uvicorn's
health check: importing the whole app here cost every worker that much more start-up
(``python -X importtime -c "import orderly.cli"``: 10.7 s on a loaded 2-core machine,
most of it SQLAlchemy, Alembic, FastAPI and Redis, none of them needed to parse a command).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from orderly.core.identity import Role

if TYPE_CHECKING:
    from orderly.app.container import Provider
    from orderly.config import Settings
    from orderly.users.schemas import UserCreate

app = typer.Typer(
    name="orderly",
    help="Orderly: a multi-tenant order-management API. Configure with APP_* variables "
    "or a .env file (see .env.example).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"orderly: {message}", err=True)
    raise typer.Exit(code=2)


def _settings() -> Settings:
    """Load settings or stop with one clear line (no traceback)."""
    from pydantic import ValidationError

    from orderly.config import load_settings
    from orderly.core.logging import configure_logging

    try:
        settings = load_settings()
    except ValidationError as exc:
        reasons = "; ".join(
            f"{str(err['msg']).removeprefix('Value error, ')}"
            + (f" ({'.'.join(map(str, err['loc']))})" if err["loc"] else "")
            for err in exc.errors()
        )
        _fail(f"invalid configuration: {reasons}")
    configure_logging(
        level=settings.log_level, fmt=settings.effective_log_format, echo_sql=settings.db_echo
    )
    return settings


def _migrate(settings: Settings) -> None:
    import structlog

    from orderly.core.migrations import upgrade_to_head

    try:
        upgrade_to_head(settings.database_url)
    except Exception as exc:  # report the cause in one line; the details are in the log
        structlog.get_logger("orderly.cli").exception("migration_failed")
        _fail(f"could not migrate the database: {type(exc).__name__}")


def _check_workers(settings: Settings, workers: int) -> None:
    """Several workers need a shared store, or what one decides the others ignore.

    Refused rather than shared through the database: without Redis, revocations,
    API-key and response caches, idempotency keys and rate limits live in each process,
    so a revoked key or a deactivated user would keep working on the other workers (up
    to 30 s, or a token's whole lifetime). Sharing them through the database would cost
    a query per request; and SQLite, the usual store of such a set-up, serializes
    writers, so more workers would buy little.
    """
    if workers > 1 and settings.redis_url is None:
        _fail(
            f"--workers {workers} needs APP_REDIS_URL (scale-out mode): without Redis "
            "each worker keeps its own revocations and caches, so a revoked key or "
            "deactivated user would keep working on the others. Run one worker, or set "
            "APP_REDIS_URL (with PostgreSQL for APP_DATABASE_URL)."
        )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (more than one needs APP_REDIS_URL).")
    ] = 1,
    reload: Annotated[
        bool, typer.Option(help="Restart on code changes (development only).")
    ] = False,
) -> None:
    """Run the API server. In embedded mode (SQLite) it applies migrations first."""
    import structlog

    from orderly.core import serving

    settings = _settings()
    _check_workers(settings, workers)
    if settings.secret_key is None:
        # Workers (and reloads) must share one key, or tokens from one are rejected by
        # another: generate it here and hand it down through the environment.
        os.environ["APP_SECRET_KEY"] = secrets.token_urlsafe(48)
        structlog.get_logger("orderly.cli").warning(
            "generated_secret_key",
            detail="APP_SECRET_KEY is not set; generated one for this run. "
            "Tokens will not survive a restart.",
        )
    if settings.is_sqlite:
        _migrate(settings)
    serving.run(host, port, workers, reload=reload)


@app.command()
def migrate() -> None:
    """Upgrade the database to the newest schema (Alembic `upgrade head`)."""
    settings = _settings()
    _migrate(settings)
    typer.echo("Database is at the newest revision.")


@app.command()
def worker(
    extra_providers: Annotated[
        list[str] | None,
        typer.Option(
            "--provider",
            hidden=True,
            help="module:function of an extra provide() to run (tests register their "
            "own jobs this way).",
        ),
    ] = None,
) -> None:
    """Run background jobs and periodic jobs from Redis (scale-out mode; any number of
    workers). SIGTERM: stop taking jobs, let running ones finish within
    APP_WORKER_SHUTDOWN_GRACE_SECONDS, exit 0."""
    import asyncio

    settings = _settings()
    if settings.redis_url is None:
        _fail(
            "orderly worker needs APP_REDIS_URL (scale-out mode): it takes its jobs from "
            "Redis. In embedded mode `orderly serve` runs the jobs itself."
        )
    asyncio.run(_work(settings, [_import_provider(path) for path in extra_providers or []]))


def _import_provider(path: str) -> Provider:
    import importlib

    module, _, name = path.partition(":")
    try:
        provider: Provider = getattr(importlib.import_module(module), name or "provide")
    except (ImportError, AttributeError) as exc:
        _fail(f"cannot load provider {path!r}: {exc}")
    return provider


async def _work(settings: Settings, extra: list[Provider]) -> None:
    """The container every process opens (its background parts start too), then the
    SAQ worker until SIGTERM or SIGINT. The signals are ours from the very start, so
    one that comes while the container opens or closes still ends the process with 0."""
    import asyncio
    import signal

    import structlog

    from orderly.app import open_container
    from orderly.app.container import WORKER_PROVIDERS
    from orderly.core.jobs_saq import SAQ_JOBS

    logger = structlog.get_logger("orderly.worker")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # This process is the worker: the container must not start a second one inside.
    here = settings.model_copy(update={"worker_in_process": False})
    async with open_container(here, (*WORKER_PROVIDERS, *extra)) as container:
        if stop.is_set():
            return
        jobs = container[SAQ_JOBS]
        runner = jobs.worker(
            concurrency=settings.worker_concurrency,
            grace_seconds=settings.worker_shutdown_grace_seconds,
        )
        await runner.start()
        logger.info("worker_started", queue=jobs.name, concurrency=settings.worker_concurrency)
        stopping = asyncio.ensure_future(stop.wait())
        running = asyncio.ensure_future(runner.wait())
        await asyncio.wait({stopping, running}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        running.cancel()
        if running.done() and not running.cancelled():
            running.exception()  # seen here; stop() raises it again
        await runner.stop()  # raises if the worker failed on its own: exit 1
        logger.info("worker_stopped")


@app.command("create-user")
def create_user(
    tenant: Annotated[str, typer.Option(help="Tenant slug or id (or a new tenant's name).")],
    email: Annotated[str, typer.Option(help="The user's email (their login).")],
    role: Annotated[Role, typer.Option(help="owner, admin or member.")] = Role.MEMBER,
    full_name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: Annotated[
        str | None,
        typer.Option(help="Omit to be prompted (keeps it out of the shell history)."),
    ] = None,
    create_tenant: Annotated[
        bool, typer.Option("--create-tenant", help="Create the tenant if it does not exist.")
    ] = False,
) -> None:
    """Create a user from the command line, e.g. the first owner of a deployment."""
    import asyncio

    from pydantic import ValidationError

    from orderly.core.errors import AppError
    from orderly.users.schemas import UserCreate

    settings = _settings()
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = UserCreate(email=email, password=password, full_name=full_name or email, role=role)
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    try:
        user_id, tenant_id = asyncio.run(
            _bootstrap(settings, tenant, data, allow_new_tenant=create_tenant)
        )
    except (AppError, LookupError) as exc:
        _fail(str(exc))
    typer.echo(f"Created {data.role.value} {data.email} ({user_id}) in tenant {tenant_id}.")


async def _bootstrap(
    settings: Settings, tenant: str, data: UserCreate, *, allow_new_tenant: bool
) -> tuple[str, str]:
    """The same container the API opens, without HTTP."""
    from orderly.app import open_container
    from orderly.users.bootstrap import bootstrap_user

    async with open_container(settings) as container:
        return await bootstrap_user(container, tenant, data, allow_new_tenant=allow_new_tenant)


events_app = typer.Typer(help="Live events of a running Orderly.", no_args_is_help=True)
app.add_typer(events_app, name="events")


@events_app.command("tail")
def events_tail(
    api_key: Annotated[
        str,
        typer.Option(
            envvar="ORDERLY_API_KEY",
            help="An API key (sk_...) with read:orders and/or read:items "
            "(or set ORDERLY_API_KEY, which keeps it out of the shell history).",
        ),
    ],
    url: Annotated[str, typer.Option(help="The API's base URL.")] = "http://127.0.0.1:8000",
    types: Annotated[
        str | None, typer.Option("--type", help="Event types or patterns: order.*,item.*")
    ] = None,
    after: Annotated[
        int | None, typer.Option(min=0, help="Replay events after this seq first (0: all kept).")
    ] = None,
    count: Annotated[int | None, typer.Option(min=1, help="Stop after this many events.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One event JSON per line.")] = False,
) -> None:
    """Print events as they happen; reconnects (and resumes) on its own. Ctrl-C stops."""
    import asyncio

    from rich.console import Console

    from orderly.live.tail import Tail, TailRefusedError

    tail = Tail(
        url, {"X-API-Key": api_key}, types=types, after=after, count=count, as_json=as_json
    )
    try:
        asyncio.run(tail.run(Console(highlight=False)))
    except TailRefusedError as exc:
        _fail(f"the server refused the stream: {exc}")
    except KeyboardInterrupt:
        raise typer.Exit(code=0) from None


exports_app = typer.Typer(help="Exports of a running Orderly.", no_args_is_help=True)
app.add_typer(exports_app, name="exports")


@exports_app.command("create")
def exports_create(
    api_key: Annotated[
        str,
        typer.Option(
            envvar="ORDERLY_API_KEY",
            help="An API key (sk_...) with read:orders (or set ORDERLY_API_KEY, which "
            "keeps it out of the shell history).",
        ),
    ],
    base_url: Annotated[
        str, typer.Option("--base-url", "--url", help="The API's base URL.")
    ] = "http://127.0.0.1:8000",
    status: Annotated[str | None, typer.Option(help="Only orders in this state.")] = None,
    created_after: Annotated[
        str | None, typer.Option(help="Only orders placed at or after (RFC 3339).")
    ] = None,
    created_before: Annotated[
        str | None, typer.Option(help="Only orders placed before (RFC 3339).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to save the CSV (default: its name)."),
    ] = None,
) -> None:
    """Export the tenant's orders as CSV: start it, follow its progress, download it."""
    import asyncio

    import httpx
    from rich.console import Console

    from orderly.exports.client import ExportCommand, ExportRefusedError

    filters = {
        name: value
        for name, value in (
            ("status", status),
            ("created_after", created_after),
            ("created_before", created_before),
        )
        if value is not None
    }
    command = ExportCommand(base_url, {"X-API-Key": api_key}, filters, output)
    console = Console(highlight=False)
    try:
        path, rows = asyncio.run(command.run(console))
    except ExportRefusedError as exc:
        _fail(f"export refused: {exc}")
    except httpx.HTTPError as exc:
        _fail(f"cannot reach {base_url}: {type(exc).__name__}")
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None
    console.print(f"Saved {rows} rows to {path}")


def main() -> NoReturn:
    sys.exit(app())
