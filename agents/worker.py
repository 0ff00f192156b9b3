"""Running the Faust worker in-process, with optional companion services.

``wirewatch worker`` runs the stage agents only; ``wirewatch run`` adds the
embedded broker, a replay of ``seeds/`` and an alert printer as services of
the same worker, so Ctrl-C stops everything in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import faust
from mode import Service
from prometheus_client import CollectorRegistry, start_http_server

from agents.app import Context, build_app
from agents.kafka import create_topics
from agents.settings import Settings
from pipeline import dedup

log = logging.getLogger(__name__)


class BackgroundJob(Service):
    """A coroutine run once as a service of the worker (replay, alert printer)."""

    def __init__(self, name: str, job: Callable[[], Awaitable[Any]], **kwargs: Any) -> None:
        self.job_name = name
        self._job = job
        super().__init__(**kwargs)

    @property
    def label(self) -> str:
        return self.job_name

    async def on_started(self) -> None:
        self.add_future(self._run())

    async def _run(self) -> None:
        try:
            await self._job()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed", self.job_name)


@contextlib.contextmanager
def metrics_server(settings: Settings, registry: CollectorRegistry) -> Iterator[int]:
    """Serve /metrics on settings.metrics_host:metrics_port; yields the port."""
    server, thread = start_http_server(settings.metrics_port, settings.metrics_host,
                                       registry=registry)
    port = int(server.server_address[1])
    log.info("metrics on http://%s:%d/metrics", settings.metrics_host, port)
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def quiet_worker(app: faust.App, *services: Service, loop: asyncio.AbstractEventLoop,
                 loglevel: str) -> faust.Worker:
    """A Faust worker without its terminal spinner.

    At log level WARNING and above Faust's spinner sets the root logger to
    DEBUG so that every log call turns the spinner, and aiokafka then builds a
    DEBUG record for each fetch and request. A py-spy profile of a worker at 20
    articles/s put 8.6% of its CPU in ``Logger.debug``; in a service log the
    spinner only writes terminal escape codes anyway.
    """
    worker = faust.Worker(app, *services, loop=loop, loglevel=loglevel,
                          redirect_stdouts=False, override_logging=True)
    worker.spinner = None
    return worker


def warm_up_dedup() -> None:
    """Compile the de-duplication kernels before the event loop runs.

    Compiling takes about 18 s of CPU once per install (numba caches the
    machine code); done on the first article it would stall the loop, and
    with it the consumer's heartbeats.
    """
    started = time.perf_counter()
    dedup.warm_up()
    took = time.perf_counter() - started
    if took > 1:
        # Printed, not logged: the worker sets up logging only when it starts.
        print(f"wirewatch: compiled the de-duplication kernels in {took:.1f} s "
              "(cached: later starts skip this)", file=sys.stderr, flush=True)


def run_worker(settings: Settings, jobs: Sequence[tuple[str, Callable[[], Awaitable[Any]]]] = (),
               loglevel: str | None = None,
               on_ready: Callable[[Context, int], None] | None = None) -> None:
    """Create the topics, then run the worker (and ``jobs``) until stopped."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    registry = CollectorRegistry()
    context = build_app(settings, registry)  # first: a bad rule file fails before any I/O
    created = loop.run_until_complete(create_topics(settings))
    if created:
        log.info("created topics: %s", ", ".join(created))
    services = [BackgroundJob(name, job, loop=loop) for name, job in jobs]
    with metrics_server(settings, registry) as port:
        if on_ready is not None:
            on_ready(context, port)
        warm_up_dedup()
        worker = quiet_worker(context.app, *services, loop=loop,
                              loglevel=loglevel or settings.log_level)
        try:
            worker.execute_from_commandline()
        finally:
            if context.executor is not None:
                context.executor.shutdown(wait=False, cancel_futures=True)
