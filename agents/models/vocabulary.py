"""The command vocabulary the offline model understands, parsed into the tool calls a real model would make.

Each phrase maps to one domain agent and one tool call. A request may chain phrases with "and", "then"
or ";", which makes it a cross-domain request handled by several agents in sequence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["AGENTS", "VOCABULARY", "AgentName", "Intent", "help_text", "parse_intents"]

AgentName = Literal["kubernetes", "iam", "cost"]
AGENTS: tuple[AgentName, ...] = ("kubernetes", "iam", "cost")


@dataclass(frozen=True)
class Intent:
    """One understood phrase: which agent handles it and the tool call it becomes."""

    agent: AgentName
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    phrase: str = ""


@dataclass(frozen=True)
class _Phrase:
    example: str
    agent: AgentName
    tool: str
    pattern: re.Pattern[str]
    args: Callable[[re.Match[str]], dict[str, Any]]


_NS = r"(?:\s+(?:in|in namespace|-n)\s+(?P<ns>[a-z0-9][-a-z0-9]*))?"
_FILE = r"(?P<{}>[^\s;,]+)"


def _p(regex: str) -> re.Pattern[str]:
    return re.compile(r"^\s*(?:please\s+)?" + regex + r"\s*[.?!]?\s*$", re.IGNORECASE)


def _ns(m: re.Match[str]) -> str:
    return m.group("ns") or "default"


VOCABULARY: tuple[_Phrase, ...] = (
    _Phrase(
        "list pods in payments",
        "kubernetes",
        "list_pods",
        _p(r"(?:list|show|get)\s+(?:all\s+)?(?:the\s+)?pods" + _NS),
        lambda m: {"namespace": _ns(m)},
    ),
    _Phrase(
        "why is pod web-1 failing",
        "kubernetes",
        "diagnose_pod",
        _p(
            r"(?:why\s+is\s+(?:the\s+)?pod\s+(?P<name>[a-z0-9][-.a-z0-9]*)\s+(?:failing|crashing|pending|broken|not\s+running)"
            r"|(?:diagnose|debug|troubleshoot)\s+(?:the\s+)?pod\s+(?P<name2>[a-z0-9][-.a-z0-9]*))" + _NS
        ),
        lambda m: {"name": m.group("name") or m.group("name2"), "namespace": _ns(m)},
    ),
    _Phrase(
        "what is wrong with my cluster",
        "kubernetes",
        "diagnose_cluster",
        _p(
            r"(?:what(?:'s|\s+is)\s+(?:wrong|broken|failing)\s+(?:with|in)\s+(?:my|the|this)\s+cluster"
            r"|(?:diagnose|triage|check)\s+(?:my|the|this)\s+cluster)"
        ),
        lambda m: {},
    ),
    _Phrase(
        "what is wrong with namespace shop",
        "kubernetes",
        "diagnose_namespace",
        _p(
            r"(?:what(?:'s|\s+is)\s+(?:wrong|broken|failing)\s+(?:with\s+(?:my\s+|the\s+)?namespace|in(?:\s+namespace)?)\s+"
            r"|(?:diagnose|triage|check)\s+(?:the\s+)?namespace\s+)(?P<name>[a-z0-9][-a-z0-9]*)"
        ),
        lambda m: {"namespace": m.group("name")},
    ),
    _Phrase(
        "diagnose deployment web in shop",
        "kubernetes",
        "diagnose_deployment",
        _p(
            r"(?:diagnose|debug|troubleshoot)\s+(?:the\s+)?(?:deploy|deployment)(?:/|\s+)(?P<name>[a-z0-9][-.a-z0-9]*)"
            + _NS
        ),
        lambda m: {"name": m.group("name"), "namespace": _ns(m)},
    ),
    _Phrase(
        "diagnose service web in shop",
        "kubernetes",
        "diagnose_service",
        _p(
            r"(?:(?:diagnose|debug|troubleshoot)\s+(?:the\s+)?(?:svc|service)(?:/|\s+)(?P<name>[a-z0-9][-.a-z0-9]*)"
            r"|why\s+is\s+(?:the\s+)?service\s+(?P<name2>[a-z0-9][-.a-z0-9]*)\s+(?:not\s+(?:working|reachable|answering)|down|unreachable))"
            + _NS
        ),
        lambda m: {"name": m.group("name") or m.group("name2"), "namespace": _ns(m)},
    ),
    _Phrase(
        "scale deploy web to 3 in shop",
        "kubernetes",
        "scale_deployment",
        _p(
            r"scale\s+(?:the\s+)?(?:deploy|deployment|deployments)(?:/|\s+)(?P<name>[a-z0-9][-.a-z0-9]*)"
            r"\s+to\s+(?P<n>\d{1,6})(?:\s+replicas?)?" + _NS
        ),
        lambda m: {"name": m.group("name"), "replicas": int(m.group("n")), "namespace": _ns(m)},
    ),
    _Phrase(
        "compare policy a.json with b.json",
        "iam",
        "compare_policies",
        _p(
            r"compare\s+(?:the\s+)?polic(?:y|ies)\s+"
            + _FILE.format("a")
            + r"\s+(?:with|and|to|against)\s+"
            + _FILE.format("b")
        ),
        lambda m: {"policy_a": m.group("a"), "policy_b": m.group("b")},
    ),
    _Phrase(
        "repair policy p.json with requests r.json",
        "iam",
        "repair_policy",
        _p(
            r"(?:repair|fix)\s+(?:the\s+)?policy\s+"
            + _FILE.format("p")
            + r"\s+(?:with|using|against)\s+(?:the\s+)?(?:requests|spec)\s+"
            + _FILE.format("r")
        ),
        lambda m: {"policy": m.group("p"), "spec": m.group("r")},
    ),
    _Phrase(
        "is s3:GetObject on arn:aws:s3:::b/k allowed by policy p.json",
        "iam",
        "check_request",
        _p(
            r"(?:is|are)\s+(?P<action>[a-z0-9-]+:[a-z0-9*?]+)(?:\s+on\s+(?P<resource>[^\s;,]+))?\s+"
            r"(?:allowed|permitted|granted)\s+by\s+(?:the\s+)?policy\s+(?P<p>[^\s;,?]+)"
        ),
        lambda m: {
            "policy": m.group("p"),
            "request": json.dumps({"action": m.group("action"), "resource": m.group("resource") or "*"}),
        },
    ),
    _Phrase(
        "lint policy p.json",
        "iam",
        "validate_policy",
        _p(r"(?:lint|validate)\s+(?:the\s+)?policy\s+" + _FILE.format("p")),
        lambda m: {"policy": m.group("p")},
    ),
    _Phrase(
        "check that new.json grants no new access over old.json",
        "iam",
        "check_no_new_access",
        _p(
            r"check\s+(?:that\s+)?(?:the\s+)?(?:policy\s+)?"
            + _FILE.format("new")
            + r"\s+grants\s+no\s+new\s+access\s+(?:over|beyond|against|compared\s+(?:to|with))\s+"
            + _FILE.format("old")
        ),
        lambda m: {"policy": m.group("new"), "existing": m.group("old")},
    ),
    _Phrase(
        "check that policy p.json does not grant s3:DeleteBucket",
        "iam",
        "check_access_not_granted",
        _p(
            r"check\s+(?:that\s+)?(?:the\s+)?(?:policy\s+)?"
            + _FILE.format("p")
            + r"\s+(?:does\s+not|doesn't|never)\s+(?:grant|allow)s?\s+"
            r"(?P<actions>[a-z0-9-]+:[a-z0-9*?]+(?:\s*,\s*[a-z0-9-]+:[a-z0-9*?]+)*)(?:\s+on\s+(?P<resource>[^\s;,]+))?"
        ),
        lambda m: {
            "policy": m.group("p"),
            "actions": [a.strip() for a in m.group("actions").split(",")],
            "resources": [m.group("resource")] if m.group("resource") else [],
        },
    ),
    _Phrase(
        "check that policy p.json is not public",
        "iam",
        "check_no_public_access",
        _p(
            r"check\s+(?:that\s+)?(?:the\s+)?(?:policy\s+)?"
            + _FILE.format("p")
            + r"\s+(?:is\s+not|isn't)\s+public(?:\s+as\s+(?:an?\s+)?(?P<type>AWS::[A-Za-z0-9]+::[A-Za-z0-9]+))?"
        ),
        lambda m: {"policy": m.group("p")} | ({"resource_type": m.group("type")} if m.group("type") else {}),
    ),
    _Phrase(
        "explain policy p.json",
        "iam",
        "explain_policy",
        _p(r"(?:explain|summari[sz]e|describe)\s+(?:the\s+)?policy\s+" + _FILE.format("p")),
        lambda m: {"policy": m.group("p")},
    ),
    _Phrase(
        "optimize cost",
        "cost",
        "optimize_cost",
        _p(r"optimi[sz]e\s+(?:the\s+)?(?:cluster\s+)?costs?" + _NS),
        lambda m: {"namespace": m.group("ns")},
    ),
)

_SPLIT = re.compile(
    r"\s*(?:;|,?\s+and\s+then\s+|,?\s+then\s+|,?\s+and\s+also\s+|,?\s+and\s+)\s*", re.IGNORECASE
)


def _parse_one(text: str) -> Intent | None:
    for phrase in VOCABULARY:
        m = phrase.pattern.match(text)
        if m:
            return Intent(phrase.agent, phrase.tool, phrase.args(m), text.strip())
    return None


def parse_intents(text: str) -> list[Intent]:
    """The intents in `text`, in order; empty when any part is outside the vocabulary."""
    whole = _parse_one(text)
    if whole is not None:
        return [whole]
    parts = [p for p in _SPLIT.split(text) if p.strip()]
    intents = [_parse_one(p) for p in parts]
    if len(parts) < 2 or any(i is None for i in intents):
        return []
    return [i for i in intents if i is not None]


def help_text(text: str) -> str:
    """The answer to a request outside the vocabulary: what is understood and how to get a real model."""
    examples = "\n".join(f"  - {p.example}" for p in VOCABULARY)
    return (
        f"The offline model did not understand {text.strip()!r}. It understands these commands "
        f"(combine them with 'and' / 'then' for a cross-domain request):\n{examples}\n"
        "For free-form requests configure a real model: set OPENAI_API_KEY (and optionally "
        "OPSGRAPH_MODEL=openai:gpt-4o-mini), or OPSGRAPH_BASE_URL plus OPSGRAPH_MODEL for an "
        "OpenAI-compatible server such as vLLM, Ollama or LM Studio."
    )
