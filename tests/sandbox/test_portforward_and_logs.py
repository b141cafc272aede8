"""port-forward (client WebSocket channels, kubectl's SPDY) and `logs` follow, timestamps, limits, since."""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.stream import portforward, stream

from sandbox.testing import SandboxCluster
from tests.sandbox.test_kubectl import KUBECTL

pytestmark = pytest.mark.usefixtures("sandbox_only")


def _nginx(core: client.CoreV1Api, ns: str) -> str:
    core.create_namespaced_pod(
        ns,
        {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
    )
    return "web"


def _get(sock: Any, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: web\r\n\r\n".encode())
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < int(
        re.search(rb"Content-Length: (\d+)", data).group(1)
        if re.search(rb"Content-Length: (\d+)", data)
        else 1
    ):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_client_port_forward_reaches_the_app_and_reports_a_closed_port(
    kube_client: Any, sandbox_namespace: str
) -> None:
    """The kubelet's WebSocket port-forward: data and error channel per port; nothing listening is an
    error message on the error channel ("connect: connection refused")."""
    core = client.CoreV1Api(kube_client)
    pod = _nginx(core, sandbox_namespace)
    forward = portforward(
        core.connect_get_namespaced_pod_portforward, pod, sandbox_namespace, ports="80,9999"
    )
    try:
        reply = _get(forward.socket(80), "/")
        assert reply.startswith(b"HTTP/1.1 200 OK") and b"Welcome to nginx!" in reply
        forward.socket(9999).sendall(b"GET / HTTP/1.1\r\n\r\n")
        deadline = time.monotonic() + 5
        while forward.error(9999) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "connect: connection refused" in str(forward.error(9999))
    finally:
        forward.close()


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
@pytest.mark.parametrize("websockets", ["true", "false"])
def test_kubectl_port_forward_serves_http_through_the_pod(
    sandbox_cluster: SandboxCluster, kube_client: Any, sandbox_namespace: str, websockets: str
) -> None:
    """kubectl port-forward (SPDY in a WebSocket since 1.31, plain SPDY before) forwards a local port."""
    core = client.CoreV1Api(kube_client)
    pod = _nginx(core, sandbox_namespace)
    cmd = [str(KUBECTL), "--kubeconfig", str(sandbox_cluster.kubeconfig), "-n", sandbox_namespace]
    proc = subprocess.Popen(
        [*cmd, "port-forward", pod, ":80"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "KUBECTL_PORT_FORWARD_WEBSOCKETS": websockets},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))  # type: ignore[union-attr]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200 and b"Welcome to nginx!" in page.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert '"GET / HTTP/1.1" 200' in core.read_namespaced_pod_log(pod, sandbox_namespace)


def test_logs_follow_streams_new_lines(kube_client: Any, sandbox_namespace: str) -> None:
    """`follow=true` keeps the response open and sends lines as the container writes them."""
    core = client.CoreV1Api(kube_client)
    pod = _nginx(core, sandbox_namespace)
    followed = core.read_namespaced_pod_log(pod, sandbox_namespace, follow=True, _preload_content=False)
    try:
        lines = followed.stream(amt=None, decode_content=False)
        first = next(lines)
        assert b"Configuration complete" in first
        stream(
            core.connect_get_namespaced_pod_exec,
            pod,
            sandbox_namespace,
            command=["wget", "-qO-", "localhost/from-follow"],
            stdout=True,
            stderr=True,
            stdin=False,
            tty=False,
        )
        assert b"GET /from-follow HTTP/1.1" in next(lines)
    finally:
        followed.release_conn()


def test_log_options_timestamps_limit_bytes_since_and_tail(kube_client: Any, sandbox_namespace: str) -> None:
    """As the kubelet: RFC 3339 nanosecond prefixes, a byte cut, lines since a time, the last N lines;
    and the apiserver's validation (`must be greater than 0`, not both since options)."""
    core = client.CoreV1Api(kube_client)
    pod = _nginx(core, sandbox_namespace)
    full = core.read_namespaced_pod_log(pod, sandbox_namespace)
    stamped = core.read_namespaced_pod_log(pod, sandbox_namespace, timestamps=True).splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /docker-entrypoint\.sh: .*", stamped[0])
    assert core.read_namespaced_pod_log(pod, sandbox_namespace, limit_bytes=10) == full[:10]
    assert core.read_namespaced_pod_log(pod, sandbox_namespace, tail_lines=1) == full.splitlines()[-1] + "\n"
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    method, url, headers, _, _ = kube_client.param_serialize(
        "GET",
        "/api/v1/namespaces/{namespace}/pods/{name}/log",
        path_params={"namespace": sandbox_namespace, "name": pod},
        query_params=[("sinceTime", future)],
        auth_settings=["BearerToken"],
    )
    assert kube_client.call_api(method, url, headers).read() == b""
    with pytest.raises(ApiException) as bad:
        core.read_namespaced_pod_log(pod, sandbox_namespace, limit_bytes=0)
    assert bad.value.status == 422 and "must be greater than 0" in str(bad.value.body)
