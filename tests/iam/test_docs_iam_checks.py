"""docs/iam-checks.md runs as written: its console session prints what the doc shows (same exit codes
as a CI gate reads), its Python block runs, and each pre-commit hook's command passes a good policy and
fails a bad one."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from opsgraph.cli import app as opsgraph_app

DOC = (Path(__file__).resolve().parents[2] / "docs" / "iam-checks.md").read_text()
RUN = CliRunner().invoke


def test_the_console_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, body in re.findall(r"`([\w.]+\.json)`:\n\n```json\n(.*?)```", DOC, re.DOTALL):
        (tmp_path / name).write_text(body)
    monkeypatch.chdir(tmp_path)
    (session,) = re.findall(r"```console\n(.*?)```", DOC, re.DOTALL)
    commands = re.split(r"^\$ opsgraph ", session, flags=re.MULTILINE)[1:]
    assert len(commands) == 3
    for block in commands:
        command, _, shown = block.partition("\n")
        result = RUN(opsgraph_app, shlex.split(command))
        assert result.output == shown, command
        assert result.exit_code == (0 if shown.startswith("PASS") else 1)


def test_the_python_block() -> None:
    (code,) = re.findall(r"```python\n(.*?)```", DOC, re.DOTALL)
    exec(compile(code, "docs/iam-checks.md", "exec"), {})


def test_the_pre_commit_hooks_pass_good_policies_and_stop_bad_ones(tmp_path: Path) -> None:
    (config,) = re.findall(r"```yaml\n(.*?)```", DOC, re.DOTALL)
    hooks = {h["id"]: h for repo in yaml.safe_load(config)["repos"] for h in repo["hooks"]}
    good_bucket = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}'
    bad_bucket = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}'
    good = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}'
    bad = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}'
    cases = {
        "iam-lint": (
            good,
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]}',
        ),
        "iam-buckets-not-public": (good_bucket, bad_bucket),
        "iam-no-admin-actions": (good, bad),
    }
    assert set(cases) == set(hooks)
    for hook, (passes, fails) in cases.items():
        (tmp_path / "ok.json").write_text(passes)
        (tmp_path / "no.json").write_text(fails)
        words = shlex.split(hooks[hook]["entry"])
        assert words[0] == "opsgraph"
        assert RUN(opsgraph_app, [*words[1:], str(tmp_path / "ok.json")]).exit_code == 0, hook
        assert (
            RUN(opsgraph_app, [*words[1:], str(tmp_path / "ok.json"), str(tmp_path / "no.json")]).exit_code
            == 1
        ), hook
