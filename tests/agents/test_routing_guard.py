"""The router's decision set against the request's words: what a small model over- or under-chooses."""

from __future__ import annotations

import pytest

from agents.routing import RouteDecision, _guard, domains_asked, domains_named


def _decide(agents: list[str], text: str, reply: str | None = None) -> list[str]:
    return list(_guard(RouteDecision.model_validate({"agents": agents, "reply": reply}), text).agents)


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("scale deployment web to 10 replicas and tell me how much that will cost", ["kubernetes", "cost"]),
        ("how much could we save by right-sizing our nodes?", ["cost"]),  # nodes are what is priced
        ("why is the homepage-pvc still Pending?", ["kubernetes"]),  # words inside hyphenated names
        ("Why is my Lambda getting AccessDenied on dynamodb:PutItem?", ["iam"]),  # an IAM action
        ("fix the IAM policy for the app role, then restart deployment app", ["iam", "kubernetes"]),
        (
            "audit namespace ml: pods, the IAM policy of its role, and its monthly cost",
            ["kubernetes", "iam", "cost"],
        ),
        ("hello", []),
        # Kubernetes policies, roles and permissions are not IAM (the k8s-tasks prompts: 31 of 56 asked
        # for IAM before), unless the request names AWS, a policy file or an IAM action.
        (
            "check the Ingresses in namespace web against our Gatekeeper policy and list any that allow "
            "wildcard hosts; report each violating resource",
            ["kubernetes"],
        ),
        ("which ClusterRoleBindings allow the system:anonymous user?", ["kubernetes"]),
        ("grant the service account builder permission to read configmaps in ci", ["kubernetes"]),
        ("list the roles and rolebindings in namespace ops", ["kubernetes"]),
        ("does the policy in deploy.json allow the service account's pods to read the bucket?", ["iam"]),
        (
            "create a service account in namespace logs and a CloudWatch write policy for it",
            ["kubernetes", "iam"],
        ),
        ("check that no PodDisruptionBudget in shop blocks a drain", ["kubernetes"]),
        # words inside an ARN or an absolute path are names: "billing" in a log group's path asked for cost,
        # and "log events" for Kubernetes, so write-04 of iam-questions ran the cost agent after IAM
        (
            "Write an IAM policy that lets a Lambda function write its logs: create log streams and put log "
            "events in the log group /aws/lambda/billing (us-east-1, account 123456789012), and nothing else.",
            ["iam"],
        ),
        ("explain arn:aws:iam::aws:policy/job-function/Billing", ["iam"]),  # an ARN names AWS
        ("what does /etc/opsgraph/cost.toml say about spot prices", ["cost"]),
        ("generate an IAM policy: read-only access to CloudWatch logs in us-east-1", ["iam"]),
        # ... unless the request names Kubernetes with a word that is not an AWS thing too
        ("show me the logs of the lambda in aws and the logs of pod web", ["iam", "kubernetes"]),
        ("list the secrets in namespace shop", ["kubernetes"]),
    ],
)
def test_the_domains_a_request_asks_for(text: str, asked: list[str]) -> None:
    assert domains_asked(text) == asked


def test_a_two_clause_request_widens_a_one_agent_decision() -> None:
    text = "show me pods without limits and estimate what limiting them would save"
    assert _decide(["kubernetes"], text) == ["kubernetes", "cost"]
    assert _decide(["iam"], text) == ["iam"]  # an agent the words do not ask for: the model's call stands


def test_a_hedged_decision_for_a_one_domain_request_keeps_the_domain_it_names() -> None:
    assert _decide(["kubernetes", "cost"], "rank our deployments by monthly cost") == ["cost"]
    assert _decide(["kubernetes", "iam", "cost"], "how many pods run in namespace shop?") == ["kubernetes"]
    assert _decide(["iam", "cost"], "tell me a joke") == ["iam"]  # nothing named: the model's first


def test_no_agent_stays_no_agent_with_its_reply() -> None:
    decision = _guard(RouteDecision(agents=[], reply="Hello!"), "hello, can you list the pods?")
    assert decision.agents == [] and decision.reply == "Hello!"


def test_a_reply_is_dropped_when_an_agent_acts() -> None:
    decision = _guard(
        RouteDecision(agents=["kubernetes"], reply="You can use kubectl get pods."), "list pods"
    )
    assert decision.agents == ["kubernetes"] and decision.reply is None


def test_domain_words_in_order() -> None:
    assert domains_named("check the s3:GetObject permission of the pod's role") == ["iam", "kubernetes"]
