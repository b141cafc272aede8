"""Benchmark: the IAM commands on large and adversarial input, as a user runs them.

Usage: python bench/iam_scale.py [--statements 2000] [--only lint,check,diff,explain,glob,values]

- `lint`, `check`, `diff`, `explain` of a generated 2,000-statement policy (seeded: the same policy every
  run), each `opsgraph iam ...` run as its own process, wall time including the interpreter's start
  (printed once, so it can be subtracted). `diff` also runs with `--timeout-ms 1`, which must answer
  `unknown` within a second.
- `glob`: one `StringLike` / resource match of a value against `*a*a*a*a*a*a*a*b` (no match), in process,
  for value lengths 20 ... 10,000; each length in a child process with a 30 s limit, so a backtracking
  matcher shows up as a timeout instead of a hang.
- `values`: `diff` of two policies whose condition lists 100,000 values, with `--timeout-ms 20000`.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["big_policy", "main"]

_ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:Get*",
    "ec2:Describe*",
    "ec2:StartInstances",
    "ec2:StopInstances",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "sqs:SendMessage",
    "sns:Publish",
    "lambda:InvokeFunction",
    "logs:PutLogEvents",
    "kms:Decrypt",
]
_KEYS = [
    ("StringEquals", "aws:RequestedRegion", ["us-east-1", "eu-west-1"]),
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8"]),
    ("Bool", "aws:SecureTransport", ["true"]),
    ("StringLike", "s3:prefix", ["home/${aws:username}/*"]),
    ("NumericLessThan", "aws:MultiFactorAuthAge", ["3600"]),
]


def _resource(action: str, rng: random.Random, i: int) -> str:
    service = action.split(":", 1)[0]
    if service == "s3":
        return f"arn:aws:s3:::bucket-{rng.randrange(200)}/team-{i % 37}/*"
    if service == "ec2":
        return f"arn:aws:ec2:us-east-1:123456789012:instance/i-{rng.randrange(10**6):06x}"
    if service == "dynamodb":
        return f"arn:aws:dynamodb:us-east-1:123456789012:table/t{rng.randrange(300)}"
    return f"arn:aws:{service}:us-east-1:123456789012:res-{rng.randrange(500)}"


def big_policy(n: int, seed: int = 1) -> dict[str, Any]:
    """A policy of `n` statements: mostly Allows of a few actions on specific resources, some Denies,
    a quarter with conditions."""
    rng = random.Random(seed)
    statements = []
    for i in range(n):
        actions = rng.sample(_ACTIONS, rng.randint(1, 3))
        st: dict[str, Any] = {
            "Sid": f"S{i}",
            "Effect": "Deny" if rng.random() < 0.1 else "Allow",
            "Action": actions,
            "Resource": [_resource(a, rng, i) for a in actions],
        }
        if rng.random() < 0.25:
            op, key, values = rng.choice(_KEYS)
            st["Condition"] = {op: {key: values}}
        statements.append(st)
    return {"Version": "2012-10-17", "Statement": statements}


def _requests(policy: dict[str, Any], n: int) -> list[dict[str, Any]]:
    rng = random.Random(2)
    out = []
    for st in rng.sample(policy["Statement"], n):
        action = st["Action"][0].replace("*", "Instances")
        resource = st["Resource"][0].replace("*", "file.txt")
        out.append({"action": action, "resource": resource, "context": {"aws:RequestedRegion": "us-east-1"}})
    return out


def _run(args: list[str], limit: float = 300.0) -> tuple[float, int, str]:
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "opsgraph", *args], capture_output=True, text=True, timeout=limit
        )
    except subprocess.TimeoutExpired:
        return time.perf_counter() - start, -1, f"(killed after {limit:.0f} s)"
    tail = (done.stdout.strip().splitlines() or [""])[-1][:160]
    return time.perf_counter() - start, done.returncode, tail


def _commands(tmp: Path, n: int, only: set[str]) -> None:
    policy = big_policy(n)
    path = tmp / "big.json"
    path.write_text(json.dumps(policy))
    wider = json.loads(json.dumps(policy))
    wider["Statement"][n // 2]["Resource"] = "*"
    other = tmp / "wider.json"
    other.write_text(json.dumps(wider))
    requests = tmp / "requests.json"
    requests.write_text(json.dumps(_requests(policy, min(200, n))))
    if only & {"lint", "check", "diff", "explain"}:
        took, _, _ = _run(["iam", "--help"])
        print(f"interpreter start + `opsgraph iam --help`: {took:.2f} s")
    runs = {
        "lint": [["iam", "lint", str(path)]],
        "check": [["iam", "check", str(path), "--request", str(requests), "--json"]],
        "diff": [
            ["iam", "diff", str(path), str(other)],
            ["iam", "diff", str(path), str(other), "--timeout-ms", "1"],
        ],
        "explain": [["iam", "explain", str(path)]],
    }
    for name, commands in runs.items():
        if name not in only:
            continue
        for args in commands:
            took, code, tail = _run(args)
            print(f"{n}-statement {' '.join(args[1:2] + args[3:])}: {took:.2f} s (exit {code}): {tail}")


_GLOB_CHILD = """
import sys, time
from verifiers.iam.globs import pattern_glob, matches
n = int(sys.argv[1])
value = "a" * n
cond = pattern_glob("*a*a*a*a*a*a*a*b")
arn = pattern_glob("arn:aws:s3:::*a*a*a*a*a*a*a*b", arn=True)
start = time.perf_counter()
hit = matches(cond, value) or matches(arn, "arn:aws:s3:::" + value)
print(f"{(time.perf_counter() - start) * 1000:.3f} {hit}")
"""


def _globs() -> None:
    for n in (20, 24, 28, 32, 160, 400, 10_000):
        try:
            done = subprocess.run(
                [sys.executable, "-c", _GLOB_CHILD, str(n)], capture_output=True, text=True, timeout=30
            )
            ms, hit = done.stdout.split()
            print(
                f"glob: {n:>6}-char value vs *a*a*a*a*a*a*a*b (StringLike and ARN): {float(ms):.3f} ms, match={hit}"
            )
        except subprocess.TimeoutExpired:
            print(f"glob: {n:>6}-char value: no answer in 30 s (killed)")


def _values(tmp: Path) -> None:
    values = [f"value-{i}" for i in range(100_000)]
    a = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": values}},
            }
        ],
    }
    b = json.loads(json.dumps(a))
    b["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalTag/team"] = values[:-1]
    pa, pb = tmp / "values_a.json", tmp / "values_b.json"
    pa.write_text(json.dumps(a))
    pb.write_text(json.dumps(b))
    took, code, tail = _run(["iam", "diff", str(pa), str(pb), "--timeout-ms", "20000"], limit=400)
    print(f"100,000-value condition, diff --timeout-ms 20000: {took:.2f} s (exit {code}): {tail}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=2000)
    parser.add_argument("--only", default="lint,check,diff,explain,glob,values")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        _commands(Path(tmp), args.statements, only)
        if "glob" in only:
            _globs()
        if "values" in only:
            _values(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
