"""The web chat page in a real headless Chromium: sign in, stream an answer, approve a scale that the
sandbox cluster applies (checked with the official kubernetes client), on a laptop and a phone.
Screenshots go to test-artifacts/.

The scale targets a Deployment `web` the test creates in its own namespace: the seeded namespaces
(shop, payments, ...) are shared by the whole session and must stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from agents.runtime import Runtime
from opsgraph.settings import Settings
from sandbox.testing import SandboxCluster
from server.app import create_app
from tests.server.live import live_server
from tests.web.conftest import ARTIFACTS
from tools.base import ToolContext
from tools.kubernetes import build_tools

pytestmark = pytest.mark.browser


@pytest.fixture
def namespace(kube_client: Any, sandbox_namespace: str) -> str:
    pod = {"containers": [{"name": "web", "image": "nginx:1.27"}]}
    template = {"metadata": {"labels": {"app": "web"}}, "spec": pod}
    spec = {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": template}
    client.AppsV1Api(kube_client).create_namespaced_deployment(
        sandbox_namespace, {"metadata": {"name": "web"}, "spec": spec}
    )
    return sandbox_namespace


@pytest.fixture
def url(tmp_path: Any, sandbox_cluster: SandboxCluster) -> Iterator[str]:
    settings = Settings(
        checkpoint_url=f"sqlite:///{tmp_path / 'web.sqlite'}", api_tokens="web-token=alice:admin"
    )
    tools: Any = {
        "kubernetes": build_tools(ToolContext(kubeconfig=sandbox_cluster.kubeconfig)),
        "iam": [],
        "cost": [],
    }
    with Runtime(settings, tools=tools) as runtime, live_server(create_app(runtime)) as base:
        yield base


def _replicas(kube_client: Any, namespace: str) -> int:
    return int(client.AppsV1Api(kube_client).read_namespaced_deployment("web", namespace).spec.replicas)


def test_chat_stream_and_approve_on_a_laptop_and_a_phone(
    browser: Any, url: str, kube_client: Any, namespace: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    laptop = browser.new_context(viewport={"width": 1280, "height": 800})
    page = laptop.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "401" not in m.text else None)
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
    pods = client.CoreV1Api(kube_client).list_namespaced_pod("payments").items
    page.locator(".turn").filter(has_text=pods[0].metadata.name).wait_for()
    step = page.locator("details.step[data-tool='list_pods']")
    assert step.locator(".state").inner_text() == "done"
    step.locator("summary").click()
    assert "payments" in step.locator("pre").first.inner_text()

    # a change waits on an approval card with the preview; Approve applies it
    page.fill("#input", f"scale deploy web to 3 in {namespace}")
    page.click("#send")
    card = page.locator(".approval")
    card.wait_for()
    assert "-  replicas: 1\n+  replicas: 3" in card.inner_text()  # the server dry run's diff
    assert "dryRun=All: accepted" in card.inner_text()
    # the write's precondition: the object and version it was previewed against, a table under one heading
    precondition = card.locator(".part").filter(has_text="precondition · objects")
    assert precondition.locator("tbody tr").first.inner_text().split()[:3] == ["Deployment", namespace, "web"]
    assert (
        page.locator("details.step[data-tool='scale_deployment'] .state").inner_text()
        == "waiting for approval"
    )
    assert _replicas(kube_client, namespace) == 1
    page.screenshot(path=str(ARTIFACTS / "web-chat-laptop-approval.png"))
    card.get_by_role("button", name="Approve").click()
    page.locator("details.step[data-tool='scale_deployment'] .state").filter(has_text="done").wait_for()
    assert _replicas(kube_client, namespace) == 3
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
    small.locator(".turn").filter(has_text=f"Deployment {namespace}/web changed").wait_for()
    assert small.locator("#menu").is_visible()
    assert not small.locator("#sidebar").is_visible() or small.locator("#sidebar").bounding_box()["x"] < 0
    assert small.evaluate("document.documentElement.scrollWidth") <= 390
    small.screenshot(path=str(ARTIFACTS / "web-chat-phone.png"))
    small.click("#menu")
    for _ in range(50):  # the menu slides in (polled here: the page's CSP forbids evaluating strings)
        if small.locator("#sidebar").bounding_box()["x"] >= 0:
            break
        small.wait_for_timeout(20)
    assert small.locator("#threads li").count() == 1
    small.screenshot(path=str(ARTIFACTS / "web-chat-phone-threads.png"))
    phone.close()
    laptop.close()
