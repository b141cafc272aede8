"""The Python example in docs/cost.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "cost.md"


def test_python_snippet_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks, "docs/cost.md lost its Python example"
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)
    plan = namespace["plan"]
    assert getattr(plan, "hourly_cost", 0) > 0
