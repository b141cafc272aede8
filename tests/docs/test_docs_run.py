"""Every code block of README.md and docs/*.md runs, as tests/docs/runner.py describes.

New Markdown files under docs/ are picked up on their own. A block (or one command of a console or shell
block) that cannot run here goes into SKIP below, with the reason; the list stays short, and a test
checks that each entry still matches something.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sandbox.process import SandboxProcess
from tests.docs.blocks import Block, blocks, documented_files, shell_commands
from tests.docs.runner import BlockError, Session
from tests.forkserver import ForkServer

SKIP: dict[tuple[str, str], str] = {
    # (file, text the block or command contains): why it cannot run in the test suite
    ("README.md", "make test"): "the command that runs this test",
    ("README.md", "make run"): "an interactive chat (`opsgraph chat`, tested in tests/cli)",
    ("docs/eval.md", "--model openai:gpt-4o-mini"): "needs an OpenAI API key",
    ("docs/eval.md", "--replay out/syn/cassette.jsonl"): "replays the cassette the OpenAI run records",
    (
        "docs/iam-checks.md",
        "git diff --name-only origin/main",
    ): "a CI job's loop over a git checkout's changes",
    # every block of docs/models.md needs a model server: tests/models/test_docs.py runs them against the
    # session's llama.cpp server, with the page's model path and endpoints replaced by the test model's
    ("docs/models.md", ""): "run by tests/models/test_docs.py against a real llama.cpp server",
}

FILES = documented_files()
BLOCKS = {path.relative_to(FILES[0].parent).as_posix(): blocks(path) for path in FILES}
ALL = [block for found in BLOCKS.values() for block in found]


def _skip_reason(block: Block, text: str) -> str | None:
    for (file, needle), why in SKIP.items():
        if block.file == file and needle in text:
            return why
    return None


@pytest.fixture(scope="module")
def docs_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """The demo sandbox every documented command talks to (its own: the docs change the shop)."""
    folder = tmp_path_factory.mktemp("docs-cluster")
    with SandboxProcess(scenario="default", kubeconfig=folder / "kubeconfig") as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def sessions(fork_server: ForkServer, docs_cluster: SandboxProcess) -> Iterator[dict[str, Session]]:
    """The files' shell sessions; their `opsgraph` commands and Python blocks are forked from the suite's
    `fork_server` (tests/forkserver.py), which imports the project while the sandbox starts."""
    fork_server.wait_ready()
    opened: dict[str, Session] = {}
    try:
        yield opened
    finally:
        with ThreadPoolExecutor(max(1, len(opened))) as pool:  # each waits for its servers to stop
            list(pool.map(Session.close, opened.values()))
        if opened:
            ran = sum(len(s.ran) for s in opened.values())
            skipped = [line for s in opened.values() for line in s.skipped]
            print(f"\ndocs: {ran} blocks and commands run, {len(skipped)} skipped")
            for line in skipped:
                print(f"  skipped {line}")
            slowest = sorted((t for s in opened.values() for t in s.timings), reverse=True)[:12]
            print("slowest: " + "".join(f"\n  {seconds:5.1f} s  {what[:110]}" for seconds, what in slowest))


def _session(
    sessions: dict[str, Session], file: str, cluster: SandboxProcess, root: Path, warm: ForkServer
) -> Session:
    if file not in sessions:
        folder = root / file.replace("/", "_")
        sessions[file] = Session(
            file, folder, cluster.kubeconfig, cluster.url, skip=_skip_reason, bin=warm.bin
        )
    return sessions[file]


@pytest.mark.parametrize("block", ALL, ids=[b.id for b in ALL])
def test_block_runs(
    block: Block,
    sessions: dict[str, Session],
    docs_cluster: SandboxProcess,
    fork_server: ForkServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.getbasetemp() / "docs-sessions"
    session = _session(sessions, block.file, docs_cluster, root, fork_server)
    session.run_through(block, BLOCKS[block.file])


def test_every_skip_entry_still_matches_a_block() -> None:
    texts = [
        (b.file, text)
        for b in ALL
        for text in ([c.text for c in shell_commands(b)] if b.lang in ("console", "sh", "bash") else [b.code])
    ]
    for file, needle in SKIP:
        assert any(f == file and needle in t for f, t in texts), (
            f"SKIP entry {(file, needle)} matches nothing"
        )


def test_a_block_without_a_language_is_an_error(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("intro\n\n```\nsome tree\n```\n")
    [block] = blocks(doc)
    session = Session("x.md", tmp_path / "session", tmp_path / "kubeconfig", "http://127.0.0.1:9")
    try:
        with pytest.raises(BlockError, match="give it one of"):
            session.run_through(block, [block])
    finally:
        session.close()
