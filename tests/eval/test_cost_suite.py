"""`cost` on the small SpotKube instances: valid plans, a proven bound, cost no worse than the baseline.

The run goes through the CLI in a fresh process, as users run it: the suite forks its workers, and a
fork taken inside the test process (where other tests have started OR-Tools' thread pools and servers)
can inherit a held lock and hang.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_spotkube_instances(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "opsgraph", "eval", "run", "cost", "--dataset", "spotkube", "--workers", "2",
         "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=600, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in results) == ["spotkube/100", "spotkube/3", "spotkube/30"]
    for r in results:
        assert r["status"] == "pass", r
        m = r["metrics"]
        assert m["violations"] == 0
        assert m["lower_bound"] <= m["hourly_cost"] + 1e-9
        assert m["hourly_cost"] <= m["baseline_cost"] + 1e-9
    assert json.loads((out / "summary.json").read_text())["metrics"]["violations"] == 0
