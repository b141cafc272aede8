"""How runs are scheduled: the start event says at once whether a run waits for a worker, and runs step
aside between their events while a request waits for its answer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

from agents.events import Event, FinalEvent, RouteEvent, StartEvent
from server.metrics import Metrics
from server.runs import BusyThreads, Foreground, PreparedRun, RunPump, RunRequest
from tests.server.conftest import Served


class _ScriptedRuntime:
    """Stands in for `Runtime` (test double): every run routes, then answers, once `gate` opens."""

    def __init__(self, gate: threading.Event | None) -> None:
        self.gate = gate

    def stream(self, text: str, *, thread_id: str, **_: object) -> Iterator[Event]:
        if self.gate is not None:
            assert self.gate.wait(10)
        yield RouteEvent(agents=["kubernetes"])
        yield FinalEvent(thread_id=thread_id, answer="done")


def _run(thread_id: str, gate: threading.Event | None = None) -> PreparedRun:
    busy = BusyThreads()
    assert busy.claim(thread_id)
    request = RunRequest("message", thread_id, "local", text="list pods")
    return PreparedRun(request, _ScriptedRuntime(gate), busy)  # type: ignore[arg-type]


async def _until(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_the_start_event_comes_first_and_says_whether_the_run_waits_for_a_worker() -> None:
    async def scenario() -> tuple[list[Event], list[Event]]:
        pump = RunPump(Metrics(), workers=1)
        gate = threading.Event()
        first = pump.stream(_run("t1", gate))
        head = await anext(first)
        assert head == StartEvent(thread_id="t1", queued=0)
        await _until(lambda: pump.running == 1)  # t1 holds the only worker
        second = pump.stream(_run("t2"))
        assert await anext(second) == StartEvent(thread_id="t2", queued=1)
        gate.set()
        rest_one = [e async for e in first]
        rest_two = [e async for e in second]
        pump.close()
        return rest_one, rest_two

    rest_one, rest_two = asyncio.run(scenario())
    assert [e.type for e in rest_one] == ["route", "final"]
    assert [e.type for e in rest_two] == ["route", "final"]


def test_runs_step_aside_while_a_request_waits_for_its_answer() -> None:
    async def scenario() -> None:
        foreground = Foreground()
        pump = RunPump(Metrics(), workers=2, foreground=foreground)
        foreground.enter()  # a request is being answered
        events = pump.stream(_run("t1"))
        assert (await anext(events)).type == "start"  # the server's own event does not wait
        waiting = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.1)
        assert not waiting.done()  # the run's first step waits for the request
        foreground.leave()
        assert (await asyncio.wait_for(waiting, 10)).type == "route"
        assert [e.type async for e in events] == ["final"]
        pump.close()

    asyncio.run(scenario())


def test_a_run_never_waits_longer_than_its_step_aside_limit() -> None:
    foreground = Foreground()
    foreground.enter()
    started = time.perf_counter()
    assert foreground.wait_clear(timeout=0.05) is False
    assert time.perf_counter() - started >= 0.05
    foreground.leave()
    assert foreground.wait_clear(timeout=5) is True
    assert foreground.count == 0


def test_the_startup_heap_is_frozen_once_per_process(served: Served) -> None:
    import gc

    from server.heap import freeze_startup_heap

    assert served.client.get("/healthz").status_code == 200  # the app has started (and frozen the heap)
    assert gc.get_freeze_count() > 10_000  # the imported libraries, the graph, the tools
    assert freeze_startup_heap() is False  # a second app in the same process freezes nothing more
