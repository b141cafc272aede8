"""The web chat page in a real headless Chromium: sign in, stream an answer, approve a scale, on a laptop
and a phone. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agents.runtime import Runtime
from opsgraph.settings import Settings
from server.app import create_app
from tests.agents.recording_tools import RecordingCluster
from tests.server.live import live_server
from tests.web.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.fixture
def cluster() -> RecordingCluster:
    return RecordingCluster()


@pytest.fixture
def url(tmp_path: Any, cluster: RecordingCluster) -> Iterator[str]:
    settings = Settings(
        checkpoint_url=f"sqlite:///{tmp_path / 'web.sqlite'}", api_tokens="web-token=alice:admin"
    )
    with Runtime(settings, tools=cluster.tools()) as runtime, live_server(create_app(runtime)) as base:
        yield base


def test_chat_stream_and_approve_on_a_laptop_and_a_phone(
    browser: Any, url: str, cluster: RecordingCluster
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    laptop = browser.new_context(viewport={"width": 1280, "height": 800})
    page = laptop.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url)

    # the server wants a token: the page asks for one
    page.locator("#login").wait_for(state="visible")
    page.fill("#token", "web-token")
    page.click("#login-form button")
    page.locator("#login").wait_for(state="hidden")
    assert page.locator("#whoami").inner_text() == "alice · admin"

    # a read streams its answer, with the tool call as a collapsible step
    page.fill("#input", "list pods in payments")
    page.keyboard.press("Enter")
    page.locator(".answer").filter(has_text="payments: web-1 Running").wait_for()
    step = page.locator("details.step[data-tool='list_pods']")
    assert step.locator(".state").inner_text() == "done"
    step.locator("summary").click()
    assert "payments" in step.locator("pre").first.inner_text()

    # a change waits on an approval card with the preview; Approve applies it
    page.fill("#input", "scale deploy web to 3 in shop")
    page.click("#send")
    card = page.locator(".approval")
    card.wait_for()
    assert "spec.replicas: 1 -> 3" in card.inner_text()
    assert (
        page.locator("details.step[data-tool='scale_deployment'] .state").inner_text()
        == "waiting for approval"
    )
    assert cluster.replicas["shop/web"] == 1
    page.screenshot(path=str(ARTIFACTS / "web-chat-laptop-approval.png"))
    card.get_by_role("button", name="Approve").click()
    page.locator(".answer").filter(has_text="scaled to 3").wait_for()
    assert cluster.replicas["shop/web"] == 3
    assert card.locator(".decided").inner_text() == "✓ Approved by alice"
    scale = page.locator("details.step[data-tool='scale_deployment']")
    assert scale.count() == 1  # the resumed run finishes the step it paused
    assert scale.locator(".state").inner_text() == "done"
    page.screenshot(path=str(ARTIFACTS / "web-chat-laptop.png"))
    thread_url = page.url
    assert "#" in thread_url
    assert page.locator("#threads li").count() == 1
    assert all(u.startswith(url) for u in requested), "the page must load nothing from other hosts"
    assert errors == []

    # the same thread on a phone: the thread list hides behind the menu, nothing overflows sideways
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.add_init_script("localStorage.setItem('opsgraph.token', 'web-token')")
    small = phone.new_page()
    small.goto(thread_url)
    small.locator(".answer").filter(has_text="scaled to 3").wait_for()
    assert small.locator("#menu").is_visible()
    assert not small.locator("#sidebar").is_visible() or small.locator("#sidebar").bounding_box()["x"] < 0
    assert small.evaluate("document.documentElement.scrollWidth") <= 390
    small.screenshot(path=str(ARTIFACTS / "web-chat-phone.png"))
    small.click("#menu")
    small.wait_for_function("document.getElementById('sidebar').getBoundingClientRect().x >= 0")
    assert small.locator("#threads li").count() == 1
    small.screenshot(path=str(ARTIFACTS / "web-chat-phone-threads.png"))
    phone.close()
    laptop.close()
