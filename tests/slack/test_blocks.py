"""What Slack shows: Markdown answers as mrkdwn (tables aligned in code blocks, no HTML, no forged
mentions), and approval cards with the whole diff however long, within Block Kit's limits."""

from __future__ import annotations

import html
import json

from agents.gate import ApprovalRequest
from server.slack.blocks import MAX_BLOCKS, answer_blocks, approval_blocks
from server.slack.mrkdwn import SECTION_LIMIT, mrkdwn_sections, to_mrkdwn


def _texts(blocks: list[dict[str, object]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]  # type: ignore[index]


def test_markdown_becomes_mrkdwn() -> None:
    md = (
        "## Pods\n\n**2** pods, one *failing*: see [the runbook](https://example.com/rb) or "
        "[this](javascript:alert(1)).\n\n"
        "| pod | restarts |\n|---|---:|\n| web-1 | 0 |\n| checkout-2 | 12 |\n\n"
        "- first\n- second\n  - nested\n\n<!channel> & <@U123>"
    )
    blocks = to_mrkdwn(md)
    assert blocks[0] == "*Pods*"
    assert blocks[1].startswith("*2* pods, one _failing_: see <https://example.com/rb|the runbook> or ")
    assert "<javascript" not in blocks[1]  # an unsafe link is not a link
    assert blocks[2] == "```\npod         restarts\n----------  --------\nweb-1       0\ncheckout-2  12\n```"
    assert blocks[3] == "• first\n• second\n    ◦ nested"
    assert blocks[4] == "&lt;!channel&gt; &amp; &lt;@U123&gt;"  # cannot mention anyone


def test_a_long_diff_is_split_over_sections_and_nothing_is_cut() -> None:
    lines = [f"-  line {n}: old value that is fairly long to fill the section" for n in range(120)]
    lines += [f"+  line {n}: new value that is fairly long to fill the section" for n in range(120)]
    diff = "--- a\n+++ b\n@@ -1,120 +1,120 @@\n" + "\n".join(lines)
    request = ApprovalRequest(
        agent="kubernetes",
        tool="set_env",
        args={"name": "web", "namespace": "shop"},
        preview={"summary": "Deployment shop/web changed", "diff": diff, "dry_run": "accepted"},
        reason="alice edited the call: this is the dry run of the edited arguments",
    )
    blocks = approval_blocks("t1", request)
    texts = _texts(blocks)
    assert len(texts) > 3 and all(len(t) <= 3000 for t in texts)
    shown = html.unescape("\n".join(texts))
    assert all(line in shown for line in lines)  # every line of the diff is on the card
    assert "asked again" in texts[0] and "edited the call" in texts[0]
    assert blocks[-1]["type"] == "actions"
    assert all(t.count("```") % 2 == 0 for t in texts)  # each part is a closed code block


def test_answers_show_rendered_results_and_stay_within_block_kit_limits() -> None:
    table = "| pod | status |\n|---|---|\n" + "\n".join(f"| web-{n} | Running |" for n in range(600))
    blocks = answer_blocks("All pods run.", ["kubernetes → `list_pods`"], [table])
    assert _texts(blocks)[0].startswith("```\npod") and "web-599" in json.dumps(blocks)
    assert _texts(blocks)[-1] == "All pods run."
    many = answer_blocks("Done.", ["cost → `optimize_cost`"], [f"**result {n}**" for n in range(80)])
    assert len(many) == MAX_BLOCKS <= 50
    assert many[-2]["type"] == "context" and "the rest" in json.dumps(many[-2])  # said, not dropped
    assert many[-1]["type"] == "context" and "optimize_cost" in json.dumps(many[-1])
    assert mrkdwn_sections("x" * (SECTION_LIMIT * 2)) == ["x" * SECTION_LIMIT] * 2
