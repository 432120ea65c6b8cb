"""The layers of include/ctwatch as a contract: every import points to a lower layer (or stays in its
own package), and no two modules import each other, directly or in a ring. Type-only imports count:
a cycle through `if TYPE_CHECKING:` is still two modules that cannot be understood apart. The
layers are LAYERS below, lowest first; docs/design.md explains them. Nothing below the simulator may
import it: only the benchmark and the command line (`sim serve`) do.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from tests.conftest import REPO_ROOT

PACKAGE_ROOT = REPO_ROOT / "include" / "ctwatch"
# A package may import its own modules and packages of a lower layer, never of its own layer or above.
LAYERS: Final = (
    ("timeutil", "evidence"),  # the vocabulary of evidence: imports nothing of ctwatch
    ("x509", "ct"),  # parsing certificates, CT structures and proofs
    ("rules",),  # the rule registry over parsed certificates
    ("policy",),  # BR windows and reasons
    ("crl",),  # the streaming CRL reader
    # protocol clients (fetch and parse, nothing stored) beside the warehouse (DuckDB: migrations, SQL
    # files, storing and reading evidence): neither knows the other, both speak `evidence`
    ("sources", "warehouse"),
    ("alerts", "ingest", "revocation", "rule_runs"),  # units of work composing sources and the warehouse
    ("evaluate",),  # the compliance clock
    ("report", "config"),  # reports over evaluations; ctwatch.toml resolved into each layer's settings
    ("sim", "demo", "dashboard"),  # the simulated Web PKI, the demo's settings, the dashboard's pages
    ("bench", "cli"),  # entry points
    ("__main__",),
)
_RANK: Final = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    base = PACKAGE_ROOT.parent / relative
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """The ctwatch modules `path` imports (a `from package import name` names the module when it is
    one), with line numbers."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "ctwatch")
        elif isinstance(node, ast.ImportFrom):  # relative imports are banned (ruff TID252)
            base = node.module or ""
            if base.split(".")[0] != "ctwatch":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield (candidate if _is_module(candidate) else base), node.lineno


def _graph() -> dict[str, dict[str, int]]:
    graph: dict[str, dict[str, int]] = {}
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        graph[_module_name(path)] = dict(_imports(path))
    return graph


def _package(module: str) -> str:
    return module.split(".")[1] if "." in module else "(top)"


def upward_imports(graph: dict[str, dict[str, int]]) -> list[str]:
    problems = []
    for module, imported in sorted(graph.items()):
        source = _package(module)
        for target, line in sorted(imported.items()):
            destination = _package(target)
            if destination == source:
                continue
            if source not in _RANK or destination not in _RANK:
                problems.append(f"{module}:{line} imports {target}: a package outside LAYERS")
            elif _RANK[destination] >= _RANK[source]:
                problems.append(
                    f"{module}:{line} imports {target} (layer {_RANK[destination]} >= {_RANK[source]})"
                )
    return problems


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_every_package_has_a_layer() -> None:
    packages = {_package(m) for m in _graph()} - {"(top)"}
    assert packages == set(_RANK), "add the new package to LAYERS (and docs/design.md)"


def test_imports_point_down() -> None:
    assert upward_imports(_graph()) == []


def test_no_import_cycles() -> None:
    assert cycles(_graph()) == []


@pytest.mark.parametrize(
    ("module", "imports", "problem"),
    [
        ("ctwatch.sources.crl", "ctwatch.warehouse.crl_archive", "layer"),
        ("ctwatch.warehouse.certificates", "ctwatch.revocation.daily_lists", "layer"),
        ("ctwatch.evaluate.assess", "ctwatch.sim.world", "layer"),
        ("ctwatch.ingest.plan", "ctwatch.revocation.daily_lists", "layer"),  # same layer
    ],
)
def test_the_contract_catches_an_upward_import(module: str, imports: str, problem: str) -> None:
    graph = _graph()
    graph[module] = {**graph[module], imports: 1}
    assert any(problem in p and module in p for p in upward_imports(graph))


def test_the_contract_catches_a_cycle() -> None:
    graph = _graph()
    graph["ctwatch.evaluate.clock"] = {**graph["ctwatch.evaluate.clock"], "ctwatch.evaluate.assess": 1}
    assert ["ctwatch.evaluate.assess", "ctwatch.evaluate.clock"] in [
        [m for m in c if m in ("ctwatch.evaluate.assess", "ctwatch.evaluate.clock")] for c in cycles(graph)
    ]
