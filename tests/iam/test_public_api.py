"""The public names of `policies` and `verifiers.iam` are a contract (other packages build on them)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import policies
import verifiers.iam

CONTRACT = {
    "policies": {
        "parse_policy",
        "PolicyParseError",
        "Policy",
        "Statement",
        "Request",
        "PolicySet",
        "load_catalog",
        "parse_requests",
        "load_policy",
    },
    "verifiers.iam": {
        "evaluate",
        "compare",
        "explain",
        "Comparison",
        "Decision",
        "Explanation",
        "encode_policy",
        "encode_statement",
        "Space",
        "solve",
        "decide",
        "pin_request",
        "lint",
        "allows",
    },
}


@pytest.mark.parametrize("module", sorted(CONTRACT))
def test_public_names(module: str) -> None:
    mod = importlib.import_module(module)
    assert CONTRACT[module] <= set(mod.__all__)
    for name in mod.__all__:
        assert hasattr(mod, name), name


def test_every_module_declares_all() -> None:
    for package in (policies, verifiers.iam):
        for path in sorted(Path(package.__path__[0]).glob("*.py")):
            if path.name == "__init__.py":
                continue
            mod = importlib.import_module(f"{package.__name__}.{path.stem}")
            assert hasattr(mod, "__all__"), mod.__name__
