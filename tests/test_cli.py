"""The command line, run as users run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.server import session_log

ORDERLY = [sys.executable, "-m", "orderly"]


def _run(
    args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    result = subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [*ORDERLY, *args],
        env=clean | {"APP_LOG_LEVEL": "DEBUG"} | env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    log = session_log("cli.log")
    if not isinstance(log, int):  # what the CLI printed is scanned for secrets too
        with log:
            log.write((result.stdout + result.stderr).encode())
    return result


def test_production_with_a_weak_secret_refuses_to_start(tmp_path: Path) -> None:
    result = _run(
        ["serve", "--port", "1"],
        {"APP_ENVIRONMENT": "production", "APP_SECRET_KEY": "changeme"},
        tmp_path,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "APP_SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = _run(["--help"], {}, tmp_path)
    assert result.returncode == 0
    for command in ("serve", "migrate"):
        assert command in result.stdout


def test_migrate_creates_the_database(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    result = _run(["migrate"], {"APP_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert db.exists()


def test_create_user_bootstraps_an_owner_and_refuses_duplicates(tmp_path: Path) -> None:
    env = {"APP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    assert _run(["migrate"], env, tmp_path).returncode == 0
    args = [
        "create-user",
        "--tenant",
        "Acme Co",
        "--email",
        "Boss@Acme.example",
        "--role",
        "owner",
        "--password",
        "long-enough-password",
    ]
    missing_tenant = _run(args, env, tmp_path)
    assert missing_tenant.returncode != 0
    assert "--create-tenant" in missing_tenant.stderr
    created = _run([*args, "--create-tenant"], env, tmp_path)
    assert created.returncode == 0, created.stderr
    assert "owner boss@acme.example" in created.stdout
    again = _run([*args[:2], "acme-co", *args[3:]], env, tmp_path)
    assert again.returncode != 0
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr


def test_create_user_prompts_for_the_password(tmp_path: Path) -> None:
    env = {"APP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    assert _run(["migrate"], env, tmp_path).returncode == 0
    result = _run(
        ["create-user", "--tenant", "T", "--create-tenant", "--email", "p@t.example"],
        env,
        tmp_path,
        stdin="s3cret-password\ns3cret-password\n",
    )
    assert result.returncode == 0, result.stderr
    assert "member p@t.example" in result.stdout


def test_serve_refuses_several_workers_without_a_shared_store(tmp_path: Path) -> None:
    env = {"APP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}"}
    with socket.socket() as taken:  # were it not refused, serve would fail to bind
        taken.bind(("127.0.0.1", 0))
        port = str(taken.getsockname()[1])
        result = _run(["serve", "--port", port, "--workers", "2"], env, tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "--workers 2 needs APP_REDIS_URL" in lines[0]
    assert not (tmp_path / "embedded.db").exists()  # refused before migrating anything


def test_importing_the_command_line_does_not_import_the_app(tmp_path: Path) -> None:
    """Each `serve --workers` worker imports it again before it answers health checks."""
    heavy = ("fastapi", "sqlalchemy", "alembic", "redis", "uvicorn", "pydantic_settings")
    probe = f"import sys, orderly.cli; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(  # noqa: S603 - our own module, fixed code
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
