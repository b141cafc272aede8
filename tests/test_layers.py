"""The layers of ARCHITECTURE.md hold: every import, at module level or inside a function, points down.

    policies <- verifiers <- tools <- agents <- server, eval <- opsgraph

A package imports its own modules and those of the packages below it; `server` and `eval` stand side by side
and import neither each other nor anything above. `sandbox` is a separate server that imports nothing of
ours, and the rest starts it as a subprocess and reaches it over HTTP: outside `sandbox/`, `tests/` and
`bench/`, code imports only its launcher, `sandbox.process` (stdlib only: it runs `python -m sandbox`), with
the exceptions in `SANDBOX_FRONT_ENDS`. Folders outside the packages (tests, bench, scripts, deploy) sit on
top and import any layer. Imports by name at run time (`importlib.import_module("...")`) are not seen here.
"""

from __future__ import annotations

import ast
import importlib.metadata
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import opsgraph

ROOT = Path(__file__).resolve().parent.parent

RANK = {"policies": 0, "verifiers": 1, "tools": 2, "agents": 3, "server": 4, "eval": 4, "opsgraph": 5}
"""The layers, lowest first; a package may import those of a lower rank (and itself)."""

SANDBOX_LAUNCHER = "sandbox.process"
SANDBOX_FREE = ("sandbox", "tests", "bench")
"""Folders that may import the sandbox in-process: itself, the tests and the benchmarks that start it."""
SANDBOX_FRONT_ENDS = {
    # `opsgraph sandbox serve` runs a sandbox in the CLI's own process on purpose (a container, CI), and
    # `--scenario` is checked against the sandbox's own list of scenarios.
    "opsgraph/cli_sandbox.py": {"sandbox.__main__", "sandbox.scenarios"},
}
SKIP = {".venv", "build", "node_modules", "__pycache__"}


def _modules() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if not any(p in SKIP or p.startswith(".") or p.endswith(".egg-info") for p in parts):
            yield path


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every absolute import in the file, wherever it stands (functions, TYPE_CHECKING)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def _violation(rel: str, module: str) -> str | None:
    """Why `rel` (a path under the root) may not import `module`; None when it may."""
    home, target = rel.split("/", 1)[0], module.split(".", 1)[0]
    if target == home:
        return None
    if target == "sandbox":
        if home in SANDBOX_FREE or module == SANDBOX_LAUNCHER:
            return None
        if module in SANDBOX_FRONT_ENDS.get(rel, set()):
            return None
        return f"imports the sandbox in-process (only {SANDBOX_LAUNCHER}, its launcher, may be)"
    if home == "sandbox" and target in RANK:
        return "the sandbox imports nothing of ours"
    if home in RANK and target in RANK and RANK[target] >= RANK[home]:
        return f"{home} (layer {RANK[home]}) imports {target} (layer {RANK[target]})"
    return None


def test_every_import_points_down() -> None:
    found = []
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        for line, module in _imports(path):
            why = _violation(rel, module)
            if why is not None:
                found.append(f"{rel}:{line}: import {module}: {why}")
    assert found == []


def test_the_layer_map_names_every_package() -> None:
    """A new top-level package fails here until it has a place in the layers."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.rstrip("*") for p in config["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages == {*RANK, "sandbox"}


def test_the_sandbox_launcher_loads_no_sandbox_module() -> None:
    """Importing `sandbox.process` must not load the server: it only starts `python -m sandbox`."""
    path = ROOT / "sandbox" / "process.py"
    assert [m for _, m in _imports(path) if m.split(".")[0] in {*RANK, "sandbox"}] == []


@pytest.mark.parametrize(
    ("rel", "module"),
    [
        ("tools/cost/connect.py", "opsgraph.settings"),
        ("server/workers.py", "opsgraph.sdk"),
        ("server/app.py", "opsgraph"),
        ("server/app.py", "eval.suite"),
        ("verifiers/iam/compare.py", "tools.iam"),
        ("policies/model.py", "verifiers.iam"),
        ("eval/suites/k8s_tasks.py", "sandbox.cluster"),
        ("opsgraph/cli.py", "sandbox.scenarios"),
        ("sandbox/api.py", "policies"),
    ],
)
def test_an_upward_or_in_process_sandbox_import_is_caught(rel: str, module: str) -> None:
    assert _violation(rel, module) is not None


def test_the_server_reports_the_version_opsgraph_does() -> None:
    """The server reads the distribution's version (it may not import `opsgraph.__version__`)."""
    assert importlib.metadata.version("opsgraph") == opsgraph.__version__
