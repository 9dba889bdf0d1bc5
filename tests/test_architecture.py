"""The shape of the source tree: which package may import which, and who commits.

The rules (``tests/support/architecture.py``) run on ``src/orderly``; each is also shown
to fail, with the offending import in its message, on a small tree made for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.architecture import (
    ImportGraph,
    commit_calls,
    core_imports_outside_core,
    domain_cycles,
    http_imports_below_the_routers,
    repositories_imported_across_domains,
    routers_imported_across_domains,
    settings_read_outside_the_root,
)

SOURCE = Path(__file__).resolve().parent.parent / "src" / "orderly"
# Modules besides the app package and each domain's resources.py that may read settings.
SETTINGS_READERS = ("orderly.cli", "orderly.migrations.env")
# The one module that commits, and the migrations (Alembic runs their transactions).
MAY_COMMIT = (SOURCE / "core" / "unit_of_work.py", *(SOURCE / "migrations").rglob("*.py"))


@pytest.fixture(scope="module")
def orderly() -> ImportGraph:
    return ImportGraph(SOURCE, "orderly")


def _tree(tmp_path: Path, files: dict[str, str]) -> ImportGraph:
    """A package ``pkg`` with the given modules (and an ``__init__`` in every folder)."""
    root = tmp_path / "pkg"
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for folder in [root, *(path for path in root.rglob("*") if path.is_dir())]:
        (folder / "__init__.py").touch()
    return ImportGraph(root, "pkg")


def test_the_domains_are_the_packages_besides_core_app_and_migrations(
    orderly: ImportGraph,
) -> None:
    assert {"auth", "users", "tenants", "items", "orders"} <= orderly.domains
    assert not {"core", "app", "migrations"} & orderly.domains


def test_core_imports_no_domain(orderly: ImportGraph) -> None:
    assert core_imports_outside_core(orderly) == []


def test_no_domain_imports_another_domains_router(orderly: ImportGraph) -> None:
    assert routers_imported_across_domains(orderly) == []


def test_no_domain_reaches_into_another_domains_repository(orderly: ImportGraph) -> None:
    assert repositories_imported_across_domains(orderly) == []


def test_the_domain_packages_form_no_cycle(orderly: ImportGraph) -> None:
    assert domain_cycles(orderly) == []


def test_only_the_composition_root_reads_settings(orderly: ImportGraph) -> None:
    assert settings_read_outside_the_root(orderly, "orderly.config", SETTINGS_READERS) == []


def test_services_repositories_models_and_jobs_know_no_http(orderly: ImportGraph) -> None:
    assert http_imports_below_the_routers(orderly) == []


def test_no_code_commits_outside_the_unit_of_work() -> None:
    assert commit_calls(SOURCE, MAY_COMMIT) == []


def test_the_checker_names_a_core_module_that_imports_a_domain(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {"core/cache.py": "from pkg.auth.tokens import codec\n", "auth/tokens.py": "codec = 1\n"},
    )
    assert core_imports_outside_core(graph) == [
        "core imports outside core: pkg.core.cache -> pkg.auth.tokens (line 1)"
    ]


def test_the_checker_names_an_import_of_another_domains_router(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "items/router.py": "router = None\n",
            "orders/service.py": "import pkg.items.router\n",
            "app/routers.py": "from pkg.items import router\n",  # the root may
        },
    )
    assert routers_imported_across_domains(graph) == [
        "another domain's router: pkg.orders.service -> pkg.items.router (line 1)"
    ]


def test_the_checker_names_an_import_of_another_domains_repository(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "items/repository.py": "class ItemRepository: ...\n",
            "items/service.py": "from .repository import ItemRepository\n",  # its own
            "orders/placement.py": "\n\nfrom ..items.repository import ItemRepository\n",
        },
    )
    assert repositories_imported_across_domains(graph) == [
        "another domain's repository: pkg.orders.placement -> pkg.items.repository (line 3)"
    ]


def test_the_checker_shows_a_cycle_between_domains_with_an_import_per_arrow(
    tmp_path: Path,
) -> None:
    graph = _tree(
        tmp_path,
        {
            "auth/service.py": "from pkg.users.service import create\n",
            "users/service.py": "def create(): from pkg.auth.sessions import end\n",
            "auth/sessions.py": "def end(): ...\n",
            "items/service.py": "import pkg.users.service\n",  # into the cycle, not in it
        },
    )
    assert domain_cycles(graph) == [
        "domain cycle auth -> users -> auth (pkg.auth.service -> pkg.users.service (line 1); "
        "pkg.users.service -> pkg.auth.sessions (line 1))"
    ]


def test_the_checker_names_a_module_that_reads_settings(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "config.py": "class Settings: ...\n",
            "auth/passwords.py": "from pkg.config import Settings\n",
            "auth/resources.py": "from pkg.config import Settings\n",  # its provide()
            "app/container.py": "from pkg import config\n",
        },
    )
    assert settings_read_outside_the_root(graph, "pkg.config", ()) == [
        "reads settings outside the composition root: pkg.auth.passwords -> pkg.config (line 1)"
    ]


def test_the_checker_names_a_service_that_imports_the_web_framework(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "orders/service.py": "import json\nfrom starlette.requests import Request\n",
            "orders/router.py": "from fastapi import APIRouter\n",  # routers may
        },
    )
    assert http_imports_below_the_routers(graph) == [
        "imports the web framework: pkg.orders.service -> starlette.requests (line 2)"
    ]


def test_the_checker_finds_a_commit_outside_the_unit_of_work(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "core/unit_of_work.py": "async def commit(s):\n    await s.commit()\n",
            "users/bootstrap.py": "async def run(s):\n    x = 1\n    await s.commit()\n",
        },
    )
    allowed = [graph.root / "core" / "unit_of_work.py"]
    assert commit_calls(graph.root, allowed) == ["users/bootstrap.py:3 commits"]
