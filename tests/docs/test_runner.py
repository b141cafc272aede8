"""The docs runner itself: how it reads blocks, groups shell commands, supplies files, and judges exits."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.blocks import blocks, shell_commands
from tests.docs.runner import BlockError, Session

DOC = """# A page

`policy.json`:

```json
{"Version": "2012-10-17", "Statement": []}
```

```console
$ test -f policy.json && echo there
there
$ sh -c 'echo "FAIL: it failed"; exit 1'
FAIL: it failed
$ export GREETING=hello
```

```sh
for n in 1 2; do
  echo "$GREETING $n" >> out.txt
done
test "$(wc -l < out.txt)" -eq 2
```

```console
$ sh -c 'echo "something else"; exit 1'
FAIL: what the page shows
```
"""


@pytest.fixture
def page(tmp_path: Path) -> Path:
    doc = tmp_path / "page.md"
    doc.write_text(DOC)
    return doc


def test_blocks_their_files_and_commands(page: Path) -> None:
    found = blocks(page)
    assert [(b.lang, b.names) for b in found] == [
        ("json", "policy.json"),
        ("console", ""),
        ("sh", ""),
        ("console", ""),
    ]
    console = shell_commands(found[1])
    assert [c.text for c in console] == [
        "test -f policy.json && echo there",
        "sh -c 'echo \"FAIL: it failed\"; exit 1'",
        "export GREETING=hello",
    ]
    assert console[1].shown == "FAIL: it failed\n"
    [loop, check] = shell_commands(found[2])
    assert check.text.startswith("test ")
    assert loop.text.startswith("for n in 1 2; do") and loop.text.endswith("done")


def test_a_session_runs_in_order_and_a_failure_must_be_the_documented_one(page: Path, tmp_path: Path) -> None:
    session = Session("page.md", tmp_path / "session", tmp_path / "kubeconfig", "http://127.0.0.1:9")
    found = blocks(page)
    try:
        session.run_through(found[2], found)  # the file, the shown failure, the export, then the loop
        assert (session.work / "out.txt").read_text() == "hello 1\nhello 2\n"
        with pytest.raises(BlockError, match="exited 1"):  # fails with another first line than shown
            session.run_through(found[3], found)
    finally:
        session.close()
