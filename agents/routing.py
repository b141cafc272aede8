"""The supervisor's routing decision: which domain agents handle a request, in which order.

Routing is one short, constrained model call: the conversation's earlier turns in brief plus the request,
answered with a small JSON object (`RouteDecision`, `agents` first, `reply` capped) under a small token
limit, through JSON-schema output where the server supports it. Output that does not parse is sent back
once with the error; if it still fails, the request's own words decide (and the decision says so). A
decision for several agents is kept only when the request names several domains: small models list
extra agents "to be safe", which would run an agent that has nothing to do.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, Literal

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, PrivateAttr, ValidationError

from agents.conversation import current_request, prior_turns
from agents.errors import ModelOutputError
from agents.models.offline import ROUTE_TOOL_NAME
from agents.models.vocabulary import AgentName

__all__ = [
    "DOMAIN_TERMS",
    "ROUTER_PROMPT",
    "RouteDecision",
    "domains_named",
    "route_messages",
    "route_request",
]

log = logging.getLogger(__name__)

ROUTER_PROMPT = """You route requests for an infrastructure assistant to its agents:
- kubernetes: a Kubernetes cluster: pods, deployments, services, nodes, namespaces, logs, events, \
scaling, rollouts, RBAC.
- iam: AWS IAM policies: compare, explain, lint, repair or write a policy; is an action allowed.
- cost: cloud or cluster cost: right-sizing, node plans, spot instances, savings, prices.
Answer with JSON only: {"agents": [...], "reply": null}. Choose exactly one agent unless the request \
clearly asks for work in several of these domains; then list them in the order the request gives. \
If no agent fits (a greeting, a question about you), answer {"agents": [], "reply": "<one short sentence>"}."""

REPLY_MAX_CHARS = 2_000
"""Longest direct reply kept (a real model's is bounded by the router's token limit first)."""


def _terms(words: str) -> tuple[str, ...]:
    return tuple(w.replace("_", " ") for w in words.split())


DOMAIN_TERMS: dict[AgentName, tuple[str, ...]] = {
    "kubernetes": _terms(
        "kubernetes k8s kubectl pod deployment deploy replica statefulset daemonset service ingress namespace "
        "node container logs event rollout configmap secret hpa autoscal crashloop job cronjob pvc "
        "volume rbac serviceaccount helm image scale restart evict drain cordon taint"
    ),
    "iam": _terms(
        "iam policy policies aws arn s3 bucket permission allow deny principal role least_privilege "
        "least-privilege action statement sts kms access_analyzer boundary scp"
    ),
    "cost": _terms(
        "cost price pricing spend cheap expensive saving spot on-demand right-siz rightsiz budget bill "
        "node_plan instance_type reserved savings_plan karpenter dollar $ overprovision waste"
    ),
}
"""Words that name each domain. They decide only whether a request names several domains (and route a
request by themselves when the model's decision cannot be parsed twice); the model makes the choice."""

_NONWORD = re.compile(r"[^a-z0-9$\-]+")


class RouteDecision(BaseModel):
    """Which domain agents act on the request, in order; `reply` answers directly when none does."""

    agents: list[AgentName] = Field(
        default_factory=list, max_length=3, description="Agents to run, in order."
    )
    reply: str | None = Field(default=None, description="Short direct answer when no agent fits.")
    _source: Literal["model", "words"] = PrivateAttr(default="model")

    @property
    def source(self) -> Literal["model", "words"]:
        """`words` when the model's output could not be used and the request's words decided."""
        return self._source

    def decided_by(self, source: Literal["model", "words"]) -> RouteDecision:
        self._source = source
        return self


assert RouteDecision.__name__ == ROUTE_TOOL_NAME  # the offline model recognises the schema by this name


def domains_named(text: str) -> list[AgentName]:
    """The domains whose words appear in `text`, in the order they first appear."""
    lowered = f" {_NONWORD.sub(' ', text.lower())} "
    found: list[tuple[int, AgentName]] = []
    for agent, terms in DOMAIN_TERMS.items():
        hits = [lowered.find(f" {t}") for t in terms if f" {t}" in lowered]
        if hits:
            found.append((min(hits), agent))
    return [agent for _, agent in sorted(found)]


def _guard(decision: RouteDecision, text: str) -> RouteDecision:
    """Keep several agents only when the request names several domains (see the module docstring)."""
    unique: list[AgentName] = list(dict.fromkeys(decision.agents))
    if len(unique) > 1:
        named = domains_named(text)
        kept = [a for a in unique if a in named]
        unique = kept if len(kept) > 1 else [kept[0] if kept else unique[0]]
    reply = decision.reply if not unique else None
    if reply and len(reply) > REPLY_MAX_CHARS:
        reply = reply[: REPLY_MAX_CHARS - 1] + "…"
    return RouteDecision(agents=unique, reply=reply).decided_by(decision.source)


def _limited(model: BaseChatModel, max_tokens: int) -> BaseChatModel:
    """`model` for routing: a small token limit where it has one (the offline model has none), and no
    streaming (nobody reads the decision as it is written)."""
    update: dict[str, Any] = {"disable_streaming": True}
    for field in ("max_tokens", "max_completion_tokens", "num_predict"):
        if field in type(model).model_fields:
            update[field] = max_tokens
            break
    return model.model_copy(update=update)


def _parse(output: Any) -> tuple[RouteDecision | None, str]:
    if isinstance(output, RouteDecision):
        return output, ""
    if not isinstance(output, dict):
        return None, f"router returned {type(output).__name__}"
    parsed, error = output.get("parsed"), output.get("parsing_error")
    if isinstance(parsed, RouteDecision):
        return parsed, ""
    if isinstance(parsed, dict):
        try:
            return RouteDecision.model_validate(parsed), ""
        except ValidationError as exc:
            return None, f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
    raw = output.get("raw")
    text = raw.text if isinstance(raw, BaseMessage) else ""
    return None, str(error or f"no JSON decision in {text[:120]!r}")


def _by_words(text: str) -> RouteDecision:
    named = domains_named(text)
    if named:
        return RouteDecision(agents=named).decided_by("words")
    return RouteDecision(
        reply="I could not tell which of my agents (Kubernetes, IAM, cost) this request is for; "
        "please say a little more."
    ).decided_by("words")


def route_messages(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    *,
    max_tokens: int = 160,
    retries: int = 1,
    where: str = "",
) -> RouteDecision:
    """Ask `model` to route the conversation's latest request (see the module docstring)."""
    request = current_request(messages)
    text = request.text if request is not None else ""
    structured = _limited(model, max_tokens).with_structured_output(RouteDecision, include_raw=True)
    history: list[AnyMessage] = [*prior_turns(messages, max_turns=2), HumanMessage(text)]
    problem = ""
    for _ in range(retries + 1):
        try:
            output = structured.invoke([SystemMessage(ROUTER_PROMPT), *history])
        except openai.LengthFinishReasonError:
            output, problem = None, f"the decision ran past {max_tokens} tokens"
        except ValidationError as exc:  # the OpenAI client parses JSON-schema output itself
            output, problem = None, f"not valid JSON for the schema: {exc.errors()[0]['msg']}"
        else:
            decision, problem = _parse(output)
            if decision is not None:
                return _guard(decision, text)
        raw = output.get("raw") if isinstance(output, dict) else None
        written = raw.text if isinstance(raw, BaseMessage) and raw.text else "(no usable output)"
        history = [
            *history,
            AIMessage(written[:500]),
            HumanMessage(
                f'That was not a valid decision ({problem}). Answer with JSON only: {{"agents": [...]}}'
            ),
        ]
    if not text.strip():
        raise ModelOutputError(f"the router {where}: no request to route")
    log.warning(
        "routing: the model %s gave no usable decision (%s); routing by the request's words", where, problem
    )
    return _guard(_by_words(text), text)


def route_request(model: BaseChatModel, text: str, **kwargs: Any) -> RouteDecision:
    """Route a single request text (the eval suite's entry point: the same path as the product's)."""
    return route_messages(model, [HumanMessage(text)], **kwargs)
