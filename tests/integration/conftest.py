"""Fixtures for tests against a real broker and real worker processes.

The session starts the embedded Tansu broker on a free 127.0.0.1 port (or
uses ``WIREWATCH_BROKER`` when set, e.g. a real Kafka). Each test gets its own
topic prefix and app id, so tests share the broker but nothing else. Workers
run as real ``wirewatch worker`` processes, so tests can kill -9 them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiokafka import TopicPartition

from agents import kafka
from agents.embedded import EmbeddedBroker, orphan_safe
from agents.settings import Settings

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
SEED_ARTICLE = SEEDS / "000_26a858c8e60dbca3.txt"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@dataclass
class Broker:
    """The session's broker: its URL, its kind, and the process if embedded."""

    url: str
    kind: str
    embedded: EmbeddedBroker | None = None


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    external = os.environ.get("WIREWATCH_BROKER")
    if external:
        yield Broker(external, os.environ.get("WIREWATCH_BROKER_KIND", "kafka"))
        return
    log_path = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker.start(log_path=log_path) as embedded:
        yield Broker(embedded.url, "tansu", embedded)


async def settings_for_test(url: str, kind: str, tmp_path: Path) -> Settings:
    """Settings for one test on ``url``: its own topics (created), consumer group and state."""
    run = uuid.uuid4().hex[:8]
    settings = Settings.from_env({
        "WIREWATCH_BROKER": url,
        "WIREWATCH_BROKER_KIND": kind,
        "WIREWATCH_APP_ID": f"ww-test-{run}",
        "WIREWATCH_TOPIC_PREFIX": f"t{run}.",
        "WIREWATCH_PARTITIONS": "2",
        "WIREWATCH_DATA_DIR": str(tmp_path / "state"),
        "WIREWATCH_METRICS_PORT": "0",
        "WIREWATCH_BATCH_TIMEOUT": "0.05",
    })
    # Before any test client touches a topic: a consumer of a missing topic
    # makes the broker auto-create it with its default partition count.
    await kafka.create_topics(settings)
    return settings


@pytest.fixture
async def settings(broker: Broker, tmp_path: Path) -> Settings:
    """Settings for one test on the session's broker."""
    return await settings_for_test(broker.url, broker.kind, tmp_path)


@pytest.fixture
async def own_broker_settings(broker: Broker, tmp_path: Path) -> Any:
    """Settings for one test on a broker of its own (when the broker is embedded).

    For the tests that push thousands of articles and stop workers midway: they
    then start from a broker no earlier test has loaded (memory, consumer
    groups), and a broker left slow by one of them cannot hold up the rest.
    Tansu's in-memory storage reads a partition in time that grows with the
    records in that partition (measured: a fetch at the tail took 6.8 ms with
    10,000 records of 3 KB, 28.9 ms with 40,000).
    """
    if broker.embedded is None:
        yield await settings_for_test(broker.url, broker.kind, tmp_path)
        return
    with EmbeddedBroker.start(log_path=tmp_path / "own-broker.log") as embedded:
        yield await settings_for_test(embedded.url, "tansu", tmp_path)


@dataclass
class WorkerProcess:
    """A ``wirewatch worker`` child process and its log."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """kill -9: no shutdown, no commit."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM: the worker's clean shutdown."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels() -> None:
    """Compile the de-duplication kernels once, before any worker starts.

    A worker compiles them (or loads numba's cache, next to the module) before
    its event loop runs. After a fresh install that takes about 18 s of CPU;
    done here once, every worker process of the session loads the cache in a
    fraction of a second, and no test's start-up wait includes a compiler.
    """
    from pipeline import dedup

    dedup.warm_up()


@pytest.fixture
def start_worker(settings: Settings, tmp_path: Path) -> Iterator[Any]:
    """Start a worker process: ``start_worker(extra_env=None, prelude=None)``.

    ``prelude`` is Python code run in the worker before it starts (a test uses
    it to inject a fault into a stage function).
    """
    workers: list[WorkerProcess] = []

    def start(extra_env: dict[str, str] | None = None, prelude: str | None = None,
              settings_: Settings | None = None) -> WorkerProcess:
        env = (settings_ or settings).child_environment(os.environ) | (extra_env or {})
        env["PYTHONUNBUFFERED"] = "1"
        log_path = tmp_path / f"worker-{len(workers)}.log"
        code = (prelude or "") + "\nimport sys\nfrom agents.cli import main\n" \
            "sys.exit(main(['worker', '--log-level', 'info']))\n"
        with log_path.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603
                orphan_safe([sys.executable, "-c", code]), env=env, cwd=REPO, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        worker = WorkerProcess(process, log_path)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.alive():
            worker.process.send_signal(signal.SIGTERM)
            try:
                worker.process.wait(30)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()


async def produce(settings: Settings, payloads: list[bytes | None],
                  keys: list[bytes | None] | None = None, partition: int | None = None) -> None:
    """Publish raw payloads to articles.raw, in order (to ``partition`` if given)."""
    producer = kafka.producer(settings, embedded=settings.broker_kind == "tansu",
                              max_request_size=16 * 1024 * 1024)
    await producer.start()
    try:
        for index, payload in enumerate(payloads):
            key = keys[index] if keys else None
            await producer.send_and_wait(settings.topics.raw, payload, key=key,
                                         partition=partition)
    finally:
        await producer.stop()


async def read_topic(settings: Settings, topic: str, *, expect: int | None = None,
                     until: Callable[[list[Any]], bool] | None = None,
                     timeout: float = 90.0, idle: float = 3.0) -> list[Any]:
    """Every message on ``topic`` from the start.

    Returns once ``expect`` messages have arrived and ``until`` (if given)
    holds for them, and the topic has then been quiet for ``idle`` seconds (so
    extra, unexpected messages are caught too), or when ``timeout`` passes.
    ``until`` is for outputs that may repeat a record: a count alone would
    stop at a repeat before the last record came.
    """
    consumer = kafka.consumer(settings, topic, fetch_max_wait_ms=100)
    await consumer.start()
    messages: list[Any] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = loop.time()
    try:
        while loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                messages.extend(records)
                if records:
                    last = loop.time()
            enough = ((expect is None or len(messages) >= expect)
                      and (until is None or until(messages)))
            if enough and loop.time() - last >= idle:
                break
    finally:
        await consumer.stop()
    return messages


async def topic_size(settings: Settings, topic: str) -> int:
    """Records on ``topic`` (sum of end offsets; exact with one-record batches)."""
    client = kafka.consumer(settings)
    await client.start()
    try:
        await client.topics()
        partitions = client.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        return sum((await client.end_offsets(tps)).values()) if tps else 0
    finally:
        await client.stop()


async def _group_offsets(client: Any, topic: str) -> list[tuple[TopicPartition, int, int | None]]:
    """(partition, end offset, the group's committed offset) for each partition of ``topic``."""
    await client.topics()
    tps = [TopicPartition(topic, p) for p in sorted(client.partitions_for_topic(topic) or ())]
    ends = await client.end_offsets(tps) if tps else {}
    return [(tp, ends[tp], await client.committed(tp)) for tp in tps]


async def group_positions(settings: Settings) -> str:
    """Per stage input partition: end offset and the worker group's committed offset.

    For a test's failure message: which stage holds a record that did not
    come out (committed < end), and which never saw it. Every stage's input is
    listed (articles.enriched is the alerts stage's), with articles.duplicates
    (no stage reads it; its end offset counts dedup's other output), so
    comparing one stage's input with the next says where a record went missing.
    """
    client = kafka.consumer(settings, group_id=settings.app_id, enable_auto_commit=False)
    await client.start()
    lines = []
    try:
        topics = settings.topics
        for topic in (topics.raw, topics.valid, topics.unique, topics.duplicates, topics.tagged,
                      topics.enriched):
            lines.extend(f"{topic}[{tp.partition}]: end {end}, committed {committed}"
                         for tp, end, committed in await _group_offsets(client, topic))
    finally:
        await client.stop()
    return "\n".join(lines)


async def wait_committed(settings: Settings, topic: str, timeout: float) -> bool:
    """Wait until the worker group has committed every record of ``topic``.

    For a stage's downstream output (alerts come after enriched records): once
    the group has committed the end of its input, the stage has sent all it will.
    """
    client = kafka.consumer(settings, group_id=settings.app_id, enable_auto_commit=False)
    await client.start()

    async def behind() -> list[TopicPartition]:
        return [tp for tp, end, committed in await _group_offsets(client, topic)
                if end and (committed or 0) < end]

    try:
        return not await poll_until(behind, lambda late: not late, timeout)
    finally:
        await client.stop()


async def poll_until(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool],
                     timeout: float, interval: float = 1.0) -> T:
    """Await ``probe()`` until ``done`` says yes or ``timeout`` passes; return its last result.

    The caller checks the result: a timeout is not an error here, so a test
    can say what was still missing.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if done(value) or loop.time() >= deadline:
            return value
        await asyncio.sleep(interval)


def wait_for(predicate: Any, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
