"""Wildcard matching without backtracking: the same answers as a plain regex on short values, and an
answer (not a hang) on the adversarial ones that made the backtracking matcher run for minutes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import PolicySet, Request, parse_policy
from tests.iam.builders import policy, when
from verifiers.iam import evaluate
from verifiers.iam.globs import ANY, CharSet, Glob, _automaton_matches, matches, pattern_glob

ADVERSARIAL = "*a*a*a*a*a*a*a*b"


def _backtracking(glob: Glob) -> re.Pattern[str]:
    def one(cs: CharSet) -> str:
        if cs == ANY:
            return "."
        body = "".join(re.escape(c) for c in sorted(cs.chars))
        return f"[{'^' if cs.negated else ''}{body}]"

    return re.compile("".join(one(cs) + ("*" if star else "") for star, cs in glob.tokens), re.DOTALL)


patterns = st.text(alphabet="ab:/*?", max_size=12)
values = st.text(alphabet="ab:/", max_size=14)


@settings(max_examples=600, deadline=None)
@given(patterns, values, st.booleans(), st.booleans())
def test_same_answers_as_a_backtracking_regex(pattern: str, value: str, arn: bool, ignore_case: bool) -> None:
    glob = pattern_glob(("arn:" if arn else "") + pattern, arn=arn, ignore_case=ignore_case)
    text = ("arn:" if arn else "") + value
    expected = not glob.never and _backtracking(glob).fullmatch(text) is not None
    assert matches(glob, text) == expected
    if not glob.never:
        assert _automaton_matches(glob, text) == expected


@pytest.mark.timeout(60)
def test_adversarial_patterns_answer_on_long_values() -> None:
    # Issue 14: 160 characters took 22 s and 400 ran past 120 s with the backtracking matcher.
    value = "a" * 10_000
    assert not matches(pattern_glob(ADVERSARIAL), value)
    assert matches(pattern_glob(ADVERSARIAL), value + "b")
    arn = pattern_glob("arn:aws:s3:::" + ADVERSARIAL, arn=True)
    assert not matches(arn, "arn:aws:s3:::" + value)
    segments = pattern_glob("arn:aws:*a*a*a*a*b:*:*:x", arn=True)
    assert not matches(segments, "arn:aws:" + value + ":r:1:x")
    resource_policy = policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + ADVERSARIAL}
    )
    assert not evaluate(
        resource_policy, Request(action="s3:GetObject", resource="arn:aws:s3:::" + value)
    ).allowed
    condition = when("StringLike", "aws:UserAgent", ADVERSARIAL)
    assert not evaluate(condition, Request(action="s3:GetObject", context={"aws:UserAgent": value})).allowed
    trust = parse_policy(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:" + ADVERSARIAL}},
                }
            ]
        }
    )
    request = Request(action="sns:Publish", context={"aws:SourceArn": "arn:aws:sns:r:1:" + value})
    assert not evaluate(PolicySet(resource=(trust,)), request).allowed
