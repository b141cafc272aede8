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
