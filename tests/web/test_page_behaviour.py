"""The chat page's behaviour in headless Chromium, over tools written for it (a test double of a cluster):
Markdown shown safely, tables that scroll on a phone, the composer closed while a change waits, a stale
approval card in a second tab, human error messages, and the Stop button.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain_core.tools import StructuredTool

from agents.runtime import Runtime
from opsgraph.settings import Settings
from server.app import create_app
from tests.server.live import live_server
from tests.web.conftest import ARTIFACTS
from tools.base import fence, mark_mutating

pytestmark = pytest.mark.browser

HOSTILE = (
    "## Pods\n\n"
    "<img src=x onerror=\"document.title='pwned'\"> <b>not bold</b> "
    "[a link](javascript:document.title='pwned') and [docs](https://example.com/docs)\n\n"
    "| pod | status | restarts | node | image |\n|---|---|---:|---|---|\n"
    + "\n".join(
        f"| web-{n}-with-a-long-generated-suffix | CrashLoopBackOff | {n * 7} | worker-{n} | registry.example.com/shop/web:1.{n}.0 |"
        for n in range(6)
    )
)


@dataclass
class PageCluster:
    """The cluster the page talks to in these tests: recorded calls, a slow namespace, hostile text."""

    replicas: dict[str, int] = field(default_factory=lambda: {"shop/web": 1})
    calls: list[str] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)

    def tools(self) -> dict[str, list[Any]]:
        def list_pods(namespace: str = "default") -> tuple[str, dict[str, Any]]:
            """List the pods of a namespace."""
            self.calls.append(namespace)
            if namespace.startswith("slow"):
                self.started.set()
                time.sleep(1.5)
            if namespace == "hostile":
                return fence("pods in hostile", HOSTILE), {"kind": "test.hostile", "markdown": HOSTILE}
            return fence(f"pods in {namespace}", f"NAME  STATUS\nweb-1  Running in {namespace}"), None  # type: ignore[return-value]

        def scale_deployment(name: str, replicas: int, namespace: str = "default") -> str:
            """Scale a deployment."""
            self.replicas[f"{namespace}/{name}"] = replicas
            return f"deployment {namespace}/{name} scaled to {replicas}"

        def preview(args: dict[str, Any]) -> dict[str, Any]:
            before = self.replicas.get(f"{args.get('namespace', 'default')}/{args['name']}")
            diff = (
                f"--- deployment/{args['name']} (current)\n+++ deployment/{args['name']} (after)\n"
                f"@@ -1,2 +1,2 @@\n spec:\n-  replicas: {before}\n+  replicas: {args['replicas']}"
            )
            return {"summary": f"Deployment {args['name']} changed", "diff": diff, "dry_run": "accepted"}

        pods = StructuredTool.from_function(list_pods, response_format="content_and_artifact")
        scale = mark_mutating(StructuredTool.from_function(scale_deployment), preview)
        return {"kubernetes": [pods, scale], "iam": [], "cost": []}


@pytest.fixture
def cluster() -> PageCluster:
    from tools.present import presenter

    presenter("test.hostile")(lambda artifact: str(artifact["markdown"]))
    return PageCluster()


@pytest.fixture
def url(tmp_path: Any, cluster: PageCluster) -> Iterator[str]:
    settings = Settings(
        checkpoint_url=f"sqlite:///{tmp_path / 'web.sqlite'}", api_tokens="web-token=alice:admin"
    )
    tools: Any = cluster.tools()
    with Runtime(settings, tools=tools) as runtime, live_server(create_app(runtime)) as base:
        yield base


def _page(browser: Any, url: str, width: int = 1280, height: int = 800) -> Any:
    mobile = width < 500
    context = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=mobile, has_touch=mobile
    )
    context.add_init_script("localStorage.setItem('opsgraph.token', 'web-token')")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(url)
    page.locator("#whoami").filter(has_text="alice").wait_for()
    return page


def _send(page: Any, text: str) -> None:
    page.fill("#input", text)
    page.keyboard.press("Enter")


def test_markdown_is_shown_safely_and_tables_scroll_on_a_phone(browser: Any, url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = _page(browser, url)
    _send(page, "list pods in hostile")
    result = page.locator(".md.result")
    result.locator("table").wait_for()
    assert page.locator(".turn img").count() == 0 and page.locator(".turn b").count() == 0
    assert "<b>not bold</b>" in result.inner_text()  # shown as the text it is
    hrefs = result.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["https://example.com/docs"]  # the javascript: link is plain text
    assert page.title() == "opsgraph"
    assert "<<untrusted" not in page.locator("#log").inner_text()
    assert result.locator("th").all_inner_texts()[:2] == ["pod", "status"]
    assert result.locator("td.r").first.inner_text() == "0"  # numbers right-aligned
    page.screenshot(path=str(ARTIFACTS / "web-markdown-laptop.png"))

    phone = _page(browser, page.url, width=390, height=844)
    table = phone.locator(".md.result .table-wrap")
    table.wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    wrap = table.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert wrap[0] > wrap[1], "the wide table scrolls inside its box"
    phone.screenshot(path=str(ARTIFACTS / "web-markdown-phone.png"))
    phone.context.close()
    page.context.close()


def _scale_card(page: Any) -> Any:
    """Ask for a scale of `web` to 3 and wait for its approval card."""
    _send(page, "scale deploy web to 3 in shop")
    card = page.locator(".approval").first
    card.wait_for()
    assert "+  replicas: 3" in card.inner_text() and "✓ accepted" in card.inner_text()
    return card


def test_a_waiting_change_closes_the_composer_and_a_stale_card_says_so(
    browser: Any, url: str, cluster: PageCluster
) -> None:
    first = _page(browser, url)
    card = _scale_card(first)
    assert first.locator("#input").is_disabled()
    assert "Answer the change above first" in (first.locator("#input").get_attribute("placeholder") or "")
    first.screenshot(path=str(ARTIFACTS / "web-approval-waiting.png"))

    second = _page(browser, first.url)  # the same thread in another tab
    stale = second.locator(".approval")
    stale.wait_for()
    card.get_by_role("button", name="Approve").click()
    first.locator(".decided").filter(has_text="✓ Approved by alice").wait_for()
    first.locator(".answer").filter(has_text="scaled to 3").wait_for()
    assert not first.locator("#input").is_disabled()
    assert cluster.replicas["shop/web"] == 3

    stale.get_by_role("button", name="Approve").click()
    message = stale.locator(".stale")
    message.wait_for()
    second.screenshot(path=str(ARTIFACTS / "web-stale-approval-message.png"))
    assert "answered in another tab" in message.inner_text()
    assert stale.locator(".decided").count() == 0  # never "✓ Approved" over a refusal
    assert "/v1/" not in second.locator("#log").inner_text()
    second.locator(".answer").filter(has_text="scaled to 3").wait_for()  # the thread reloads
    assert second.locator(".approval .actions button").count() == 0
    second.screenshot(path=str(ARTIFACTS / "web-stale-approval-reloaded.png"))
    second.context.close()
    first.context.close()


def test_edit_sends_new_arguments_for_a_new_preview(browser: Any, url: str, cluster: PageCluster) -> None:
    page = _page(browser, url)
    card = _scale_card(page)
    card.get_by_role("button", name="Edit…").click()
    area = card.locator("textarea.edit-args")
    area.fill('{"name": "web", "replicas": "many"')
    card.get_by_role("button", name="Preview").click()
    assert "not JSON" in card.locator(".error").inner_text()
    area.fill('{"name": "web", "replicas": 5, "namespace": "shop"}')
    card.get_by_role("button", name="Preview").click()
    card.locator(".decided").filter(has_text="Edited by alice").wait_for()
    again = page.locator(".approval").nth(1)  # the gate previews the edited call and asks again
    again.wait_for()
    assert "edited the call" in again.inner_text() and "+  replicas: 5" in again.inner_text()
    assert cluster.replicas["shop/web"] == 1
    page.screenshot(path=str(ARTIFACTS / "web-edit-asked-again.png"))
    again.get_by_role("button", name="Approve").click()
    page.locator(".answer").filter(has_text="scaled to 5").wait_for()
    assert cluster.replicas["shop/web"] == 5
    page.context.close()


def test_stop_ends_the_run_between_steps_and_the_thread_goes_on(
    browser: Any, url: str, cluster: PageCluster
) -> None:
    page = _page(browser, url)
    _send(page, "list pods in slow-a and list pods in slow-b")
    page.locator("#stop").wait_for(state="visible")
    assert cluster.started.wait(10)
    page.click("#stop")
    page.locator(".answer").filter(has_text="Stopped by alice").wait_for()
    assert cluster.calls == ["slow-a"], "the run stopped before its second step"
    assert page.locator("#stop").is_hidden() and not page.locator("#send").is_disabled()
    _send(page, "list pods in shop")
    page.locator(".answer").filter(has_text="Running in shop").wait_for()
    assert page.locator(".dot.error").count() == 0  # a stopped run is not a failed thread
    page.screenshot(path=str(ARTIFACTS / "web-stopped.png"))
    page.context.close()
