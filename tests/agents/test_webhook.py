"""The webhook sink against a real local HTTP server (aiohttp on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timezone

import orjson
import pytest
from aiohttp import web

from agents.webhook import WebhookSink
from pipeline.records import Alert, AlertFact

NOW = datetime(2026, 8, 15, 7, 15, tzinfo=timezone.utc)


def alert(number: int) -> Alert:
    return Alert(id=f"alert-{number}", rule="deaths-reported", severity="warning",
                 story_id="s-1", article_id=f"a-{number}", headline="Floods kill 12",
                 facts=(AlertFact("casualties", "killed >= 10"),), created_at=NOW)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Receiver:
    """A local endpoint that can fail, be slow, or be down."""

    def __init__(self, port: int, fail_first: int = 0, delay: float = 0.0) -> None:
        self.port, self.fail_first, self.delay = port, fail_first, delay
        self.calls = 0
        self.received: list[dict[str, object]] = []
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.calls <= self.fail_first:
            return web.Response(status=503)
        self.received.append(orjson.loads(await request.read()))
        assert request.headers["Idempotency-Key"] == self.received[-1]["id"]
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def deliver(sink: WebhookSink, alerts: list[Alert], timeout: float = 20) -> list[str]:
    outcomes: list[str] = []
    sink.on_outcome = outcomes.append
    task = asyncio.create_task(sink.run())
    for each in alerts:
        sink.offer(each)
    try:
        await asyncio.wait_for(sink.queue.join(), timeout)
    finally:
        task.cancel()
    return outcomes


async def test_alerts_are_posted_in_order_as_json() -> None:
    receiver = Receiver(free_port())
    await receiver.start()
    try:
        sink = WebhookSink(f"http://127.0.0.1:{receiver.port}/hook")
        assert await deliver(sink, [alert(1), alert(2)]) == ["delivered", "delivered"]
        assert [r["id"] for r in receiver.received] == ["alert-1", "alert-2"]
    finally:
        await receiver.stop()


async def test_a_failing_endpoint_is_retried_with_backoff() -> None:
    receiver = Receiver(free_port(), fail_first=2)
    await receiver.start()
    try:
        sink = WebhookSink(f"http://127.0.0.1:{receiver.port}/hook", backoff=0.05)
        assert await deliver(sink, [alert(1)]) == ["delivered"]
        assert receiver.calls == 3
    finally:
        await receiver.stop()


async def test_an_endpoint_that_is_down_then_comes_up_gets_the_alert() -> None:
    port = free_port()
    receiver = Receiver(port)
    sink = WebhookSink(f"http://127.0.0.1:{port}/hook", backoff=0.2, attempts=10)
    outcomes: list[str] = []
    sink.on_outcome = outcomes.append
    task = asyncio.create_task(sink.run())
    sink.offer(alert(1))
    await asyncio.sleep(0.5)  # a few refused connections
    await receiver.start()
    try:
        await asyncio.wait_for(sink.queue.join(), 20)
        assert outcomes == ["delivered"] and receiver.received
    finally:
        task.cancel()
        await receiver.stop()


async def test_a_slow_endpoint_times_out_and_is_given_up_without_blocking_offers() -> None:
    receiver = Receiver(free_port(), delay=2.0)
    await receiver.start()
    try:
        sink = WebhookSink(f"http://127.0.0.1:{receiver.port}/hook", timeout=0.2, attempts=2,
                           backoff=0.05)
        loop = asyncio.get_running_loop()
        started = loop.time()
        outcomes_task = asyncio.create_task(deliver(sink, [alert(1), alert(2)]))
        await asyncio.sleep(0)
        # offer() returned at once: the stream never waits for the endpoint.
        assert loop.time() - started < 0.1
        assert await outcomes_task == ["failed", "failed"]
        assert receiver.calls == 4
    finally:
        await receiver.stop()


def test_a_full_queue_drops_the_oldest_and_says_so() -> None:
    sink = WebhookSink("http://127.0.0.1:9/hook", queue_size=2)
    outcomes: list[str] = []
    sink.on_outcome = outcomes.append
    for number in range(3):
        sink.offer(alert(number))
    assert outcomes == ["dropped"]
    assert [sink.queue.get_nowait().id for _ in range(2)] == ["alert-1", "alert-2"]


@pytest.mark.parametrize("status", [400, 404])
async def test_a_client_error_is_not_retried(status: int) -> None:
    port = free_port()
    app = web.Application()
    calls = []

    async def refuse(request: web.Request) -> web.Response:
        calls.append(1)
        return web.Response(status=status)

    app.router.add_post("/hook", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        sink = WebhookSink(f"http://127.0.0.1:{port}/hook", backoff=0.01)
        assert await deliver(sink, [alert(1)]) == ["failed"]
        assert len(calls) == 1
    finally:
        await runner.cleanup()
