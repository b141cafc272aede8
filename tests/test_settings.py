from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from opsgraph.settings import Settings


def test_offline_is_the_default_without_a_key() -> None:
    assert Settings().resolved_model() == "offline"


def test_a_key_selects_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert Settings().resolved_model() == "openai:gpt-4o-mini"


def test_env_and_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    toml = tmp_path / "opsgraph.toml"
    toml.write_text('model = "llama3"\nbase_url = "http://127.0.0.1:11434/v1"\nread_only = true\n')
    monkeypatch.setenv("OPSGRAPH_CONFIG_FILE", str(toml))
    monkeypatch.setenv("OPSGRAPH_READ_ONLY", "false")
    s = Settings()
    assert (s.model, s.base_url, s.read_only) == ("llama3", "http://127.0.0.1:11434/v1", False)


def test_checkpoint_url_is_validated() -> None:
    with pytest.raises(ValidationError, match="checkpoint_url"):
        Settings(checkpoint_url="mysql://x")
    assert Settings(checkpoint_url="memory").resolved_checkpoint_url() == "memory"
    assert Settings().resolved_checkpoint_url().startswith("sqlite:///")


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    names = {
        name
        for line in readme.splitlines()
        if line.startswith("| `OPSGRAPH_")
        for name in re.findall(r"`(OPSGRAPH_[A-Z0-9_]+)`", line.split(" | ")[0])
    }
    undocumented = [n for n in Settings.model_fields if f"OPSGRAPH_{n.upper()}" not in names]
    assert undocumented == [], "add a row to the README's configuration table for each"


def test_a_local_model_steps_in_json_unless_a_mode_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from agents.runtime import model_policy
    from eval.suite import run_settings_of

    local = "local:/models/qwen.gguf"
    assert Settings(model=local).resolved_tool_calls() == "json"
    assert Settings(model="llama3", base_url="http://127.0.0.1:9/v1").resolved_tool_calls() == "auto"
    assert Settings(model=local, tool_calls="auto").resolved_tool_calls() == "auto"
    assert Settings().model_copy(update={"model": local}).resolved_tool_calls() == "json"  # the SDK's way
    fake = FakeListChatModel(responses=["-"])
    assert model_policy(Settings(model=local), fake).tool_calls == "json"
    assert run_settings_of(Settings(model=local))["tool_calls"] == "json"  # cassettes record the mode used
    monkeypatch.setenv("OPSGRAPH_TOOL_CALLS", "native")
    assert Settings(model=local).resolved_tool_calls() == "native"
    monkeypatch.delenv("OPSGRAPH_TOOL_CALLS")
    toml = tmp_path / "opsgraph.toml"
    toml.write_text('tool_calls = "text"\n')
    monkeypatch.setenv("OPSGRAPH_CONFIG_FILE", str(toml))
    assert Settings(model=local).resolved_tool_calls() == "text"
