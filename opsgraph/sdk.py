"""The Python SDK: `Assistant` runs opsgraph in-process on the configured model, cluster and database.

from opsgraph import Assistant

with Assistant() as assistant:
    result = assistant.ask("list pods in payments")
    print(result.answer)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from agents.events import Event
from agents.gate import ApprovalDecision, ApprovalRequest
from agents.models.vocabulary import AgentName
from agents.runtime import Checkpoint, RunResult, Runtime
from agents.store import AuditEntry, ThreadInfo
from agents.tool_context import tool_context_for
from opsgraph.domains import CostCalls, IamCalls
from opsgraph.sandbox_registry import SandboxLease, SandboxRegistry
from opsgraph.settings import Settings

__all__ = [
    "Answer",
    "ApprovalDecision",
    "ApprovalRequest",
    "Assistant",
    "AuditEntry",
    "RunResult",
    "ThreadInfo",
]

Answer = RunResult
"""What `ask`, `approve` and `reject` return: the answer, or the approval the run is waiting on."""


class Assistant:
    """opsgraph in-process. Uses the data directory's shared sandbox cluster when no cluster is configured
    (starting it when none runs; it keeps running for other processes after `close`)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        model: str | BaseChatModel | None = None,
        kubeconfig: str | Path | None = None,
        context: str | None = None,
        checkpoint_url: str | None = None,
        tools: Mapping[AgentName, Sequence[BaseTool]] | None = None,
        workdir: Path | None = None,
        start_sandbox: bool | None = None,
    ) -> None:
        """`model` is a model name (`offline`, `openai:gpt-4o-mini`, ...) or a chat model object;
        `kubeconfig`, `context` and `checkpoint_url` override the settings of the same names."""
        overrides: dict[str, object] = {}
        if isinstance(model, str):
            overrides["model"] = model
        if kubeconfig is not None:
            overrides["kubeconfig"] = Path(kubeconfig)
        if context is not None:
            overrides["kube_context"] = context
        if checkpoint_url is not None:
            overrides["checkpoint_url"] = checkpoint_url
        base = settings or Settings()
        self.settings = base.model_copy(update=overrides) if overrides else base
        self._stack = ExitStack()
        use_sandbox = start_sandbox if start_sandbox is not None else self.settings.wants_sandbox()
        registry = SandboxRegistry.for_settings(self.settings) if use_sandbox and tools is None else None
        # the kubeconfig's path is known before the sandbox runs: nothing starts until the model and the
        # database have proved good (the Runtime below builds both)
        kubeconfig_path = registry.kubeconfig if registry else self.settings.resolved_kubeconfig()
        ctx = tool_context_for(self.settings, kubeconfig=kubeconfig_path, workdir=workdir)
        chat_model = model if isinstance(model, BaseChatModel) else None
        self.runtime = Runtime(self.settings, model=chat_model, tools=tools, tool_context=ctx)
        self._stack.callback(self.runtime.close)
        self.sandbox: SandboxLease | None = None
        """The data directory's shared sandbox, when this assistant uses it (see `opsgraph.sandbox_registry`)."""
        if registry is not None:
            try:
                self.sandbox = registry.lease()
            except BaseException:
                self._stack.close()
                raise
            self._stack.callback(self.sandbox.close)
        self.iam = IamCalls(ctx)
        """Typed IAM calls: `diff(a, b)`, `repair(policy, spec)`."""
        self.cost = CostCalls(ctx)
        """Typed cost calls: `plan(namespace=None)`."""

    @property
    def user(self) -> str:
        return self.settings.user

    def ask(self, text: str, *, thread_id: str | None = None, user: str | None = None) -> Answer:
        """Send a message; returns the answer, or the approval request a mutating call is waiting on."""
        return self.runtime.run(text, thread_id=thread_id, user=user)

    def stream(self, text: str, *, thread_id: str | None = None, user: str | None = None) -> Iterator[Event]:
        return self.runtime.stream(text, thread_id=thread_id, user=user)

    def decide(
        self,
        thread_id: str,
        decision: Literal["approve", "reject", "edit"],
        *,
        args: dict[str, Any] | None = None,
        comment: str | None = None,
        user: str | None = None,
    ) -> RunResult:
        """Answer the pending approval on a thread and run on."""
        answer = ApprovalDecision(decision=decision, args=args, comment=comment, user=user)
        return self.runtime.resume(thread_id, answer, user=user)

    def approve(self, thread_id: str, *, user: str | None = None) -> RunResult:
        return self.decide(thread_id, "approve", user=user)

    def reject(self, thread_id: str, *, comment: str | None = None, user: str | None = None) -> RunResult:
        return self.decide(thread_id, "reject", comment=comment, user=user)

    def continue_run(self, thread_id: str, *, user: str | None = None) -> RunResult:
        """Run on a thread whose run stopped unfinished (its process died), from its last checkpoint."""
        for _ in self.runtime.stream_continue(thread_id, user=user):
            pass
        return self.runtime.result(thread_id)

    def threads(self, *, user: str | None = None) -> list[ThreadInfo]:
        return self.runtime.store.threads(owner=user or self.user)

    def audit(self, thread_id: str, *, user: str | None = None) -> list[AuditEntry]:
        return self.runtime.audit(thread_id, user=user)

    def history(self, thread_id: str, *, user: str | None = None) -> list[Checkpoint]:
        return self.runtime.history(thread_id, user=user)

    def replay(self, thread_id: str, checkpoint_id: str, *, user: str | None = None) -> RunResult:
        return self.runtime.replay(thread_id, checkpoint_id, user=user)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
