"""A real Prometheus server scrapes a real worker while it processes a replay.

The server (Debian package ``prometheus``) listens on 127.0.0.1 only,
scrapes the worker's /metrics every second, and is stopped by the test (and
by the kernel if pytest dies first: PR_SET_PDEATHSIG). The test then asks
the Prometheus HTTP API what an operator would: per-stage counts, latency
buckets and consumer lag.
"""

from __future__ import annotations

import argparse
import bisect
import io
import json
import math
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from rich.console import Console

from agents import status
from agents.embedded import orphan_safe
from agents.metrics import LATENCY_BUCKETS
from tests.integration.conftest import produce, wait_for

_BODIES = {
    "metrics-flood": "At least 12 people were killed when floods hit Dhaka on Monday, "
                     "officials in Bangladesh said, as rivers burst their banks.",
    "metrics-quake": "A magnitude 6.1 earthquake struck central Italy overnight, damaging "
                     "churches in Umbria; no deaths were reported by civil protection.",
    "metrics-vote": "Voters in Chile approved a new pension law in a referendum on Sunday, "
                    "the electoral service said after counting most ballots.",
    "metrics-port": "Dock workers at the port of Rotterdam began a two-day strike over "
                    "automation, halting container traffic at Europe's busiest harbour.",
}
#: The first article again under a new id: the same text is a duplicate.
_DUPLICATE = ("metrics-flood-copy", _BODIES["metrics-flood"])
_INVALID = b"not json"


def _article(article_id: str, body: str) -> bytes:
    return orjson.dumps({"id": article_id, "source": "metrics-test",
                         "headline": body.split(",")[0], "body": body})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Prometheus:
    """A Prometheus server process and its HTTP API."""

    def __init__(self, url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.url, self.process, self.log_path = url, process, log_path

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query; the result vector."""
        address = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310
            body = json.load(response)
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    def values(self, promql: str, *by: str) -> dict[tuple[str, ...], float]:
        return {tuple(row["metric"].get(label, "") for label in by): float(row["value"][1])
                for row in self.query(promql)}

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


@pytest.fixture
def prometheus_for(tmp_path: Path) -> Iterator[Any]:
    """``prometheus_for(metrics_port)``: a server scraping 127.0.0.1:metrics_port every 1 s."""
    exe = shutil.which("prometheus")
    if exe is None:
        pytest.fail("the prometheus server is not installed: apt-get install prometheus "
                    "(scripts/test.sh installs it)")
    servers: list[Prometheus] = []

    def start(metrics_port: int) -> Prometheus:
        port = _free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: wirewatch\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{metrics_port}']\n")
        log_path = tmp_path / "prometheus.log"
        with log_path.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603
                orphan_safe([exe, f"--config.file={config}",
                             f"--web.listen-address=127.0.0.1:{port}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}"]),
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        server = Prometheus(f"http://127.0.0.1:{port}", process, log_path)
        servers.append(server)
        assert wait_for(server.ready, 60), server.log()
        return server

    yield start
    for server in servers:
        server.process.terminate()
        try:
            server.process.wait(20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


async def test_prometheus_sees_counts_latency_buckets_and_lag_drain(
        settings, start_worker, prometheus_for):
    metrics_port = _free_port()
    worker = start_worker(extra_env={"WIREWATCH_METRICS_PORT": str(metrics_port)})
    prometheus = prometheus_for(metrics_port)
    assert wait_for(lambda: prometheus.values('up{job="wirewatch"}') == {(): 1.0}, 120), \
        worker.log()[-3000:] + prometheus.log()

    payloads = [_article(i, body) for i, body in _BODIES.items()]
    payloads += [_article(*_DUPLICATE), _INVALID]
    started = time.monotonic()
    await produce(settings, payloads)

    unique = len(_BODIES)
    expected = {
        ("ingest", "valid"): unique + 1, ("ingest", "dead_lettered"): 1,
        ("dedup", "unique"): unique, ("dedup", "duplicate"): 1,
        ("entities", "tagged"): unique, ("casualties", "enriched"): unique,
        ("alerts", "evaluated"): unique,
    }
    counts: dict[tuple[str, ...], float] = {}

    def counted() -> bool:
        counts.update(prometheus.values("sum by (stage, outcome) (wirewatch_articles_total)",
                                        "stage", "outcome"))
        return all(counts.get(key) == value for key, value in expected.items())

    assert wait_for(counted, 180, interval=1), (counts, worker.log()[-3000:])
    elapsed = time.monotonic() - started
    # Exactly the replayed counts, and nothing else (no stray outcome).
    assert {k: v for k, v in counts.items() if v} == expected
    assert prometheus.values("sum by (stage, reason) (wirewatch_dead_letters_total)",
                             "stage", "reason") == {("ingest", "InvalidRecord"): 1.0}

    # Latency is in seconds: every enriched article took at most `elapsed`
    # seconds, so all four sit in the first bucket at or above it, and the
    # buckets below 5 ms (the pipeline has three Kafka hops) are empty.
    buckets = prometheus.values(
        'sum by (le) (wirewatch_end_to_end_latency_seconds_bucket{target="enriched"})', "le")
    index = bisect.bisect_left(LATENCY_BUCKETS, elapsed)
    ceiling = LATENCY_BUCKETS[index] if index < len(LATENCY_BUCKETS) else math.inf
    assert buckets[(_le(ceiling),)] == unique, (elapsed, buckets)
    assert buckets[("+Inf",)] == unique
    assert buckets[(_le(LATENCY_BUCKETS[0]),)] == 0, buckets
    count = prometheus.values(
        'sum(wirewatch_end_to_end_latency_seconds_count{target="enriched"})')
    assert count == {(): float(unique)}
    stage_calls = prometheus.values("sum by (stage) (wirewatch_stage_duration_seconds_count)",
                                    "stage")
    assert stage_calls[("ingest",)] == len(payloads)
    assert stage_calls[("casualties",)] == unique

    # Lag: reported per input partition, and back to 0 once the replay is drained.
    def drained() -> bool:
        lag = prometheus.values("wirewatch_consumer_lag_messages", "topic", "partition")
        return bool(lag) and settings.topics.raw in {t for t, _ in lag} \
            and sum(lag.values()) == 0

    assert wait_for(drained, 60, interval=1), (
        prometheus.values("wirewatch_consumer_lag_messages", "topic", "partition"),
        worker.log()[-3000:])
    lag_topics = {t for (t,) in prometheus.values(
        "count by (topic) (wirewatch_consumer_lag_messages)", "topic")}
    assert {settings.topics.raw, settings.topics.valid, settings.topics.unique,
            settings.topics.tagged, settings.topics.enriched} <= lag_topics
    assert worker.alive(), worker.log()[-3000:]

    # `wirewatch status` reads the same worker directly and agrees.
    view = _status("--url", f"http://127.0.0.1:{metrics_port}/metrics", "--once",
                   "--interval", "0.2")
    assert "casualties" in view and f"enriched {unique}" in view, view
    assert f"duplicate 1, unique {unique}" in view, view
    assert "InvalidRecord" in view, view


def _status(*argv: str) -> str:
    parser = argparse.ArgumentParser()
    status.configure(parser)
    out = io.StringIO()
    assert status.run(parser.parse_args(list(argv)), console=Console(file=out, width=200)) == 0
    return out.getvalue()


def _le(bound: float) -> str:
    # How prometheus_client writes a bucket bound in the `le` label.
    return "+Inf" if math.isinf(bound) else str(float(bound))
