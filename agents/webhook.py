"""The webhook sink: POST every alert as JSON to ``WIREWATCH_WEBHOOK_URL``.

It never blocks the stream: the alerts agent only puts the alert in a bounded
queue; a background task delivers it with a per-attempt timeout and retries
with exponential backoff. If the endpoint is down for long, the queue fills
and the oldest undelivered alerts are dropped (and counted): the alerts topic
stays the record of truth, the webhook is a convenience.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aiohttp

from pipeline.codec import to_bytes
from pipeline.records import Alert

log = logging.getLogger(__name__)


class WebhookSink:
    """Deliver alerts to one URL, in order, in the background."""

    def __init__(self, url: str, timeout: float = 5.0, attempts: int = 5,
                 backoff: float = 0.5, max_backoff: float = 30.0, queue_size: int = 10_000,
                 on_outcome: Callable[[str], None] | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.queue: asyncio.Queue[Alert] = asyncio.Queue(queue_size)
        self.on_outcome = on_outcome or (lambda outcome: None)

    def offer(self, alert: Alert) -> None:
        """Queue ``alert`` for delivery; never waits."""
        if self.queue.full():
            dropped = self.queue.get_nowait()
            self.on_outcome("dropped")
            log.warning("webhook: queue full, dropped alert %s", dropped.id)
        self.queue.put_nowait(alert)

    async def run(self) -> None:
        """Deliver queued alerts until cancelled."""
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                alert = await self.queue.get()
                outcome = await self._deliver(session, alert)
                self.on_outcome(outcome)
                self.queue.task_done()

    async def _deliver(self, session: aiohttp.ClientSession, alert: Alert) -> str:
        body = to_bytes(alert)
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                async with session.post(self.url, data=body, headers={
                        "Content-Type": "application/json", "Idempotency-Key": alert.id}) as reply:
                    if reply.status < 300:
                        return "delivered"
                    problem = f"HTTP {reply.status}"
                    if 400 <= reply.status < 500 and reply.status not in (408, 429):
                        log.error("webhook: %s refused alert %s: %s", self.url, alert.id, problem)
                        return "failed"
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                problem = type(exc).__name__
            if attempt < self.attempts:
                log.warning("webhook: attempt %d for alert %s failed (%s); retrying in %.1fs",
                            attempt, alert.id, problem, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
        log.error("webhook: gave up on alert %s after %d attempts", alert.id, self.attempts)
        return "failed"
