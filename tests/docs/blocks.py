"""How the docs runner reads a Markdown file: its fenced blocks, with the directives and the file name
written above each, and the commands of a console or shell block. What each language means, and how the
blocks run, is in tests/docs/runner.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LANGUAGES",
    "PROSE",
    "PYTHON",
    "ROOT",
    "SHELL",
    "Block",
    "Command",
    "blocks",
    "documented_files",
    "shell_commands",
]

ROOT = Path(__file__).resolve().parents[2]

PROSE = {"text"}
PYTHON = {"python", "py"}
SHELL = {"sh", "bash", "shell"}
LANGUAGES = PYTHON | SHELL | PROSE | {"console", "json", "toml", "yaml", "sse", "promql", "usage"}

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,})(?P<info>[^`]*)$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*docs-run:\s*(?P<body>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    file: str
    """Relative to the repository, e.g. `docs/server.md`."""
    line: int
    """The line of the opening fence (1-based)."""
    info: str
    code: str
    directives: tuple[str, ...] = ()
    names: str = ""
    """The file the block is, when the line above it says so: `` `policy.json`: ``."""

    @property
    def lang(self) -> str:
        return self.info.split()[0].lower() if self.info.strip() else ""

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Command:
    """One shell command of a block: its text, and the output the document shows under it (console)."""

    text: str
    shown: str = ""


def documented_files() -> list[Path]:
    """README.md and every Markdown file under docs/, the files whose blocks are run."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    lines = path.read_text().splitlines()
    rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not re.match(rf"^ {{0,{indent + 3}}}{fence}`*\s*$", lines[j]):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        info, code = opening["info"].strip(), "\n".join(body) + "\n"
        found.append(Block(rel, i + 1, info, code, _directives(lines, i), _names(lines, i)))
        i = j + 1
    return found


def _names(lines: list[str], fence: int) -> str:
    """`NAME` when the last text line above the fence is `` `NAME`: `` (a file the document shows)."""
    k = fence - 1
    while k >= 0 and (not lines[k].strip() or _DIRECTIVE.match(lines[k])):
        k -= 1
    match = re.fullmatch(r"\s*`([\w.\-/]+\.\w+)`:\s*", lines[k]) if k >= 0 else None
    return match[1] if match else ""


def _directives(lines: list[str], fence: int) -> tuple[str, ...]:
    """The `<!-- docs-run: ... -->` comments on the lines right above a fence (blank lines between allowed)."""
    found: list[str] = []
    k = fence - 1
    while k >= 0 and (not lines[k].strip() or _DIRECTIVE.match(lines[k])):
        match = _DIRECTIVE.match(lines[k])
        if match:
            found.insert(0, match["body"])
        k -= 1
    return tuple(found)


_OPENS = re.compile(r"^\s*(for|while|until|if|case|select)\b|\{\s*$")
_CLOSES = re.compile(r"^\s*(done|fi|esac|\})\b")


def shell_commands(block: Block) -> list[Command]:
    """The commands of a console or shell block; console output lines go with the command above them. A
    command runs on over `\\` line ends and to the end of a loop or `if` it opens."""
    commands: list[Command] = []
    pending: list[str] = []
    depth = 0
    console = block.lang == "console"
    for raw in block.code.splitlines():
        line = raw.rstrip()
        if pending:  # a continuation of the command above
            pending.append(line[2:] if console and line.startswith("> ") else line)
        elif console and line.startswith("$ "):
            pending = [line[2:]]
        elif console:
            if commands:
                commands[-1] = Command(commands[-1].text, commands[-1].shown + line + "\n")
            continue
        elif line.strip() and not line.lstrip().startswith("#"):
            pending = [line]
        else:
            continue
        body = pending[-1]
        depth += bool(_OPENS.search(body)) - bool(_CLOSES.search(body))
        if not line.endswith("\\") and depth <= 0:
            commands.append(Command("\n".join(pending)))
            pending, depth = [], 0
    if pending:
        commands.append(Command("\n".join(pending)))
    return commands
