"""`SlackBot`: Slack Bolt wired to the runtime.

A Slack thread is an opsgraph thread (`slack-<team>-<channel>-<thread ts>`), owned by the channel, so
everyone in the Slack thread continues the same conversation. Slack users listed in
`OPSGRAPH_SLACK_USERS` act with their role; anyone else chats read-only. Only admin and operator users
may press Approve / Reject.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool

from agents.events import Event, FinalEvent, InterruptEvent, ToolCallEvent, ToolResultEvent
from agents.gate import ApprovalDecision
from agents.runtime import (
    ModelUnavailableError,
    PendingApprovalError,
    RunConflictError,
    Runtime,
    ThreadNotFoundError,
)
from server.redact import Redactor
from server.runs import BusyThreads
from server.slack.blocks import APPROVE_ACTION, REJECT_ACTION, answer_blocks, approval_blocks, decided_blocks
from server.slack.config import SlackConfig

__all__ = ["SlackBot"]

log = logging.getLogger("opsgraph.slack")
_MENTION = re.compile(r"<@[A-Z0-9]+>")


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


class SlackBot:
    def __init__(self, runtime: Runtime, config: SlackConfig | None = None) -> None:
        self.runtime, self.config = runtime, config or SlackConfig()
        self.principals = self.config.principals()
        runtime.tool_context.confine(runtime.settings.workspace)  # Slack users never name the server's files
        self.redact = Redactor.from_settings(runtime.settings, *self.secrets())
        self._verifier = SignatureVerifier(_secret(self.config.signing_secret) or "")
        token = _secret(self.config.bot_token)
        self.app = App(
            signing_secret=_secret(self.config.signing_secret),
            client=WebClient(token=token, base_url=self.config.api_url),
            token_verification_enabled=False,  # no call to Slack at start-up; auth.test runs on first event
            logger=log,
        )
        self._seen: deque[str] = deque(maxlen=1000)
        self._seen_lock = threading.Lock()
        self._busy = BusyThreads()  # messages in one Slack thread run in turn; a button press waits its run
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.action(APPROVE_ACTION)(self._on_decision)
        self.app.action(REJECT_ACTION)(self._on_decision)

    def secrets(self) -> list[str | None]:
        """The Slack credentials, for `server.redact`."""
        config = self.config
        return [_secret(config.bot_token), _secret(config.signing_secret), _secret(config.app_token)]

    # wiring
    def mount(self, app: FastAPI, path: str = "/slack/events") -> None:
        """Serve Slack's Events API and interactivity requests at `path`. The signature is checked before the
        body is parsed (then again by Bolt); bad input gets a 4xx and the body is never logged. The size
        limit is the server's (`server.limits`)."""

        async def slack_events(request: Request) -> Response:
            raw = await request.body()
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                return _refusal(400, "the body is not UTF-8")
            headers = request.headers
            if not self._signed(
                body, headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
            ):
                return _refusal(401, "invalid request")  # Bolt's answer, without logging the body
            try:
                bolt_request = BoltRequest(body=body, query=str(request.url.query), headers=dict(headers))
            except (
                ValueError,
                TypeError,
                AttributeError,
                KeyError,
            ) as exc:  # signed, yet not a Slack payload
                log.warning("a signed Slack request could not be parsed: %s", type(exc).__name__)
                return _refusal(400, "the body is not a Slack payload")
            bolt_response = await run_in_threadpool(self.app.dispatch, bolt_request)
            return Response(
                bolt_response.body,
                bolt_response.status,
                headers=bolt_response.first_headers_without_set_cookie(),
            )

        app.add_api_route(path, slack_events, methods=["POST"], include_in_schema=False)

    def _signed(self, body: str, timestamp: str | None, signature: str | None) -> bool:
        """Slack's v0 signature over the raw body, made less than five minutes ago."""
        if not timestamp or not timestamp.isdigit() or not signature:
            return False
        return self._verifier.is_valid(body, timestamp, signature)

    def run_socket_mode(self) -> None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        SocketModeHandler(self.app, _secret(self.config.app_token)).start()  # type: ignore[no-untyped-call]

    # listeners
    def _on_mention(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        self._chat(event, body, client)

    def _on_message(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id"):
            self._chat(event, body, client)

    def _on_decision(self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        slack_user = body["user"]["id"]
        channel = body["channel"]["id"]
        message = body.get("message", {})
        thread_ts = message.get("thread_ts") or message.get("ts")
        thread_id = str(action["value"])
        principal = self.principals.get(slack_user)
        if principal is None or not principal.can_approve or self.runtime.settings.read_only:
            why = "not mapped to an opsgraph role" if principal is None else f"role {principal.role}"
            client.chat_postEphemeral(
                channel=channel, user=slack_user, thread_ts=thread_ts,
                text=f"You may not approve changes ({why}). Ask an admin or operator.",
            )  # fmt: skip
            return
        owner = self._owner(thread_id)
        if owner is None or not self._busy.claim(thread_id, wait=30.0):
            why = "is not an opsgraph Slack thread" if owner is None else "is still busy; try again"
            client.chat_postEphemeral(channel=channel, user=slack_user, text=f"This conversation {why}.")
            return
        try:
            approval = self.runtime.pending(thread_id, user=owner)
            if approval is None:  # someone pressed a button on this card first
                client.chat_postEphemeral(
                    channel=channel, user=slack_user, text="This approval was already answered."
                )
                return
            decision: Literal["approve", "reject"] = (
                "approve" if action["action_id"] == APPROVE_ACTION else "reject"
            )
            answer = ApprovalDecision(
                decision=decision, user=principal.user, comment=f"Slack <@{slack_user}>"
            )
            try:  # claimed before the card changes: a click elsewhere (web, CLI, another server) may win
                claim = self.runtime.claim_approval(thread_id, answer, user=owner)
            except RunConflictError as exc:
                client.chat_postEphemeral(channel=channel, user=slack_user, text=f"Not run: {exc}.")
                return
            client.chat_update(
                channel=channel,
                ts=message.get("ts"),
                text=f"{decision}d",
                blocks=decided_blocks(approval, decision, slack_user),
            )
            events = self.runtime.stream_resume(thread_id, answer, user=owner, claim=claim)
            self._reply(client, channel, thread_ts, thread_id, events, placeholder_ts=None)
        finally:
            self._busy.release(thread_id)

    # the conversation
    def _chat(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        event_id = str(body.get("event_id") or event.get("client_msg_id") or event.get("ts"))
        with self._seen_lock:
            if event_id in self._seen:  # Slack retries an event it thinks was lost
                return
            self._seen.append(event_id)
        text = _MENTION.sub("", event.get("text", "")).strip()
        channel = event["channel"]
        thread_ts = event.get("thread_ts") or event["ts"]
        team = event.get("team") or body.get("team_id") or "T"
        thread_id = f"slack-{team}-{channel}-{thread_ts}"
        if not text:
            client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text="Ask me something, e.g. `list pods in payments`."
            )
            return
        principal = self.principals.get(event.get("user", ""))
        read_only = principal is None or principal.role == "readonly"
        if not self._busy.claim(thread_id, wait=30.0):
            client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text="Still working on the last request here…"
            )
            return
        try:
            placeholder = client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=":hourglass: working…"
            )
            placeholder_ts = str(placeholder.get("ts", ""))
            owner = f"slack:{team}:{channel}"
            try:
                events = self.runtime.stream(text, thread_id=thread_id, user=owner, read_only=read_only)
                self._reply(client, channel, thread_ts, thread_id, events, placeholder_ts=placeholder_ts)
            except PendingApprovalError:
                waiting = "This thread waits for the approval above: approve or reject it first."
                client.chat_update(channel=channel, ts=placeholder_ts, text=waiting)
        finally:
            self._busy.release(thread_id)

    def _reply(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str,
        thread_id: str,
        events: Iterable[Event],
        *,
        placeholder_ts: str | None,
    ) -> None:
        steps: list[str] = []
        results: list[str] = []  # tool results with an artifact, rendered (tools.present)
        blocks: list[dict[str, Any]]
        try:
            text, blocks = "", []
            for event in events:
                if isinstance(event, ToolCallEvent):
                    steps.append(f"{event.agent} → `{event.tool}`")
                elif isinstance(event, ToolResultEvent) and event.artifact is not None and event.markdown:
                    results.append(event.markdown)
                elif isinstance(event, FinalEvent):
                    shown = event.markdown or event.answer
                    if event.status == "error" and event.error:
                        shown += "\n\n" + "\n".join(f":x: {line}" for line in event.error.splitlines())
                    text, blocks = event.answer, answer_blocks(shown, steps, results)
                elif isinstance(event, InterruptEvent) and not blocks:
                    text = f"Approval needed: {event.approval.tool}"
                    blocks = approval_blocks(thread_id, event.approval)
        except (ModelUnavailableError, ThreadNotFoundError) as exc:
            why = self.redact(str(exc))
            text, blocks = f"error: {why}", answer_blocks(f":x: {why}", steps)
        if placeholder_ts is not None:
            client.chat_update(channel=channel, ts=placeholder_ts, text=text, blocks=blocks)
        else:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)

    # helpers
    def _owner(self, thread_id: str) -> str | None:
        info = self.runtime.store.thread(thread_id)
        return info.owner if info is not None and info.owner.startswith("slack:") else None


def _refusal(status: int, error: str) -> Response:
    return Response(json.dumps({"error": error}), status, media_type="application/json")
