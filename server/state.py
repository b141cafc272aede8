"""What every request handler needs: the runtime, who is asking, and the server's shared parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from agents.runtime import Runtime, ThreadNotFoundError
from agents.settings import Settings
from agents.store import ThreadInfo
from server.auth import Authenticator, Principal
from server.metrics import Metrics
from server.redact import Redactor
from server.runs import BusyThreads, RunPump
from tools.base import ToolContext

__all__ = ["CurrentPrincipal", "CurrentState", "ServerState", "current_principal", "server_state"]


@dataclass
class ServerState:
    runtime: Runtime
    settings: Settings
    auth: Authenticator
    metrics: Metrics
    pump: RunPump
    busy: BusyThreads
    tool_context: ToolContext = field(default_factory=ToolContext)
    """The cluster and files the typed domain calls (`/v1/iam/*`, `/v1/cost/plan`) work with."""
    redact: Redactor = field(default_factory=lambda: Redactor(()))
    """Blanks the server's secrets in every message that goes back to a caller."""

    def read_only_for(self, principal: Principal) -> bool:
        return self.settings.read_only or principal.role == "readonly"

    def owned_thread(self, thread_id: str, principal: Principal) -> ThreadInfo:
        """The thread, if it is the principal's; otherwise the same 404 as for a thread that never existed."""
        info = self.runtime.store.thread(thread_id)
        if info is None or info.owner != principal.user:
            raise ThreadNotFoundError(f"no thread {thread_id}")
        return info


# The two dependencies every route has are `async`: they only read memory, and a plain `def` dependency
# costs a hop through the worker thread pool, which under load waits its turn behind the database calls.
async def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.opsgraph
    return state


_bearer = HTTPBearer(auto_error=False, description="An API token from OPSGRAPH_API_TOKENS.")


async def current_principal(
    request: Request,
    state: Annotated[ServerState, Depends(server_state)],
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return state.auth(request)


CurrentState = Annotated[ServerState, Depends(server_state)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
