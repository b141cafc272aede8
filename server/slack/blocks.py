"""Block Kit messages: answers, approval cards with Approve / Reject buttons, and decided cards.

What people read is Markdown (the answer, tool results through `tools.present`), turned into Slack mrkdwn
by `server.slack.mrkdwn`: nothing is cut at a character count, long parts go into several sections.
"""

from __future__ import annotations

import json
from typing import Any

from agents.gate import ApprovalRequest
from server.slack.mrkdwn import mrkdwn_sections
from tools.markdown import code, escape, json_markdown

__all__ = ["APPROVE_ACTION", "REJECT_ACTION", "answer_blocks", "approval_blocks", "decided_blocks"]

APPROVE_ACTION = "opsgraph_approve"
REJECT_ACTION = "opsgraph_reject"
MAX_BLOCKS = 48
"""Slack takes 50 blocks per message; the last ones left say that the rest is in the web page/CLI."""


def _sections(markdown: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in mrkdwn_sections(markdown)]


def _call(approval: ApprovalRequest) -> str:
    args = ", ".join(f"{k}={v}" for k, v in approval.args.items() if v is not None)
    return f"`{approval.tool}({args})`"


def _button(action_id: str, label: str, style: str, value: str) -> dict[str, Any]:
    text = {"type": "plain_text", "text": label}
    return {"type": "button", "action_id": action_id, "style": style, "value": value, "text": text}


def _capped(blocks: list[dict[str, Any]], keep_last: int = 0) -> list[dict[str, Any]]:
    """At most MAX_BLOCKS blocks; what is left out is said, and the last `keep_last` (buttons) stay."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    tail = blocks[len(blocks) - keep_last :] if keep_last else []
    head = blocks[: MAX_BLOCKS - 1 - keep_last]
    note = {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": "… the rest is in the thread's web page or `opsgraph threads show`"}
        ],
    }
    return [*head, note, *tail]


def answer_blocks(answer: str, steps: list[str], results: list[str] | None = None) -> list[dict[str, Any]]:
    """The answer (Markdown) as sections, after the rendered tool results that have an artifact, with the
    steps as a context line."""
    blocks: list[dict[str, Any]] = []
    for shown in results or []:
        blocks += _sections(shown)
    blocks += _sections(answer) or _sections("(no answer)")
    if steps:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(steps)[:2900]}]})
    return _capped(blocks, keep_last=1 if steps else 0)


def _fact(label: str, value: str) -> str:
    return f"**{label}**  {value}"


def approval_blocks(thread_id: str, approval: ApprovalRequest) -> list[dict[str, Any]]:
    """The card: what will run and on what, the dry run, every preview part in full (diffs in code
    blocks, split over sections when long), and the two buttons carrying the thread id."""
    preview = dict(approval.preview)
    facts = [f":warning: **Approval needed** — the {approval.agent} agent wants to run {_call(approval)}"]
    if approval.reason:  # asked again: the arguments were edited, or the target changed since
        facts.append(_fact("asked again", escape(approval.reason)))
    if "summary" in preview:
        facts.append(_fact("change", escape(str(preview.pop("summary")))))
    args = approval.args
    target = args.get("name") or args.get("workload")
    if target:
        facts.append(
            _fact("target", f"`{args['namespace']}/{target}`" if args.get("namespace") else f"`{target}`")
        )
    if "dry_run" in preview:
        value = str(preview.pop("dry_run"))
        facts.append(
            _fact("dry run", f"{':white_check_mark: ' if 'accepted' in value else ''}{escape(value)}")
        )
    if "error" in preview:
        facts.append(_fact("dry run", f":x: failed: {escape(str(preview.pop('error')))}"))
    markdown = ["\n".join(facts)]
    for key, value in preview.items():
        label = f"**{key.replace('_', ' ')}**"
        if isinstance(value, str) and ("diff" in key or "\n" in value):
            markdown.append(f"{label}\n\n{code(value or '(no change)', 'diff')}")
        elif isinstance(value, str):
            markdown.append(f"{label}: {escape(value)}")
        else:
            markdown.append(f"{label}\n\n{json_markdown(json.loads(json.dumps(value, default=str)))}")
    blocks = _sections("\n\n".join(markdown))
    buttons = [
        _button(APPROVE_ACTION, "Approve", "primary", thread_id),
        _button(REJECT_ACTION, "Reject", "danger", thread_id),
    ]
    blocks.append({"type": "actions", "block_id": "opsgraph_decision", "elements": buttons})
    return _capped(blocks, keep_last=1)


def decided_blocks(approval: ApprovalRequest, decision: str, slack_user: str) -> list[dict[str, Any]]:
    """The card after a decision: the buttons are gone, so nobody can click twice."""
    mark = ":white_check_mark: Approved" if decision == "approve" else ":no_entry: Rejected"
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"{mark} by <@{slack_user}>: {_call(approval)}"},
        }
    ]
