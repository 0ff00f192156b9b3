"""Soak run: replay at a steady rate for a long time and watch the worker's memory.

Starts the embedded broker and one ``wirewatch worker``, replays Reuters
articles (looping with new ids, so later rounds are duplicates of earlier
ones, as reprints are) at ``--rate`` articles/s for ``--minutes``, and prints
the worker's RSS every ``--every`` seconds (in all, and split between the
worker's own process and the rest of its tree, the model pool) with the
de-duplication index's size read from the worker's ``/metrics``, then a
verdict on whether memory levelled off: the growth over the second half of
the run against the first half. A benchmark, not a test: it takes as long as
you ask.

    python -m bench.soak --minutes 30 --rate 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
from aiokafka import TopicPartition

from agents import kafka
from agents.embedded import EmbeddedBroker, orphan_safe
from agents.settings import Settings
from bench.run import DEFAULT_DATA, REPO, _tree, load_items, memory_mb, status_kib


async def processed(settings: Settings) -> int:
    """Articles out of the pipeline so far: enriched + duplicates + dead letters."""
    client = kafka.consumer(settings)
    await client.start()
    try:
        await client.topics()
        topics = settings.topics
        tps = [TopicPartition(topic, p) for topic in (topics.enriched, topics.duplicates,
                                                     topics.deadletter)
               for p in client.partitions_for_topic(topic) or ()]
        return sum((await client.end_offsets(tps)).values())
    finally:
        await client.stop()


def worker_process(pid: int) -> int:
    """The process of the tree that runs the worker itself (not a wrapper, not the pool)."""
    for each in _tree(pid):
        try:
            command = Path(f"/proc/{each}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"agents.cli" in command and b"worker" in command:
            return each
    return pid


def own_rss_mb(pid: int) -> float:
    """Current RSS of one process, without its children."""
    return status_kib(pid, "VmRSS") / 1024


def index_entries(port: int) -> str:
    """``wirewatch_dedup_index_entries`` from the worker's /metrics, or "?"."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
            text = page.read().decode()
    except OSError:
        return "?"
    found = re.search(r"^wirewatch_dedup_index_entries (\S+)$", text, re.MULTILINE)
    return f"{float(found.group(1)):,.0f}" if found else "?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def soak(settings: Settings, pid: int, items: list, rate: float, minutes: float,
               every: float, advance: bool = False) -> list[tuple[float, float, int]]:
    producer = kafka.producer(settings, embedded=True)
    await producer.start()
    samples: list[tuple[float, float, int]] = []
    span = _span(items) if advance else timedelta(0)
    started = time.monotonic()
    sent = 0
    next_sample = started
    try:
        while time.monotonic() - started < minutes * 60:
            item = items[sent % len(items)]
            round_number = sent // len(items)
            now = datetime.now(timezone.utc)
            payload = item.payload(now) | {"id": f"{item.id}~{round_number}"}
            if advance and item.published_at is not None:
                # Each round is dated after the one before, as a live feed is:
                # nothing repeats within the window, and old entries expire.
                payload["published_at"] = (item.published_at
                                           + round_number * span).isoformat()
            await producer.send(settings.topics.raw, orjson.dumps(payload))
            sent += 1
            if time.monotonic() >= next_sample:
                elapsed = time.monotonic() - started
                samples.append((elapsed / 60, memory_mb(pid, "VmRSS"), sent))
                done = await processed(settings)
                own = own_rss_mb(worker_process(pid))
                print(f"| {elapsed / 60:5.1f} min | {samples[-1][1]:8.1f} MiB | {own:7.1f} MiB | "
                      f"{samples[-1][1] - own:7.1f} MiB | {index_entries(settings.metrics_port)} "
                      f"| {sent:7d} | {done:7d} |", flush=True)
                next_sample += every
            delay = started + sent / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await producer.flush()
    finally:
        await producer.stop()
    return samples


def _span(items: list) -> timedelta:
    dates = [item.published_at for item in items if item.published_at is not None]
    return max(dates) - min(dates) + timedelta(days=1) if dates else timedelta(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_DATA, help="Reuters-format JSONL")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=20.0, help="articles per second")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--articles", type=int, default=5000,
                        help="distinct articles before the replay loops (default 5000)")
    parser.add_argument("--window-hours", type=float, default=72.0,
                        help="WIREWATCH_DEDUP_WINDOW_HOURS for the worker")
    parser.add_argument("--advance-time", action="store_true",
                        help="date each round after the one before, so every round is new "
                             "and the dedup index keeps expiring (default: rounds repeat "
                             "their dates, so later rounds are duplicates)")
    args = parser.parse_args(argv)
    if not args.file.exists():
        print(f"soak: skipped: no article file at {args.file}", file=sys.stderr)
        return 0
    items = load_items(args.file, args.articles)
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"wirewatch-soak-{uuid.uuid4().hex[:6]}"
    workdir.mkdir(parents=True)
    with EmbeddedBroker.start(log_path=workdir / "broker.log") as broker:
        env = {"WIREWATCH_BROKER": broker.url, "WIREWATCH_BROKER_KIND": "tansu",
               "WIREWATCH_APP_ID": "soak", "WIREWATCH_TOPIC_PREFIX": "soak.",
               "WIREWATCH_METRICS_PORT": str(free_port()), "WIREWATCH_DATA_DIR": str(workdir / "state"),
               "WIREWATCH_LOG_LEVEL": "warning",
               "WIREWATCH_DEDUP_WINDOW_HOURS": str(args.window_hours)}
        settings = Settings.from_env(env)
        asyncio.run(kafka.create_topics(settings))
        with (workdir / "worker.log").open("wb") as log:
            worker = subprocess.Popen(  # noqa: S603
                orphan_safe([sys.executable, "-m", "agents.cli", "worker"]),
                env=settings.child_environment(os.environ), cwd=REPO, stdout=log,
                stderr=subprocess.STDOUT)
        try:
            time.sleep(15)  # join the group, load the model
            print(f"Soak: {args.rate:g} articles/s for {args.minutes:g} min, "
                  f"{len(items)} distinct articles looping; worker pid {worker.pid}\n")
            print("| elapsed | worker RSS, all | worker process | model pool and rest "
                  "| dedup index entries | sent | processed |\n"
                  "|---:|---:|---:|---:|---:|---:|---:|")
            samples = asyncio.run(soak(settings, worker.pid, items, args.rate, args.minutes,
                                       args.every, args.advance_time))
        finally:
            worker.terminate()
            worker.wait(60)
    if len(samples) >= 4:
        half = len(samples) // 2
        first = samples[half - 1][1] - samples[0][1]
        second = samples[-1][1] - samples[half][1]
        print(f"\nRSS growth: first half {first:+.1f} MiB, second half {second:+.1f} MiB "
              f"(levels off when the second is small against the first).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
