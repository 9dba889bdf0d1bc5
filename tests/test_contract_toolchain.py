"""The outside judges of the API contract are pinned and run by CI after the tests."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path


def test_spectral_and_its_rulesets_are_pinned_by_the_lock(repo_root: Path) -> None:
    package = json.loads((repo_root / "contract" / "package.json").read_text())
    lock = json.loads((repo_root / "contract" / "package-lock.json").read_text())
    wanted = package["devDependencies"]
    assert set(wanted) == {"@stoplight/spectral-cli", "@stoplight/spectral-owasp-ruleset"}
    for name, version in wanted.items():
        assert version[0].isdigit(), f"{name}: an exact version, not a range"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_schemathesis_is_a_locked_dependency_group(repo_root: Path) -> None:
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())
    [requirement] = project["dependency-groups"]["contract"]
    assert requirement.startswith("schemathesis")
    lock = tomllib.loads((repo_root / "uv.lock").read_text())
    assert any(package["name"] == "schemathesis" for package in lock["package"])


def test_ci_runs_the_contract_after_the_tests(repo_root: Path) -> None:
    lines = [line.strip() for line in (repo_root / ".ci" / "run").read_text().splitlines()]
    tests = next(i for i, line in enumerate(lines) if line.startswith("uv run pytest"))
    assert lines.index("npm ci --prefix contract --no-audit --no-fund") > tests
    assert lines.index("contract/run") > tests
    script = (repo_root / "contract" / "run").read_text()
    for phase in ("examples", "coverage", "fuzzing", "stateful"):
        assert phase in script
    for check in (
        "not_a_server_error",
        "response_schema_conformance",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
    ):
        assert check in script
    assert "--fail-severity error" in script
    assert "uv run orderly serve --port" in script
