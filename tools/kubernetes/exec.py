"""`exec_in_pod`: run a command in a pod's container through the official client's `kubernetes.stream`.

A command may change anything the container can reach, so the tool is declared mutating: the approval
gate shows the command, the pod and whether RBAC allows it before anything runs. It runs on a client
of its own, since `kubernetes.stream` swaps the client's transport while a stream is open.
"""

from __future__ import annotations

import shlex
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from tools.base import ToolContext, mark_mutating
from tools.kubernetes.access import KubeAccess, KubeError
from tools.kubernetes.render import as_data
from tools.kubernetes.schemas import ExecArgs
from tools.kubernetes.writes import Guard, WriteError

__all__ = ["build_exec_tool"]

_TIMEOUT_S = 30
_MAX_OUTPUT = 6000


def _container(pod: dict[str, Any], wanted: str) -> str:
    names: list[str] = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    if not wanted:
        if len(names) == 1:
            return names[0]
        raise WriteError(f"pod has several containers ({', '.join(names)}): name one in `container`")
    if wanted not in names:
        raise WriteError(f"container {wanted!r} is not in the pod (it has: {', '.join(names)})")
    return wanted


def _check(access: KubeAccess, guard: Guard, args: dict[str, Any]) -> tuple[dict[str, Any], str, list[str]]:
    """The pod, the container and the command, once the guard and the pod's state allow an exec."""
    namespace, name = args.get("namespace") or "default", args["pod"]
    guard.check("Pod", namespace)
    command = [str(part) for part in args.get("command") or []]
    if not command or not command[0].strip():
        raise WriteError("command: give the program and its arguments, e.g. ['cat', '/etc/hostname']")
    pod = access.request("GET", f"/api/v1/namespaces/{namespace}/pods/{name}")
    container = _container(pod, args.get("container") or "")
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        raise WriteError(f"pod {namespace}/{name} has completed: nothing runs in it to exec into")
    return pod, container, command


def _allowed(access: KubeAccess, namespace: str, pod: str) -> str:
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {
                "verb": "create",
                "resource": "pods",
                "subresource": "exec",
                "namespace": namespace,
                "name": pod,
            }
        },
    }
    try:
        status = access.request(
            "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", None, review
        )
    except KubeError as exc:
        return f"unknown ({exc.code} {exc.reason})"
    return "yes" if (status.get("status") or {}).get("allowed") else "no: RBAC denies create pods/exec"


def _run(
    ctx: ToolContext, namespace: str, pod: str, container: str, command: list[str]
) -> tuple[int | None, str]:
    from kubernetes import client, config
    from kubernetes.stream import stream

    api = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(ctx.kubeconfig) if ctx.kubeconfig else None, context=ctx.kube_context
    )
    try:
        resp = stream(
            client.CoreV1Api(api).connect_get_namespaced_pod_exec,
            pod,
            namespace,
            container=container,
            command=command,
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _preload_content=False,
        )
        resp.run_forever(timeout=_TIMEOUT_S)
        output = resp.read_stdout() + resp.read_stderr()
        code = resp.returncode if not resp.is_open() else None
        resp.close()
    finally:
        api.close()
    return code, output


def build_exec_tool(ctx: ToolContext, access: KubeAccess, guard: Guard) -> BaseTool:
    def preview(args: dict[str, Any]) -> dict[str, Any]:
        shown = shlex.join(str(p) for p in args.get("command") or [])
        where = f"pod {args.get('namespace') or 'default'}/{args.get('pod')}"
        try:
            pod, container, command = _check(access, guard, args)
        except (KubeError, WriteError, KeyError) as exc:
            return {"summary": f"exec `{shown}` in {where} would fail", "error": str(exc), "command": shown}
        return {
            "summary": f"exec `{shlex.join(command)}` in {where}, container {container}",
            "command": shlex.join(command),
            "container": container,
            "node": (pod.get("spec") or {}).get("nodeName"),
            "rbac": _allowed(access, pod["metadata"]["namespace"], pod["metadata"]["name"]),
            "note": "runs inside the container with its permissions; it can change files and call services",
        }

    def exec_in_pod(
        pod: str, command: list[str], namespace: str = "default", container: str = ""
    ) -> tuple[str, dict[str, Any] | None]:
        args = {"pod": pod, "command": command, "namespace": namespace, "container": container}
        try:
            _, chosen, argv = _check(access, guard, args)
            code, output = _run(ctx, namespace or "default", pod, chosen, argv)
        except KubeError as exc:
            return f"error: {exc.code} {exc.reason}: {exc.message} (nothing was run)", None
        except WriteError as exc:
            return f"error: {exc} (nothing was run)", None
        except Exception as exc:  # the stream's transport: a refused upgrade, a dropped connection
            return f"error: exec failed: {type(exc).__name__}: {exc}", None
        cut = len(output) > _MAX_OUTPUT
        shown = output[-_MAX_OUTPUT:] if cut else output
        status = (
            f"exit code {code}" if code is not None else f"no exit code within {_TIMEOUT_S} s (still running)"
        )
        text = f"ran `{shlex.join(argv)}` in {namespace}/{pod} ({chosen}): {status}" + (
            f", output cut to its last {_MAX_OUTPUT} characters" if cut else ""
        )
        artifact = {
            "kind": "kubernetes.exec",
            "pod": f"{namespace}/{pod}",
            "container": chosen,
            "command": argv,
            "exit_code": code,
            "output": shown,
        }
        return text + "\n" + as_data(f"output of `{shlex.join(argv)}` in {pod}", shown), artifact

    tool = StructuredTool.from_function(
        func=exec_in_pod,
        name="exec_in_pod",
        description="Run a command in a pod's container (like kubectl exec) and return its output and exit code; needs approval.",
        args_schema=ExecArgs,
        response_format="content_and_artifact",
        metadata={
            "group": "exec",
            "keywords": ("exec", "run", "command", "shell", "inside", "container", "file", "env"),
        },
    )
    return mark_mutating(tool, preview)
