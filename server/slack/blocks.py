"""Block Kit messages: answers, approval cards with Approve / Reject buttons, and decided cards."""

from __future__ import annotations

import json
from typing import Any

from agents.gate import ApprovalRequest

__all__ = ["APPROVE_ACTION", "REJECT_ACTION", "answer_blocks", "approval_blocks", "decided_blocks"]

APPROVE_ACTION = "opsgraph_approve"
REJECT_ACTION = "opsgraph_reject"
_LIMIT = 2900  # a section's text may hold 3000 characters


def _clip(text: str) -> str:
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def _code(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True, default=str)
    return "```" + _clip(text).replace("```", "'''") + "```"


def _call(approval: ApprovalRequest) -> str:
    args = ", ".join(f"{k}={v}" for k, v in approval.args.items())
    return f"`{approval.tool}({args})`"


def _button(action_id: str, label: str, style: str, value: str) -> dict[str, Any]:
    text = {"type": "plain_text", "text": label}
    return {"type": "button", "action_id": action_id, "style": style, "value": value, "text": text}


def answer_blocks(answer: str, steps: list[str]) -> list[dict[str, Any]]:
    blocks = [_mrkdwn(answer or "(no answer)")]
    if steps:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(" · ".join(steps))}]})
    return blocks


def approval_blocks(thread_id: str, approval: ApprovalRequest) -> list[dict[str, Any]]:
    """The card: what will change (the tool's preview), and the two buttons carrying the thread id."""
    blocks = [
        _mrkdwn(f":warning: *Approval needed* — the {approval.agent} agent wants to run {_call(approval)}")
    ]
    for key, value in approval.preview.items():
        blocks.append(_mrkdwn(f"*{key}*\n{_code(value)}"))
    buttons = [
        _button(APPROVE_ACTION, "Approve", "primary", thread_id),
        _button(REJECT_ACTION, "Reject", "danger", thread_id),
    ]
    blocks.append({"type": "actions", "block_id": "opsgraph_decision", "elements": buttons})
    return blocks


def decided_blocks(approval: ApprovalRequest, decision: str, slack_user: str) -> list[dict[str, Any]]:
    """The card after a decision: the buttons are gone, so nobody can click twice."""
    mark = ":white_check_mark: Approved" if decision == "approve" else ":no_entry: Rejected"
    return [_mrkdwn(f"{mark} by <@{slack_user}>: {_call(approval)}")]
