"""What the terminal shows: the approval screen (every fact, the whole diff wrapped and never cut, structured
preview parts as tables, the dry run's outcome, why a change is asked again) and Markdown tables in answers
whose long cells wrap instead of being cut."""

from __future__ import annotations

import json

from rich.console import Console

from agents.gate import ApprovalRequest
from opsgraph.render import Where, approval_screen, markdown

LONG = "image: registry.example.com/shop/frontend:" + "9" * 90
PREVIEW = {
    "summary": "Deployment shop/frontend changed",
    "dry_run": "server-side dryRun=All: accepted",
    "diff": (
        "--- deployment/frontend (current)\n+++ deployment/frontend (after)\n@@ -10,3 +10,3 @@\n spec:\n"
        f"-  replicas: 3\n+  replicas: 4\n   {LONG}"
    ),
    "precondition": {"objects": [{"kind": "Deployment", "name": "frontend", "resourceVersion": "91"}]},
}


def _screen(request: ApprovalRequest, width: int) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(approval_screen(request, Where("sandbox (local demo cluster)", "alice")))
    return console.export_text()


def test_the_screen_shows_the_facts_the_whole_diff_and_a_table() -> None:
    request = ApprovalRequest(
        tool="scale_deployment",
        agent="kubernetes",
        args={"name": "frontend", "replicas": 4, "namespace": "shop"},
        preview=PREVIEW,
    )
    for width in (120, 60):
        screen = _screen(request, width)
        lines = [line.strip("│ ") for line in screen.splitlines()]
        for fact in ("target     shop/frontend", "asked by   alice", "dry run    ✓ server-side dryRun=All"):
            assert any(line.startswith(fact) for line in lines), screen
        assert "+  replicas: 4" in lines and "-  replicas: 3" in lines
        assert "9" * 90 in "".join(lines)  # a long line wraps inside the panel: every character is there
        heading = lines.index("precondition · objects")
        assert lines[heading + 1].split()[:2] == ["kind", "name"], screen  # the table right under it
        assert "{" not in screen and '"' not in screen  # no JSON for people


def test_a_failed_dry_run_and_a_second_asking_say_so() -> None:
    request = ApprovalRequest(
        tool="scale_deployment",
        agent="kubernetes",
        args={"name": "nope", "replicas": 2, "namespace": "shop"},
        preview={"error": "404 deployments.apps nope not found"},
        reason="alice edited the call: this is the dry run of the edited arguments",
    )
    screen = _screen(request, 100)
    assert "asked again: alice edited the call" in screen
    assert "✗ failed: 404 deployments.apps nope not found" in screen


def test_a_table_cell_too_long_for_its_column_wraps_and_stays_whole() -> None:
    path = "examples/policies/s3-read-write-with-a-very-long-name.json"
    table = f"| allowed by | denied by |\n|---|---|\n| {path} | examples/policies/s3-read.json |"
    console = Console(width=50, record=True, color_system=None)
    console.print(markdown(table))
    shown = console.export_text()
    assert "…" not in shown
    assert path in "".join(line.strip().split("  ")[0] for line in shown.splitlines()), shown


def test_a_failed_tool_s_line_is_plain_text_in_red() -> None:
    """The 1.5B model's region-less ARN came back as `↳ - error: ValueError: ... (or \\*) ...instance/\\*`:
    the Markdown bullet, the escapes and the exception's class shown to a person."""
    from agents.events import ToolResultEvent
    from opsgraph.render import _result_line
    from tools.present import readable

    content = json.dumps(
        {"error": "/allow/0/resource: ec2 ARNs need a region (or *); 'arn:aws:ec2:::instance/*' has none"}
    )
    event = ToolResultEvent(
        agent="iam", id="c", tool="synthesize_policy", content=content, markdown=readable(content)
    )
    shown = _result_line(event)
    console = Console(width=200, record=True, color_system=None)
    console.print(shown)
    line = console.export_text().strip()
    assert (
        line
        == "↳ error: /allow/0/resource: ec2 ARNs need a region (or *); 'arn:aws:ec2:::instance/*' has none"
    )
    assert getattr(shown, "style", None) == "red"  # a failure
