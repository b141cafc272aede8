"""The README's examples are run, so the README cannot drift from the product."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.DOTALL)


def _example_commands() -> list[str]:
    marker = README.index("readme-examples")
    block = re.search(r"```sh\n(.*?)```", README[marker:], flags=re.DOTALL)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.startswith("opsgraph ")]


def test_the_two_setup_commands_exist() -> None:
    setup = _blocks("sh")[0]
    assert "make run" in setup and "make test" in setup
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: ", makefile, re.M) and re.search(r"^test: ", makefile, re.M)
