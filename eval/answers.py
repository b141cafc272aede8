"""Reading what a person was shown: the yes/no of an answer, the policy in it, and tool JSON posing as one.

Suites grade the *truth* with engines (the Z3 engine for IAM, the cluster's objects for Kubernetes); these
helpers only read which claim an answer makes, so it can be set against that truth.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from typing import Any, Literal

__all__ = ["Verdict", "is_tool_json", "policies_in", "verdict"]

Verdict = Literal["allow", "deny", "unclear"]

_NEGATIVE = re.compile(
    r"\bno\b|\bnot\s+(?:be\s+)?(?:allowed|permitted|granted|able)\b|\b(?:is|are|was)n'?t\s+(?:allowed|permitted)\b"
    r"|\b(?:does|do|would|will)(?:n'?t|\s+not)\s+(?:allow|permit|grant|let)\b|\bcannot\b|\bcan'?t\b"
    r"|\bden(?:y|ies|ied)\b|(?:implicitly|explicitly)\s*denied\b|\bforbidden\b",
    re.IGNORECASE,
)
_POSITIVE = re.compile(
    r"\byes\b|\ballow(?:s|ed)?\b|\bpermit(?:s|ted)?\b|\bgrant(?:s|ed)?\b|\bcan\b|\bmay\b|\bis\s+able\b",
    re.IGNORECASE,
)
_FALLBACK = re.compile(r"^\s*The model gave no answer of its own; here is what the tools returned\.\s*")
_DECISION = re.compile(r'"decision":\s*"(Allowed|ImplicitlyDenied|ExplicitlyDenied)"')
_NOTHING = (
    "The model returned no answer and called no tool",
    "I could not tell which of my agents",
    "The offline model did not understand",
)


def verdict(answer: str, question: str = "") -> Verdict:
    """Whether `answer` says the request is allowed or denied: the first yes-or-no marker decides (a
    negative one where both start at the same place, as in "cannot"); none at all is `unclear`.

    The answer opsgraph writes from tool results when a model gives none is read after its preamble (the
    engine's `"decision"` then decides, and a tool's error says nothing); a copy of the `question` in it
    is not a claim."""
    text = _FALLBACK.sub("", answer)
    if text != answer:  # tool results, not a claim: only an engine decision among them says something
        decision = _DECISION.search(text)
        return "unclear" if decision is None else "allow" if decision.group(1) == "Allowed" else "deny"
    if question.strip():
        text = text.replace(question.strip(), " ")
    if not text.strip() or text.lstrip().startswith(_NOTHING):
        return "unclear"
    negative, positive = _NEGATIVE.search(text), _POSITIVE.search(text)
    if negative is None and positive is None:
        return "unclear"
    if positive is None or (negative is not None and negative.start() <= positive.start()):
        return "deny"
    return "allow"


def _json_values(text: str) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    i = text.find("{")
    while 0 <= i < len(text):
        try:
            value, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i = text.find("{", i + 1)
            continue
        yield value
        i = text.find("{", end)


def _with_statements(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if "Statement" in value:
            yield value
            return
        for inner in value.values():
            yield from _with_statements(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _with_statements(inner)


def policies_in(text: str) -> list[dict[str, Any]]:
    """Every policy document (a JSON object with `Statement`) written in `text`, nested ones included, in
    order."""
    return [doc for value in _json_values(text) for doc in _with_statements(value)]


def is_tool_json(answer: str, tools: Collection[str]) -> bool:
    """True when `answer` is a tool call or a tool's raw JSON result shown as the answer: nothing but JSON
    (in a code fence or not), or a call of one of `tools` written as text."""
    from agents.middleware.answers import is_raw_json
    from agents.middleware.text_calls import find_text_calls

    return bool(answer.strip()) and (is_raw_json(answer) or bool(find_text_calls(answer, tools)))
