"""Bad input for `--backend ray`: no Ray installed, an address where nothing listens, a malformed address.
One clear line each, before any file of the run is touched (so a run's finished cases are kept)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.cli import app
from tests.eval.ray_head import free_port

ROW = '{"suite": "routing", "id": "r-001", "status": "pass", "duration_s": 0.1}\n'


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["eval", "run", "routing", "--quiet", *args])
    return result.exit_code, result.output


def _kept_run(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.jsonl").write_text(ROW)
    return out


def test_without_ray_installed_the_run_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as it does where Ray is absent
    out = _kept_run(tmp_path)
    code, output = _run("--backend", "ray", "--out", str(out))
    assert code == 1
    assert output.strip().splitlines() == [
        "error: --backend ray needs Ray, which is not installed here: pip install 'opsgraph[ray]'"
    ]
    assert (out / "results.jsonl").read_text() == ROW, "a fresh run that cannot start deletes nothing"


def test_an_unreachable_cluster_is_one_line_and_finished_cases_are_kept(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the `ray` extra is not installed (pip install 'opsgraph[ray]')")
    out = _kept_run(tmp_path)
    address = f"ray://127.0.0.1:{free_port()}"  # nothing listens there
    code, output = _run("--backend", "ray", "--address", address, "--out", str(out), "--resume")
    assert code == 1
    assert output.strip().splitlines() == [
        f"error: cannot reach the Ray cluster at {address}: Connection refused "
        "(is the head running, and its client port forwarded?)"
    ]
    assert (out / "results.jsonl").read_text() == ROW


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--backend", "ray", "--address", "ray://no-port"],
            "--address ray://no-port: expected ray://HOST:PORT",
        ),
        (["--address", "ray://127.0.0.1:10001"], "--address names a Ray cluster: use it with --backend ray"),
    ],
)
def test_a_malformed_address_is_named(args: list[str], message: str, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the `ray` extra is not installed (pip install 'opsgraph[ray]')")
    code, output = _run(*args, "--out", str(tmp_path / "out"))
    assert code == 1
    assert output.strip().startswith(f"error: {message}"), output
    assert len(output.strip().splitlines()) == 1
