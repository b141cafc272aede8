"""The deployed ServiceAccount can make exactly its profile's calls, checked by the API server's access
reviews after deploy/ is applied to a sandbox, and opsgraph's tools, run as that ServiceAccount with its
token, meet no 403 outside `NOT_GRANTED`: the read profile runs every read tool and refuses every write; the
write overlay lets the approval-gated tools change the cluster."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.process import SandboxProcess
from tests.deploy.cluster import SA_GROUPS, SERVICE_ACCOUNT, kubectl, render, service_account_kubeconfig
from tools.base import ToolContext, preview_call
from tools.kubernetes.permissions import NOT_GRANTED, READABLE, WRITABLE, profile_calls
from verifiers.kubernetes import ApiCall, parse_call

pytestmark = pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("rbac-sandbox") / "kubeconfig"
    with SandboxProcess(scenario="default", kubeconfig=path) as sandbox:
        done = kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=render("deploy/base"))
        assert done.returncode == 0, done.stderr
        yield sandbox.kubeconfig


def _review(kubeconfig: Path, call: ApiCall, namespace: str = "shop") -> bool:
    from kubernetes import client, config

    api = config.new_client_from_config(str(kubeconfig))  # type: ignore[no-untyped-call]
    try:
        attrs = {"verb": call.verb, "group": call.group, "resource": call.resource}
        if call.subresource:
            attrs["subresource"] = call.subresource
        if call.resource not in ("nodes", "namespaces") and not call.resource.startswith("cluster"):
            attrs["namespace"] = namespace
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {"user": SERVICE_ACCOUNT, "groups": SA_GROUPS, "resourceAttributes": attrs},
        }
        review: Any = client.AuthorizationV1Api(api).create_subject_access_review(body)
        return bool(review.status.allowed)
    finally:
        api.close()


def _denied_probes(profile: str) -> list[str]:
    probes = ["get secrets", "list secrets", "create roles", "create rolebindings", "impersonate users"]
    probes += ["delete nodes", "create pods", "patch pods", "escalate clusterroles.rbac.authorization.k8s.io"]
    if profile == "read":
        probes += [f"{verb} {kind}" for kind in WRITABLE for verb in ("create", "patch", "delete")]
        probes += ["patch nodes", "create pods/eviction", "create pods/exec", "patch deployments/scale"]
    return probes


def _check_reviews(kubeconfig: Path, profile: str) -> None:
    refused = [str(c) for c in profile_calls(profile) if not _review(kubeconfig, c)]  # type: ignore[arg-type]
    allowed = [p for p in _denied_probes(profile) if _review(kubeconfig, parse_call(p))]
    assert refused == [], f"{profile}: calls the profile needs are refused"
    assert allowed == [], f"{profile}: calls outside the profile are allowed"


def _token(kubeconfig: Path) -> str:
    done = kubectl(kubeconfig, "create", "token", "opsgraph", "-n", "opsgraph")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class _Statuses:
    """Every API response status the tools get, with the request (the official client's REST layer)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from kubernetes.client import rest

        self.seen: list[tuple[int, str, str]] = []
        real = rest.RESTClientObject.request

        def request(client: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            try:
                response = real(client, method, url, *args, **kwargs)
            except rest.ApiException as exc:
                self.seen.append((int(exc.status or 0), method, url))
                raise
            self.seen.append((int(response.status), method, url))
            return response

        monkeypatch.setattr(rest.RESTClientObject, "request", request)

    def forbidden(self) -> list[str]:
        return [f"{m} {u}" for status, m, u in self.seen if status == 403]


def _tools(kubeconfig: Path) -> dict[str, Any]:
    from tools.cost.tools import build_tools as cost_tools
    from tools.kubernetes.tools import build_tools as kubernetes_tools

    ctx = ToolContext(kubeconfig=kubeconfig)
    return {t.name: t for t in kubernetes_tools(ctx) + cost_tools(ctx)}


def _read_calls(admin: Path) -> dict[str, dict[str, Any]]:
    from kubernetes import client, config

    api = config.new_client_from_config(str(admin))  # type: ignore[no-untyped-call]
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    pod = core.list_namespaced_pod("shop").items[0].metadata.name
    deployment = apps.list_namespaced_deployment("shop").items[0].metadata.name
    service = core.list_namespaced_service("shop").items[0].metadata.name
    api.close()
    shop = {"namespace": "shop"}
    calls: dict[str, dict[str, Any]] = {
        "list_pods": shop,
        "diagnose_pod": {"name": pod, **shop},
        "diagnose_deployment": {"name": deployment, **shop},
        "diagnose_service": {"name": service, **shop},
        "diagnose_namespace": shop,
        "diagnose_cluster": {},
        "describe_resource": {"kind": "pod", "name": pod, **shop},
        "pod_logs": {"name": pod, **shop},
        "list_events": shop,
        "node_usage": {},
        "can_i": {"verb": "get", "resource": "pods", **shop},
        "synthesize_role": {"service_account": "reporter", "calls": ["list pods"], **shop},
        "optimize_cost": shop,
        "rightsize": shop,
    }
    for kind in READABLE:
        calls[f"list_resources {kind}"] = {"kind": kind.split(".")[0], **shop}
    calls["get_resource deployment"] = {"kind": "deployment", "name": deployment, **shop}
    return calls


def test_access_reviews_allow_exactly_each_profile(cluster: Path) -> None:
    _check_reviews(cluster, "read")
    done = kubectl(cluster, "apply", "-f", "-", stdin=render("deploy/overlays/write"))
    assert done.returncode == 0, done.stderr
    try:
        _check_reviews(cluster, "write")
    finally:
        kubectl(cluster, "delete", "clusterrolebinding", "opsgraph-write")


def test_the_tools_run_as_the_service_account(
    cluster: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_sa = service_account_kubeconfig(cluster, _token(cluster), tmp_path / "opsgraph.kubeconfig")
    statuses = _Statuses(monkeypatch)
    tools = _tools(as_sa)
    expected_403 = {"/roles", "/rolebindings"}  # NOT_GRANTED: synthesize_role's server dry run
    assert {k.split()[1].split(".")[0] for k in NOT_GRANTED} == {p.strip("/") for p in expected_403}
    for label, args in _read_calls(cluster).items():
        statuses.seen.clear()
        output = str(tools[label.split()[0]].invoke(args))
        unexpected = [f for f in statuses.forbidden() if not f.split("?")[0].endswith(tuple(expected_403))]
        assert unexpected == [], f"{label}: {unexpected}\n{output[:500]}"
        assert "Forbidden" not in output or label == "synthesize_role", f"{label}: {output[:500]}"

    scale = {"name": "cart", "namespace": "shop", "replicas": 2}
    statuses.seen.clear()
    refused = preview_call(tools["scale_deployment"], scale)
    assert "403" in str(refused) and statuses.forbidden(), refused  # read profile: the dry run is refused

    done = kubectl(cluster, "apply", "-f", "-", stdin=render("deploy/overlays/write"))
    assert done.returncode == 0, done.stderr
    try:
        statuses.seen.clear()
        preview = preview_call(tools["scale_deployment"], scale)
        result = str(tools["scale_deployment"].invoke(scale))
        assert "403" not in str(preview) and result.startswith("done:"), (preview, result)
        assert statuses.forbidden() == []
    finally:
        kubectl(cluster, "delete", "clusterrolebinding", "opsgraph-write")
