"""The supervisor's routing decision: which domain agents handle a request, in which order.

Routing is one short, constrained model call: the conversation's earlier turns in brief plus the request,
answered with a small JSON object (`RouteDecision`, `agents` first, `reply` capped) under a small token
limit, through JSON-schema output where the server supports it. Output that does not parse is sent back
once with the error; if it still fails, the request's own words decide (and the decision says so).

The decision then meets the request's words (`domains_asked`: the domain each of its clauses names). Small
models list extra agents "to be safe", which would run an agent that has nothing to do, and, as often,
pick one agent for a request that asks for two things ("scale web to 10, and what will it cost?"). So a
decision for several agents stands only where the request asks for work in several domains, clause by
clause, and a one-agent decision is widened to the domains the request's clauses ask for when the chosen
agent is one of them. A decision for no agent (a greeting) stands.
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
    "domains_asked",
    "domains_named",
    "route_messages",
    "route_request",
]

log = logging.getLogger(__name__)

ROUTER_PROMPT = """You route requests for an infrastructure assistant to its agents; the agents do the work and answer.
- kubernetes: work in a Kubernetes cluster: list, show, describe, diagnose, scale, restart, create or delete \
pods, deployments, services, nodes, namespaces; logs, events, rollouts, RBAC.
- iam: AWS IAM policies: compare, explain, lint, repair or write a policy; whether an action is allowed.
- cost: what cloud or cluster resources cost: prices, right-sizing, node plans, spot instances, savings. \
A question about what pods, nodes or deployments cost, or how to right-size them, is for cost alone.
Answer with JSON only: {"agents": [...], "reply": null}. Choose exactly one agent unless the request asks \
for work in several domains (for example a change in the cluster and what it costs); then list them in the \
order the request gives. Do not answer the request yourself: "reply" is null whenever you choose an agent. \
When no agent fits (a greeting, small talk, a question about you, anything else), choose none and write \
one short sentence in "reply".
Examples:
restart the deployment api in namespace web -> {"agents": ["kubernetes"], "reply": null}
does policy team.json allow s3:PutObject on the logs bucket? -> {"agents": ["iam"], "reply": null}
what would spot instances save on the batch nodes? -> {"agents": ["cost"], "reply": null}
scale deployment api to 4 replicas and tell me what that costs per month -> \
{"agents": ["kubernetes", "cost"], "reply": null}
good evening -> {"agents": [], "reply": "Good evening! I can help with Kubernetes, AWS IAM policies and \
cloud costs."}
what is the capital of France? -> {"agents": [], "reply": "I can only help with Kubernetes, AWS IAM \
policies and cloud costs."}"""
"""Tuned on a 1.5B model with the routing suite (issue 12): the examples keep `reply` null when an agent
is chosen, which halved the decision's time (a small model otherwise answers the request itself in
`reply`, 50-130 tokens that nobody reads), and name the cases small models get wrong (cost questions about
Kubernetes objects, two-domain requests, small talk). The requests of the examples are not in the suite."""

REPLY_MAX_CHARS = 2_000
"""Longest direct reply kept (a real model's is bounded by the router's token limit first)."""


def _terms(words: str) -> tuple[str, ...]:
    return tuple(w.replace("_", " ") for w in words.split())


DOMAIN_TERMS: dict[AgentName, tuple[str, ...]] = {
    "kubernetes": _terms(
        "kubernetes k8s kubectl pod deployment deploy replica statefulset daemonset service ingress namespace "
        "node container logs event rollout configmap secret hpa autoscal crashloop job cronjob pvc "
        "volume rbac serviceaccount helm image scale restart evict drain cordon taint rolebinding "
        "clusterrole networkpolic network_polic probe oomkill cluster gatekeeper kyverno admission "
        "podsecurity pod_security poddisruptionbudget pdb ingress tls label annotation"
    ),
    "iam": _terms(
        "iam policy policies aws arn s3 bucket permission allow deny principal role least_privilege "
        "least-privilege action statement sts kms access_analyzer boundary scp permissive accessdenied "
        "access_denied unauthorized"
    ),
    "cost": _terms(
        "cost price pricing spend cheap expensive saving save spot on-demand right-siz rightsiz budget bill "
        "node_plan instance_type instance_famil reserved savings_plan karpenter dollar $ overprovision "
        "over-provision wast idle month money lower_bound"
    ),
}
"""Words that name each domain (matched at the start of a word, before and after splitting at hyphens).
They decide how many domains a request asks for (see the module docstring), and route a request by
themselves when the model's decision cannot be parsed twice; the model makes the choice."""

IAM_ONLY_TERMS = _terms(
    "iam aws arn s3 bucket sts kms access_analyzer scp accessdenied access_denied cloudwatch ecr ec2 lambda "
    "dynamodb sqs sns rds cloudtrail secretsmanager"
)
"""Words that name AWS itself. The other IAM words ("policy", "role", "allow", "deny", "permission") are
Kubernetes words too where a request is about RBAC, NetworkPolicies or Gatekeeper/Kyverno policies (see
`KUBERNETES_POLICY_TERMS`); there, without one of these, a policy file (`x.json`) or an IAM action, they do
not ask for IAM."""

KUBERNETES_POLICY_TERMS = _terms(
    "gatekeeper kyverno admission networkpolic network_polic rbac rolebinding clusterrole serviceaccount "
    "service_account podsecurity pod_security violat"
)

AWS_THINGS_TOO = _terms("log event secret image volume")
"""Kubernetes words that are AWS things too (CloudWatch log groups and events, Secrets Manager secrets, ECR
images, EBS volumes): in a request that names AWS and no other Kubernetes word, a clause with only these
asks nothing of Kubernetes ("put log events in the log group ...")."""

_POLICY_FILE = re.compile(r"\b[\w.-]+\.json\b")
_NAMED_THINGS = re.compile(r"(?<![\w/:])(?:arn:\S+|/[\w.*-]+(?:/[\w.*-]*)*)")
"""An ARN or an absolute path (a log group `/aws/lambda/billing`, a file): a name, whose words name no
domain ("billing" there is not a cost question); an ARN still names AWS."""
_NONWORD = re.compile(r"[^a-z0-9$\-]+")
_PDB = re.compile(r"pod[\s_-]*disruption[\s_-]*budget", re.IGNORECASE)
"""A PodDisruptionBudget is a Kubernetes object, not a budget to cost."""
_IAM_ACTION = re.compile(r"\b[a-z][a-z0-9-]*:(?:[A-Z][a-z]|\*)")
"""An IAM action (`s3:PutObject`, `ec2:*`) names the IAM domain wherever it appears."""
_CLAUSES = re.compile(r"\s*(?:;|:\s|,?\s+and\s+then\s+|,?\s+then\s+|,?\s+and\s+|,\s+)\s*", re.IGNORECASE)
_OBJECTS_OF_OTHERS: AgentName = "kubernetes"
"""A clause that names Kubernetes words beside IAM or cost words is about those: the pods, nodes and
service accounts are what is priced or permitted ("what do our nodes cost", "the role of its service
account")."""


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
    """The domains whose words appear in `text`, in the order they first appear; words inside an ARN or an
    absolute path do not count (an ARN counts as IAM's word `arn`)."""
    text = _NAMED_THINGS.sub(lambda m: " arn " if m.group().startswith("arn:") else " ", text)
    text = _PDB.sub("pdb", text)
    lowered = f" {_NONWORD.sub(' ', text.lower())} "
    split = lowered.replace("-", " ")  # the same length: positions agree
    found: list[tuple[int, AgentName]] = []
    for agent, terms in DOMAIN_TERMS.items():
        hits = [v.find(f" {t}") for t in terms for v in (lowered, split) if f" {t}" in v]
        if agent == "iam":
            hits += [m.start() for m in _IAM_ACTION.finditer(text)][:1]
        if hits:
            found.append((min(hits), agent))
    named = [agent for _, agent in sorted(found)]
    if (
        "iam" in named
        and _any(KUBERNETES_POLICY_TERMS, lowered, split)
        and not _names_aws(lowered, split, text)
    ):
        named.remove("iam")  # a Kubernetes policy, role or permission
    return named


def _kubernetes_beyond(clause: str, terms: tuple[str, ...]) -> bool:
    """Whether `clause` names Kubernetes with a word that is not one of `terms`."""
    lowered = f" {_NONWORD.sub(' ', _NAMED_THINGS.sub(' ', _PDB.sub('pdb', clause)).lower())} "
    split = lowered.replace("-", " ")
    return _any(tuple(t for t in DOMAIN_TERMS["kubernetes"] if not t.startswith(terms)), lowered, split)


def _any(terms: tuple[str, ...], *texts: str) -> bool:
    return any(f" {t}" in v for t in terms for v in texts)


def _names_aws(lowered: str, split: str, text: str) -> bool:
    return bool(_IAM_ACTION.search(text) or _POLICY_FILE.search(text)) or _any(IAM_ONLY_TERMS, lowered, split)


def domains_asked(text: str) -> list[AgentName]:
    """The domains a request asks for work in: what each of its clauses (split at `;`, `, `, `and`,
    `then`) names, Kubernetes words counting only in a clause that names no other domain; in order."""
    asked: list[AgentName] = []
    lowered = f" {_NONWORD.sub(' ', _NAMED_THINGS.sub(' arn ', text).lower())} "
    aws = _names_aws(lowered, lowered.replace("-", " "), text) and not _kubernetes_beyond(
        text, AWS_THINGS_TOO
    )
    for clause in _CLAUSES.split(text):
        named = domains_named(clause)
        if aws and named == [_OBJECTS_OF_OTHERS] and not _kubernetes_beyond(clause, AWS_THINGS_TOO):
            continue
        if len(named) > 1 and _OBJECTS_OF_OTHERS in named:
            named.remove(_OBJECTS_OF_OTHERS)
        asked.extend(a for a in named if a not in asked)
    if "iam" in asked and "iam" not in domains_named(text):
        asked.remove("iam")  # "violates this policy" of a Kubernetes request (see IAM_ONLY_TERMS)
    return asked


def _guard(decision: RouteDecision, text: str) -> RouteDecision:
    """Set the model's decision against the request's words (see the module docstring)."""
    chosen: list[AgentName] = list(dict.fromkeys(decision.agents))
    asked = domains_asked(text)
    if len(asked) > 1 and (len(chosen) > 1 or (chosen and chosen[0] in asked)):
        agents = asked
    elif len(chosen) > 1:
        agents = [asked[0]] if asked and asked[0] in chosen else chosen[:1]
    else:
        agents = chosen
    reply = decision.reply if not agents else None
    if reply and len(reply) > REPLY_MAX_CHARS:
        reply = reply[: REPLY_MAX_CHARS - 1] + "…"
    return RouteDecision(agents=agents, reply=reply).decided_by(decision.source)


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
