"""What the README promises beyond its code blocks (tests/docs runs those): the set-up commands exist,
every setting is documented, and the tour is the list tests/docs runs."""

from __future__ import annotations

import re
from pathlib import Path

from opsgraph.settings import Settings
from tests.docs.blocks import Block, blocks, shell_commands

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _blocks(lang: str) -> list[Block]:
    return [b for b in blocks(ROOT / "README.md") if b.lang == lang]


def test_the_two_setup_commands_exist() -> None:
    setup = _blocks("sh")[0].code
    assert "make run" in setup and "make test" in setup
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: ", makefile, re.M) and re.search(r"^test: ", makefile, re.M)


def test_every_setting_is_in_the_configuration_table() -> None:
    table = README[README.index("## Configuration") :]
    missing = [f for f in Settings.model_fields if f"OPSGRAPH_{f.upper()}" not in table]
    assert missing == [], f"settings the README's configuration section does not name: {missing}"


def test_the_tour_is_a_block_tests_docs_runs() -> None:
    marker = README.index("readme-examples")
    [tour] = [b for b in _blocks("sh") if README.index(b.code) > marker][:1]
    commands = [c.text for c in shell_commands(tour)]
    assert len(commands) >= 8 and all(c.startswith("opsgraph ") for c in commands)
    assert any("--yes" in c for c in commands), "the tour shows a change being approved"
