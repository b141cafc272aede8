"""What a person sees of the IAM checks and lint in the web chat page (real headless Chromium): the
verdict, the counterexample and the statements that grant it, with the fence markers off the answer.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.runtime import Runtime
from opsgraph.settings import Settings
from server.app import create_app
from tests.server.live import live_server
from tests.web.conftest import ARTIFACTS, browser  # noqa: F401  (the Chromium fixture)
from tools.base import ToolContext
from tools.iam import build_tools

pytestmark = pytest.mark.browser

BUCKET = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Website",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::site/*",
        }
    ],
}


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "bucket.json").write_text(json.dumps(BUCKET, indent=2))
    settings = Settings(
        checkpoint_url=f"sqlite:///{tmp_path / 'web.sqlite'}", api_tokens="web-token=alice:admin"
    )
    tools: Any = {"kubernetes": [], "iam": build_tools(ToolContext(workdir=tmp_path)), "cost": []}
    with Runtime(settings, tools=tools) as runtime, live_server(create_app(runtime)) as base:
        yield base


def test_a_public_bucket_and_its_lint_in_the_chat(browser: Any, url: str) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    page.add_init_script("localStorage.setItem('opsgraph.token', 'web-token')")
    page.goto(url)
    page.fill("#input", "check that policy bucket.json is not public")
    page.keyboard.press("Enter")
    # the check's result, rendered from its artifact where the answer would be (the offline model's answer
    # only repeats it, so the page leaves that out)
    result = page.locator(".md.result").filter(has_text="FAIL")
    result.wait_for()
    text = result.inner_text()
    assert "no-public-access" in text and "bucket.json" in text
    assert "arn:aws:iam::999988887770:user/outsider" in text  # the counterexample
    granted = result.locator("table tr").filter(has_text="Website").inner_text()
    assert "/Statement/0" in granted and "s3:GetObject" in granted  # the statement that grants it, and why
    page.locator("details.step[data-tool='check_no_public_access'] summary").click()
    page.fill("#input", "lint policy bucket.json")
    page.keyboard.press("Enter")
    page.locator(".md.result").filter(has_text="no findings").wait_for()
    shown = page.locator("#log").inner_text()
    assert "untrusted data" not in shown and "<<" not in shown  # no fence marker reaches a person
    page.screenshot(path=str(ARTIFACTS / "web-iam-check.png"), full_page=True)
