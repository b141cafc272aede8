"""`/v1/iam/diff`, `/v1/iam/repair`, `/v1/cost/plan` and `Client.iam` / `Client.cost` against a real server."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.runtime import Runtime
from opsgraph.client import ApiError, AsyncClient, Client
from opsgraph.settings import Settings
from server.app import create_app
from tests.agents.recording_tools import RecordingCluster
from tests.server.conftest import ALICE, RITA, TOKENS
from tests.server.live import live_server
from tools.base import ToolContext
from tools.cost.engine import CostReport
from verifiers.iam import Comparison
from verifiers.iam.repair import RepairResult

EXAMPLES = Path(__file__).parents[2] / "tools" / "cost" / "examples"
S3_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
S3_GET = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}],
}
SPEC = {
    "must_allow": [{"Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/a.txt"}],
    "properties": ["least_privilege"],
}


def _serve(checkpoint_url: str, ctx: ToolContext) -> Iterator[str]:
    settings = Settings(checkpoint_url=checkpoint_url, api_tokens=TOKENS)
    tools = RecordingCluster().tools()
    with Runtime(settings, tools=tools) as runtime, live_server(create_app(runtime, tool_context=ctx)) as url:
        yield url


@pytest.fixture
def url(checkpoint_url: str) -> Iterator[str]:
    recorded = {
        "cluster_snapshot": str(EXAMPLES / "shop_cluster.json"),
        "usage_file": str(EXAMPLES / "shop_usage.json.gz"),
    }
    yield from _serve(checkpoint_url, ToolContext(extras=recorded))


def test_diff_returns_the_shared_model_from_objects_text_and_local_files(url: str, tmp_path: Path) -> None:
    (tmp_path / "get.json").write_text(json.dumps(S3_GET))
    with Client(url, token="rita-token") as client:  # readonly may call: nothing changes
        wider = client.iam.diff(S3_ALL, json.dumps(S3_GET))
        narrower = client.iam.diff(tmp_path / "get.json", S3_ALL)
        same = client.iam.diff(str(tmp_path / "get.json"), S3_GET)
    assert isinstance(wider, Comparison)
    assert wider.relation == "more_permissive"
    assert wider.counterexamples and all(c.allowed_by == "first" for c in wider.counterexamples)
    assert narrower.relation == "less_permissive"
    assert same.relation == "equivalent" and not same.counterexamples


def test_repair_round_trips_the_result_and_its_policy(url: str) -> None:
    with Client(url, token="alice-token") as client:
        result = client.iam.repair(S3_ALL, SPEC)
        assert isinstance(result, RepairResult)
        assert result.status == "repaired" and result.edits and result.policy is not None
        # the repaired policy (a typed Policy parsed from the response) goes straight back in
        assert client.iam.diff(result.policy, S3_ALL).relation == "less_permissive"
        assert client.iam.diff(result.original, S3_ALL).relation == "equivalent"


def test_spec_reference_files_are_read_by_the_client(url: str, tmp_path: Path) -> None:
    (tmp_path / "ref.json").write_text(json.dumps(S3_GET))
    (tmp_path / "spec.json").write_text(json.dumps({**SPEC, "reference": "ref.json"}))
    with Client(url, token="alice-token") as client:
        result = client.iam.repair(S3_ALL, tmp_path / "spec.json")
        assert result.status == "repaired" and result.policy is not None
        assert client.iam.diff(result.policy, S3_GET).relation in ("equivalent", "less_permissive")


def test_async_client_diff_repair_and_cost_plan(url: str) -> None:
    async def calls() -> tuple[Comparison, RepairResult, CostReport]:
        async with AsyncClient(url, token="olga-token") as client:
            diff, repaired = await asyncio.gather(
                client.iam.diff(S3_GET, S3_ALL), client.iam.repair(S3_ALL, SPEC)
            )
            return diff, repaired, await client.cost.plan("shop")

    diff, repaired, report = asyncio.run(calls())
    assert diff.relation == "less_permissive"
    assert repaired.status == "repaired"
    assert isinstance(report, CostReport)
    assert report.plan.lower_bound <= report.plan.monthly_cost + 1e-6
    assert report.recommended_monthly <= report.current_monthly
    assert {r.workload.split("/")[0] for r in report.rightsizing} <= {"shop"}


def test_cost_plan_over_the_whole_cluster(url: str) -> None:
    with Client(url, token="rita-token") as client:
        everything, shop = client.cost.plan(), client.cost.plan(namespace="shop")
    assert isinstance(everything, CostReport)
    assert len(everything.rightsizing) >= len(shop.rightsizing)


def test_bad_policies_are_422_problems_naming_the_json_pointer(url: str) -> None:
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}
    with Client(url, token="alice-token") as client:
        with pytest.raises(ApiError) as wrong_effect:
            client.iam.diff(S3_ALL, bad)
        with pytest.raises(ApiError) as malformed:
            client.iam.diff('{"Version": ', S3_ALL)
        with pytest.raises(ApiError) as bad_spec:
            client.iam.repair(S3_ALL, {"must_allow": [{"Action": "s3:GetObject"}], "wishes": []})
    assert wrong_effect.value.status == 422
    assert wrong_effect.value.problem["errors"][0]["pointer"] == "/body/policy_b/Statement/0/Effect"
    assert "Maybe" in wrong_effect.value.detail
    assert malformed.value.problem["errors"][0]["pointer"] == "/body/policy_a"
    assert "malformed JSON at line 1" in malformed.value.detail
    assert bad_spec.value.status == 422
    assert bad_spec.value.problem["errors"][0]["pointer"].startswith("/body/spec/")
    with pytest.raises(ValueError, match=r"nope\.json"):  # a missing local file is the caller's error
        Client(url).iam.diff("nope.json", S3_ALL)


def test_server_side_paths_are_refused_and_never_read(url: str, tmp_path: Path) -> None:
    secret = tmp_path / "server-side.json"
    secret.write_text(json.dumps(S3_ALL))  # a valid policy: reading it would make the call succeed
    bodies: list[tuple[str, dict[str, Any], str]] = [
        ("/v1/iam/diff", {"policy_a": str(secret), "policy_b": S3_ALL}, "/body/policy_a"),
        ("/v1/iam/diff", {"policy_a": S3_ALL, "policy_b": "../../etc/passwd"}, "/body/policy_b"),
        ("/v1/iam/repair", {"policy": str(secret), "spec": SPEC}, "/body/policy"),
        ("/v1/iam/repair", {"policy": S3_ALL, "spec": str(secret)}, "/body/spec"),
        (
            "/v1/iam/repair",
            {"policy": S3_ALL, "spec": {**SPEC, "reference": str(secret)}},
            "/body/spec/reference",
        ),
    ]
    for path, body, pointer in bodies:
        response = httpx.post(url + path, json=body, headers=ALICE)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["errors"][0]["pointer"] == pointer
        assert "files are not read for requests over HTTP" in problem["detail"]


def test_with_a_workspace_its_files_are_read_and_nothing_outside_it(
    checkpoint_url: str, tmp_path: Path
) -> None:
    """OPSGRAPH_WORKSPACE names the one folder callers may name files in; links are resolved first."""
    workspace, outside = tmp_path / "workspace", tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    (workspace / "get.json").write_text(json.dumps(S3_GET))
    (workspace / "spec.json").write_text(json.dumps({**SPEC, "reference": "get.json"}))
    (outside / "all.json").write_text(json.dumps(S3_ALL))  # valid: reading it would make a call succeed
    (workspace / "link.json").symlink_to(outside / "all.json")
    (workspace / "spec-out.json").write_text(json.dumps({**SPEC, "reference": "../outside/all.json"}))
    settings = Settings(checkpoint_url=checkpoint_url, api_tokens=TOKENS, workspace=workspace)
    with (
        Runtime(settings, tools=RecordingCluster().tools()) as runtime,
        live_server(create_app(runtime)) as url,
    ):
        diff = httpx.post(
            url + "/v1/iam/diff", json={"policy_a": "get.json", "policy_b": S3_ALL}, headers=RITA
        )
        assert diff.status_code == 200, diff.text
        assert diff.json()["relation"] == "less_permissive"
        repaired = httpx.post(
            url + "/v1/iam/repair", json={"policy": S3_ALL, "spec": "spec.json"}, headers=RITA
        )
        assert repaired.status_code == 200, repaired.text
        for body, pointer in (
            ({"policy_a": str(outside / "all.json"), "policy_b": S3_ALL}, "/body/policy_a"),
            ({"policy_a": "../outside/all.json", "policy_b": S3_ALL}, "/body/policy_a"),
            ({"policy_a": S3_ALL, "policy_b": "link.json"}, "/body/policy_b"),
        ):
            refused = httpx.post(url + "/v1/iam/diff", json=body, headers=RITA)
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"][0]["pointer"] == pointer
            assert "outside the server's workspace" in refused.json()["detail"]
        escaped = httpx.post(
            url + "/v1/iam/repair", json={"policy": S3_ALL, "spec": "spec-out.json"}, headers=RITA
        )
        assert escaped.status_code == 422
        assert escaped.json()["errors"][0]["pointer"] == "/body/spec/reference"
        missing = httpx.post(
            url + "/v1/iam/diff", json={"policy_a": "nope.json", "policy_b": S3_ALL}, headers=RITA
        )
        assert missing.status_code == 422
        assert str(workspace) not in missing.text  # the workspace's own path stays on the server


def test_domain_calls_need_a_token_and_any_role_will_do(url: str) -> None:
    body = {"policy_a": S3_ALL, "policy_b": S3_ALL}
    assert httpx.post(url + "/v1/iam/diff", json=body).status_code == 401
    response = httpx.post(url + "/v1/iam/diff", json=body, headers=RITA)
    assert response.status_code == 200 and response.json()["relation"] == "equivalent"


def test_cost_plan_without_a_reachable_cluster_is_503(checkpoint_url: str, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
    )
    for ctx in (ToolContext(kubeconfig=kubeconfig), ToolContext(kubeconfig=tmp_path / "missing")):
        for url in _serve(checkpoint_url, ctx):
            with Client(url, token="alice-token") as client, pytest.raises(ApiError) as unreachable:
                client.cost.plan()
            assert unreachable.value.status == 503
            assert "no cluster is reachable" in unreachable.value.detail
            assert str(tmp_path) not in unreachable.value.detail  # server paths stay in the server's log


def test_openapi_documents_the_shared_models(url: str) -> None:
    schema = httpx.get(url + "/openapi.json").json()
    components = schema["components"]["schemas"]
    for path, request, response in (
        ("/v1/iam/diff", "IamDiffIn", "Comparison"),
        ("/v1/iam/repair", "IamRepairIn", "RepairResult"),
        ("/v1/cost/plan", "CostPlanIn", "CostReport"),
    ):
        operation = schema["paths"][path]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{request}"}
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{response}"}
        assert {request, response} <= set(components)
        assert operation["responses"]["422"]["content"]["application/problem+json"]
    assert "503" in schema["paths"]["/v1/cost/plan"]["post"]["responses"]


def test_the_docs_example_runs(url: str) -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "server.md"
    [example] = re.findall(r"```py\n(.*?)```", doc.read_text(), re.S)
    code = example.replace("http://127.0.0.1:8080", url).replace('token="s3cret"', 'token="alice-token"')
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, str(doc), "exec"), {})
    assert output.getvalue().splitlines() == ["repaired less_permissive", "True"]
