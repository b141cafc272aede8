"""`exec` through the official client's stream API and kubectl: the emulated container and the kubelet's protocol."""

from __future__ import annotations

import base64
import os
import subprocess
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from sandbox.testing import SandboxCluster
from tests.sandbox.test_kubectl import KUBECTL, kubectl

pytestmark = pytest.mark.usefixtures("sandbox_only")


def _pod(core: client.CoreV1Api, ns: str) -> str:
    core.create_namespaced_config_map(
        ns, {"metadata": {"name": "settings"}, "data": {"mode": "dark", "level": "3"}}
    )
    core.create_namespaced_secret(
        ns, {"metadata": {"name": "creds"}, "data": {"password": base64.b64encode(b"s3cret").decode()}}
    )
    core.create_namespaced_pod(
        ns,
        {
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.27",
                        "env": [
                            {
                                "name": "MODE",
                                "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}},
                            },
                            {
                                "name": "PASSWORD",
                                "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}},
                            },
                            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                            {"name": "GREETING", "value": "mode is $(MODE)"},
                        ],
                        "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}],
                    }
                ],
                "volumes": [{"name": "config", "configMap": {"name": "settings"}}],
            },
        },
    )
    core.create_namespaced_service(
        ns, {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    )
    return "web"


def _exec(core: client.CoreV1Api, ns: str, pod: str, command: list[str], **kw: Any) -> Any:
    return stream(
        core.connect_get_namespaced_pod_exec,
        pod,
        ns,
        command=command,
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        **kw,
    )


def test_stream_exec_sees_the_containers_env_files_and_services(
    kube_client: Any, sandbox_namespace: str
) -> None:
    """A container's env is resolved from ConfigMaps, Secrets, fields and `$(VAR)`; its volumes are files;
    cluster DNS names a Service, which kube-proxy sends to a ready endpoint."""
    core = client.CoreV1Api(kube_client)
    pod = _pod(core, sandbox_namespace)
    env = _exec(core, sandbox_namespace, pod, ["env"])
    assert "MODE=dark\n" in env and "PASSWORD=s3cret\n" in env and "GREETING=mode is dark\n" in env
    assert "WEB_SERVICE_HOST=" in env and f"HOSTNAME={pod}\n" in env
    ip = core.read_namespaced_pod(pod, sandbox_namespace).status.pod_ip
    assert f"POD_IP={ip}\n" in env
    listing = _exec(core, sandbox_namespace, pod, ["sh", "-c", "ls /etc/app && cat /etc/app/mode"])
    assert listing == "level\nmode\ndark"
    page = _exec(core, sandbox_namespace, pod, ["sh", "-c", f"wget -qO- http://web.{sandbox_namespace}.svc/"])
    assert "Welcome to nginx!" in page
    logs = core.read_namespaced_pod_log(pod, sandbox_namespace)
    assert '"GET / HTTP/1.1" 200' in logs  # the request left an access line, as nginx writes one


def test_stream_exec_exit_codes_stdin_and_commands_outside_the_set(
    kube_client: Any, sandbox_namespace: str
) -> None:
    """The kubelet reports a non-zero exit as a Status with reason NonZeroExitCode and the code as cause."""
    core = client.CoreV1Api(kube_client)
    pod = _pod(core, sandbox_namespace)
    resp = _exec(
        core, sandbox_namespace, pod, ["sh", "-c", "echo out; echo err >&2; exit 3"], _preload_content=False
    )
    resp.run_forever(timeout=10)
    assert (resp.read_stdout(), resp.read_stderr(), resp.returncode) == ("out\n", "err\n", 3)
    piped = stream(
        core.connect_get_namespaced_pod_exec,
        pod,
        sandbox_namespace,
        command=["sh"],
        stdin=True,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
    )
    piped.write_stdin("printenv MODE | grep -i DARK\n")
    piped.close_channel(0)  # v5: the end of stdin
    piped.run_forever(timeout=10)
    assert (piped.read_stdout(), piped.returncode) == ("dark\n", 0)
    missing = _exec(core, sandbox_namespace, pod, ["nslookup", "web"], _preload_content=False)
    missing.run_forever(timeout=10)
    assert missing.returncode == 127
    assert "not available in the sandbox's emulated container" in missing.read_stderr()


def test_exec_errors_before_the_upgrade(kube_client: Any, sandbox_namespace: str) -> None:
    """The apiserver refuses an unknown container with 400 `container X is not valid for pod Y`."""
    core = client.CoreV1Api(kube_client)
    pod = _pod(core, sandbox_namespace)
    with pytest.raises(ApiException) as raised:
        core.connect_get_namespaced_pod_exec(
            pod, sandbox_namespace, command=["ls"], container="nope", stdout=True, _preload_content=True
        )
    assert raised.value.status == 400 and "container nope is not valid for pod web" in str(raised.value.body)


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_kubectl_exec_exit_code_stdin_and_crashlooping_container(
    sandbox_cluster: SandboxCluster, sandbox_namespace: str, kube_client: Any
) -> None:
    """kubectl exits with the command's code; a container that is not running cannot be exec'd into."""
    core = client.CoreV1Api(kube_client)
    pod = _pod(core, sandbox_namespace)
    ns = ["-n", sandbox_namespace]
    out = kubectl(sandbox_cluster, "exec", *ns, pod, "--", "sh", "-c", "cat /etc/app/level; exit 7")
    assert (out.returncode, out.stdout) == (7, "3")
    assert "command terminated with exit code 7" in out.stderr
    piped = kubectl(sandbox_cluster, "exec", "-i", *ns, pod, "--", "cat", stdin="from stdin\n")
    assert (piped.returncode, piped.stdout) == (0, "from stdin\n"), piped.stderr
    crashing = kubectl(sandbox_cluster, "get", "pods", "-n", "shop", "-l", "app=checkout", "-o", "name")
    name = crashing.stdout.split()[0]
    refused = kubectl(sandbox_cluster, "exec", "-n", "shop", name, "--", "env")
    assert refused.returncode != 0 and 'container not found ("checkout")' in refused.stderr


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_kubectl_exec_over_spdy(
    sandbox_cluster: SandboxCluster, sandbox_namespace: str, kube_client: Any
) -> None:
    """Before 1.30 (or with its WebSocket turned off) kubectl upgrades to SPDY/3.1 with one stream per channel."""
    pod = _pod(client.CoreV1Api(kube_client), sandbox_namespace)
    cmd = [
        str(KUBECTL),
        "--kubeconfig",
        str(sandbox_cluster.kubeconfig),
        "exec",
        "-i",
        "-n",
        sandbox_namespace,
        pod,
    ]
    env = {**os.environ, "KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"}
    out = subprocess.run(
        [*cmd, "--", "sh", "-c", "cat; printenv MODE; exit 5"],
        input="over spdy\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (out.returncode, out.stdout) == (5, "over spdy\ndark\n"), out.stderr


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_kubectl_run_attaches_to_the_shell_and_removes_the_pod(
    sandbox_cluster: SandboxCluster, sandbox_namespace: str
) -> None:
    """`kubectl run -i --rm` attaches to the container's shell (stdin: true keeps it waiting for input);
    when the shell exits the container terminates, the pod completes and kubectl deletes it."""
    ns = ["-n", sandbox_namespace]
    run = [*ns, "run", "-i", "--rm", "--restart=Never", "--image=busybox:1.36", "shell", "--", "sh"]
    out = kubectl(sandbox_cluster, *run, stdin="echo attached $HOSTNAME\nexit 0\n")
    assert out.returncode == 0, out.stderr
    assert "attached shell" in out.stdout and 'pod "shell" deleted' in out.stdout


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_kubectl_cp_both_ways_and_debug(
    sandbox_cluster: SandboxCluster, sandbox_namespace: str, kube_client: Any, tmp_path: Any
) -> None:
    """kubectl cp runs `tar` in the container (what it wrote stays for later sessions, as in the
    container's writable layer); kubectl debug adds an ephemeral container through the
    `ephemeralcontainers` subresource and the kubelet reports its status."""
    pod = _pod(client.CoreV1Api(kube_client), sandbox_namespace)
    ns = ["-n", sandbox_namespace]
    local = tmp_path / "up.txt"
    local.write_text("copied in\n")
    assert (
        kubectl(sandbox_cluster, "cp", str(local), f"{sandbox_namespace}/{pod}:/tmp/up.txt").returncode == 0
    )
    assert kubectl(sandbox_cluster, "exec", *ns, pod, "--", "cat", "/tmp/up.txt").stdout == "copied in\n"
    back = tmp_path / "mode"
    out = kubectl(sandbox_cluster, "cp", f"{sandbox_namespace}/{pod}:/etc/app/mode", str(back))
    assert out.returncode == 0 and back.read_text() == "dark", out.stderr
    debug = kubectl(sandbox_cluster, "debug", *ns, pod, "--image=busybox", "--", "true")
    assert debug.returncode == 0, debug.stderr
    statuses = client.CoreV1Api(kube_client).read_namespaced_pod(pod, sandbox_namespace).status
    state = statuses.ephemeral_container_statuses[0].state
    assert state.terminated is not None and state.terminated.reason == "Completed"
