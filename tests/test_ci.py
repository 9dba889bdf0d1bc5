"""The pre-commit hooks run what CI runs, and CI measures branch coverage with a floor."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path


def ci_commands(repo_root: Path) -> list[str]:
    lines = (repo_root / ".ci" / "run").read_text().splitlines()
    return [line.strip() for line in lines if line.strip().startswith("uv run ")]


def test_every_pre_commit_hook_runs_a_command_of_ci(repo_root: Path) -> None:
    config = (repo_root / ".pre-commit-config.yaml").read_text()
    entries = re.findall(r"^\s+entry:\s*(.+?)\s*$", config, flags=re.MULTILINE)
    assert len(entries) == 3  # ruff check, ruff format --check, mypy
    assert all(entry in ci_commands(repo_root) for entry in entries), entries
    assert "language: system" in config  # uv run: the versions of uv.lock


def test_ci_runs_the_readme_test_command_with_branch_coverage_and_a_floor(
    repo_root: Path,
) -> None:
    [pytest_line] = [c for c in ci_commands(repo_root) if c.startswith("uv run pytest")]
    assert "--cov=orderly" in pytest_line
    assert "--cov-branch" in pytest_line
    floor = re.search(r"--cov-fail-under=(\d+(?:\.\d+)?)", pytest_line)
    assert floor is not None
    assert 0 < float(floor.group(1)) <= 100
    coverage = tomllib.loads((repo_root / "pyproject.toml").read_text())["tool"]["coverage"]
    assert coverage["run"]["branch"] is True
    assert "if TYPE_CHECKING:" in coverage["report"]["exclude_also"]
