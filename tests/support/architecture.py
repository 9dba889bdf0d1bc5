"""The import rules of the source tree, checked over the AST (no import-linter needed).

A package's direct subpackages are its *domains*, except the infrastructure layers
``core`` (shared by all, imports none of them), ``app`` (the composition root, may
import anything) and ``migrations``. Top-level modules (``cli``, ``config``, ``main``,
``models``) belong to no domain.

Every rule returns its violations as readable lines naming the offending import (module
-> module, with the line) or cycle (domain -> domain -> ...), so a failing test says
what to change. Imports are taken wherever they are written (inside functions and
``TYPE_CHECKING`` blocks too): a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

INFRASTRUCTURE = frozenset({"core", "app", "migrations"})


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} (line {self.line})"


def _module_name(root: Path, package: str, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


class ImportGraph:
    """The imports between the modules of ``package``, whose directory is ``root``."""

    def __init__(self, root: Path, package: str) -> None:
        self.root = root
        self.package = package
        self.modules = {
            _module_name(root, package, path): path for path in sorted(root.rglob("*.py"))
        }
        self.domains = frozenset(
            child.name
            for child in root.iterdir()
            if (child / "__init__.py").is_file() and child.name not in INFRASTRUCTURE
        )
        # One edge per import statement and target (``from x import a, b`` is one).
        self.edges = list(
            dict.fromkeys(edge for module in self.modules for edge in self._imports_of(module))
        )

    def _imports_of(self, module: str) -> Iterator[Edge]:
        path = self.modules[module]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            for target in self._targets(module, path, node):
                if target != module:
                    yield Edge(module, target, getattr(node, "lineno", 0))

    def _targets(self, module: str, path: Path, node: ast.AST) -> Iterator[str]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                known = self._known(alias.name)
                if known:
                    yield known
        elif isinstance(node, ast.ImportFrom):
            base = self._absolute(module, path, node)
            for alias in node.names:
                # ``from pkg import sub`` imports the module ``pkg.sub`` when it is one.
                known = self._known(f"{base}.{alias.name}") or self._known(base)
                if known:
                    yield known

    def _absolute(self, module: str, path: Path, node: ast.ImportFrom) -> str:
        if node.level == 0:
            return node.module or ""
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        return f"{base}.{node.module}" if node.module else base

    def _known(self, name: str) -> str | None:
        """The longest prefix of ``name`` that is a module of the package."""
        parts = name.split(".")
        while parts:
            candidate = ".".join(parts)
            if candidate in self.modules:
                return candidate
            parts.pop()
        return None

    def top(self, module: str) -> str | None:
        """``orderly.users.service`` -> ``users``; None for top-level modules."""
        parts = module.split(".")
        if len(parts) < 2 or not (self.root / parts[1] / "__init__.py").is_file():
            return None
        return parts[1]

    def domain(self, module: str) -> str | None:
        top = self.top(module)
        return top if top in self.domains else None


def core_imports_outside_core(graph: ImportGraph) -> list[str]:
    """``core`` is the bottom layer: it imports no domain (nor the app, nor config)."""
    return [
        f"core imports outside core: {edge}"
        for edge in graph.edges
        if graph.top(edge.source) == "core" and graph.top(edge.target) != "core"
    ]


def _across_domains(graph: ImportGraph, module_name: str) -> Iterator[Edge]:
    for edge in graph.edges:
        target_domain = graph.domain(edge.target)
        source_layer = graph.top(edge.source)
        if (
            target_domain is not None
            and edge.target.rsplit(".", 1)[-1] == module_name
            and source_layer not in ("app", None)  # the composition root wires routers
            and source_layer != target_domain
        ):
            yield edge


def routers_imported_across_domains(graph: ImportGraph) -> list[str]:
    """Only the composition root includes routers; a domain never imports another's."""
    return [f"another domain's router: {edge}" for edge in _across_domains(graph, "router")]


def repositories_imported_across_domains(graph: ImportGraph) -> list[str]:
    """A service that needs another domain calls that domain's service."""
    return [
        f"another domain's repository: {edge}" for edge in _across_domains(graph, "repository")
    ]


def domain_cycles(graph: ImportGraph) -> list[str]:
    """A cycle between domain packages, as ``a -> b -> a`` with one import per arrow, for
    every knot of mutually dependent domains (naming the rest of the knot)."""
    arrows: dict[tuple[str, str], Edge] = {}
    for edge in graph.edges:
        source, target = graph.domain(edge.source), graph.domain(edge.target)
        if source and target and source != target:
            arrows.setdefault((source, target), edge)
    successors: dict[str, set[str]] = {}
    for source, target in arrows:
        successors.setdefault(source, set()).add(target)
    found = []
    for component in _strongly_connected(sorted(graph.domains), successors):
        if len(component) > 1:
            cycle = _a_cycle(component, successors)
            steps = "; ".join(str(arrows[pair]) for pair in pairwise(cycle))
            tangled = ""
            if len(component) > len(cycle) - 1:
                tangled = f"; tangled with it: {', '.join(sorted(component - set(cycle)))}"
            found.append(f"domain cycle {' -> '.join(cycle)} ({steps}{tangled})")
    return found


def _strongly_connected(nodes: list[str], successors: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm (recursive: a package has a handful of domains)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in sorted(successors.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in nodes:
        if node not in index:
            visit(node)
    return components


def _a_cycle(component: set[str], successors: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the first domain of ``component`` (breadth first)."""
    start = min(component)
    paths = [[start]]
    while paths:
        path = paths.pop(0)
        for successor in sorted(successors.get(path[-1], set()) & component):
            if successor == start:
                return [*path, start]
            if successor not in path:
                paths.append([*path, successor])
    raise AssertionError("a strongly connected component without a cycle")


def settings_read_outside_the_root(
    graph: ImportGraph, config: str, allowed: Iterable[str]
) -> list[str]:
    """Only the composition root reads settings: the app package, the CLI, and each
    domain's ``resources`` module (its ``provide``). Everything else is handed what it
    needs."""
    permitted = set(allowed)
    return [
        f"reads settings outside the composition root: {edge}"
        for edge in graph.edges
        if edge.target == config
        and graph.top(edge.source) != "app"
        and edge.source not in permitted
        and not edge.source.endswith(".resources")
    ]


WEB_FRAMEWORKS = ("fastapi", "starlette")
# The layers a job, a CLI command or a GraphQL resolver runs as they are: no HTTP.
NO_HTTP_MODULES = ("service", "repository", "models", "tasks")


def _absolute_imports(path: Path) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, node.lineno


def http_imports_below_the_routers(graph: ImportGraph) -> list[str]:
    """Services, repositories, models and jobs never import the web framework: they are
    built from a unit of work, never from a request, and raise domain errors."""
    return [
        f"imports the web framework: {module} -> {name} (line {line})"
        for module, path in graph.modules.items()
        if graph.domain(module) and module.rsplit(".", 1)[-1] in NO_HTTP_MODULES
        for name, line in _absolute_imports(path)
        if name.split(".", 1)[0] in WEB_FRAMEWORKS
    ]


def commit_calls(root: Path, allowed: Iterable[Path]) -> list[str]:
    """Every ``<anything>.commit(...)`` call under ``root`` outside ``allowed`` files."""
    skip = {path.resolve() for path in allowed}
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.resolve() in skip:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "commit"
            ):
                found.append(f"{path.relative_to(root)}:{node.lineno} commits")
    return found
