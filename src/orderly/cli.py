"""The `orderly` command line."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from typing import Annotated, NoReturn

import structlog
import typer
from pydantic import ValidationError

from orderly.auth.principal import Role
from orderly.config import Settings, load_settings
from orderly.core import serving
from orderly.core.errors import AppError
from orderly.core.logging import configure_logging
from orderly.core.migrations import upgrade_to_head
from orderly.users.bootstrap import bootstrap_user
from orderly.users.schemas import UserCreate

app = typer.Typer(
    name="orderly",
    help="Orderly: a multi-tenant order-management API. Configure with APP_* variables "
    "or a .env file (see .env.example).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
logger = structlog.get_logger("orderly.cli")


def _fail(message: str) -> NoReturn:
    typer.echo(f"orderly: {message}", err=True)
    raise typer.Exit(code=2)


def _settings() -> Settings:
    """Load settings or stop with one clear line (no traceback)."""
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
    try:
        upgrade_to_head(settings.database_url)
    except Exception as exc:  # report the cause in one line; the details are in the log
        logger.exception("migration_failed")
        _fail(f"could not migrate the database: {type(exc).__name__}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[
        bool, typer.Option(help="Restart on code changes (development only).")
    ] = False,
) -> None:
    """Run the API server. In embedded mode (SQLite) it applies migrations first."""
    settings = _settings()
    if settings.secret_key is None:
        # Workers (and reloads) must share one key, or tokens from one are rejected by
        # another: generate it here and hand it down through the environment.
        os.environ["APP_SECRET_KEY"] = secrets.token_urlsafe(48)
        logger.warning(
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
    settings = _settings()
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = UserCreate(email=email, password=password, full_name=full_name or email, role=role)
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    try:
        user_id, tenant_id = asyncio.run(
            bootstrap_user(settings, tenant, data, allow_new_tenant=create_tenant)
        )
    except (AppError, LookupError) as exc:
        _fail(str(exc))
    typer.echo(f"Created {data.role.value} {data.email} ({user_id}) in tenant {tenant_id}.")


def main() -> NoReturn:
    sys.exit(app())
