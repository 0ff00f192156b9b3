"""agents/metrics.py, the lag gauge (agents/lag.py) and `wirewatch status` (agents/status.py).

Every test uses a fresh CollectorRegistry; nothing here needs a broker.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import math
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import (
    CollectorRegistry,
    Histogram,
    generate_latest,
    start_http_server,
)
from rich.console import Console

from agents import status
from agents.app import HeldEvent
from agents.lag import (
    LAG_INTERVAL_SECONDS,
    LagGauge,
    Partition,
    StallWatch,
    compute_lag,
    fetched_past,
    input_partitions,
    measure_lag,
    register,
)
from agents.metrics import LATENCY_BUCKETS, STAGES, Metrics
from agents.settings import Settings


@pytest.fixture
def metrics() -> Metrics:
    return Metrics.create(CollectorRegistry())


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


# -- metrics.py ---------------------------------------------------------------


def test_names_carry_units_and_counters_end_in_total(metrics: Metrics) -> None:
    metrics.articles.labels(stage="dedup", outcome="unique").inc()
    metrics.stage_duration.labels(stage="dedup").observe(0.002)
    metrics.end_to_end_latency.labels(target="enriched").observe(1.5)
    metrics.consumer_lag.labels(topic="t", partition="0").set(3)
    metrics.dead_letters.labels(stage="ingest", reason="InvalidRecord").inc()
    metrics.alerts.labels(rule="r", severity="warning").inc()
    text = generate_latest(metrics.registry).decode()
    for name in ("wirewatch_articles_total", "wirewatch_stage_duration_seconds_bucket",
                 "wirewatch_end_to_end_latency_seconds_bucket",
                 "wirewatch_consumer_lag_messages", "wirewatch_dead_letters_total",
                 "wirewatch_alerts_total", "wirewatch_build_info"):
        assert f"\n{name}{{" in text, name
    for family in metrics.registry.collect():
        assert family.name.startswith("wirewatch_")
        if family.type == "counter":
            assert any(s.name.endswith("_total") for s in family.samples) or not family.samples


def test_latency_buckets_run_from_5_ms_to_60_s_in_seconds(metrics: Metrics) -> None:
    assert LATENCY_BUCKETS[0] == 0.005 and LATENCY_BUCKETS[-1] == 60.0
    assert list(LATENCY_BUCKETS) == sorted(LATENCY_BUCKETS)
    # A 300 ms latency observed in seconds lands at or below le=0.5, not in +Inf
    # (the faust-streaming/faust#260 mistake would put 300 in +Inf).
    metrics.end_to_end_latency.labels(target="alert").observe(0.3)
    name = "wirewatch_end_to_end_latency_seconds_bucket"
    assert sample(metrics, name, target="alert", le="0.25") == 0
    assert sample(metrics, name, target="alert", le="0.5") == 1


def test_registries_are_independent() -> None:
    first, second = Metrics.create(CollectorRegistry()), Metrics.create(CollectorRegistry())
    first.articles.labels(stage="ingest", outcome="valid").inc(5)
    assert sample(second, "wirewatch_articles_total", stage="ingest", outcome="valid") is None
    assert sample(first, "wirewatch_articles_total", stage="ingest", outcome="valid") == 5


def test_build_info_names_the_runtime(metrics: Metrics) -> None:
    [family] = [f for f in metrics.registry.collect() if f.name == "wirewatch_build"]
    labels = family.samples[0].labels
    assert set(labels) == {"version", "python", "faust", "aiokafka"}
    assert all(labels.values())


def test_fast_observe_fills_the_same_buckets_as_prometheus_client(metrics: Metrics) -> None:
    reference = Histogram("reference_seconds", "x", buckets=LATENCY_BUCKETS,
                          registry=CollectorRegistry())
    values = [0.0, 0.005, 0.0051, 0.3, 1.0, 2.5, 59.9, 60.0, 61.0, 1e9, -1.0]
    for value in values:
        metrics.end_to_end_latency.labels(target="enriched").observe(value)
        reference.observe(value)
    ours = {s.labels["le"]: s.value for f in metrics.registry.collect()
            if f.name == "wirewatch_end_to_end_latency_seconds"
            for s in f.samples if s.name.endswith("_bucket")}
    theirs = {s.labels["le"]: s.value for f in reference.collect()
              for s in f.samples if s.name.endswith("_bucket")}
    assert ours == theirs
    assert sample(metrics, "wirewatch_end_to_end_latency_seconds_sum",
                  target="enriched") == pytest.approx(sum(values))


def test_misuse_still_raises(metrics: Metrics) -> None:
    with pytest.raises(ValueError, match="missing label values"):
        metrics.articles.inc()
    with pytest.raises(ValueError, match="missing label values"):
        metrics.stage_duration.observe(1.0)
    with pytest.raises(ValueError, match="non-negative"):
        metrics.articles.labels(stage="ingest", outcome="valid").inc(-1)


def test_cached_children_follow_removal(metrics: Metrics) -> None:
    child = metrics.consumer_lag.labels(topic="t", partition="0")
    assert metrics.consumer_lag.labels(topic="t", partition="0") is child
    metrics.consumer_lag.remove("t", "0")
    metrics.consumer_lag.labels(topic="t", partition="0").set(7)  # a new, registered child
    assert sample(metrics, "wirewatch_consumer_lag_messages", topic="t", partition="0") == 7
    metrics.consumer_lag.clear()
    metrics.consumer_lag.labels(topic="t", partition="0").set(8)
    assert sample(metrics, "wirewatch_consumer_lag_messages", topic="t", partition="0") == 8


def test_a_stage_binds_its_children_once_and_counts_into_the_same_series(metrics: Metrics) -> None:
    for stage in STAGES:
        bound = metrics.stage(stage)
        assert metrics.stage(stage) is bound
        bound.outcome("dead_lettered").inc()
        bound.duration.observe(0.002)
        assert sample(metrics, "wirewatch_articles_total", stage=stage,
                      outcome="dead_lettered") == 1
        assert sample(metrics, "wirewatch_stage_duration_seconds_count", stage=stage) == 1
    metrics.stage("dedup").outcome("duplicate").inc(2)
    metrics.stage("alerts").latency_to_alert.observe(0.3)
    assert sample(metrics, "wirewatch_articles_total", stage="dedup", outcome="duplicate") == 2
    assert sample(metrics, "wirewatch_end_to_end_latency_seconds_bucket", target="alert",
                  le="0.5") == 1
    with pytest.raises(KeyError):
        metrics.stage("dedup").outcome("tagged")  # not an outcome of that stage


# -- lag.py -------------------------------------------------------------------

A0, A1, A2 = Partition("raw", 0), Partition("raw", 1), Partition("raw", 2)
B0 = Partition("valid", 0)


def test_lag_is_end_offset_minus_committed_offset() -> None:
    lags = compute_lag({A0: 120, A1: 7, B0: 50}, {A0: 100, A1: 7, B0: 60}, {})
    assert lags == {A0: 20, A1: 0, B0: 0}  # a committed offset past the end is not negative


def test_lag_without_a_commit_counts_from_the_earliest_offset() -> None:
    assert compute_lag({A0: 10, A1: 10}, {A0: None, A1: None}, {A0: 4}) == {A0: 6, A1: 10}


def test_lag_skips_partitions_with_an_unknown_end() -> None:
    assert compute_lag({A0: None, A1: 3}, {A0: 1, A1: 1}, {}) == {A1: 2}


def test_gauge_is_set_per_partition_and_unassigned_partitions_are_removed(
        metrics: Metrics) -> None:
    gauge = LagGauge(metrics.consumer_lag)
    gauge.update({A0: 5, A1: 2})
    name = "wirewatch_consumer_lag_messages"
    assert sample(metrics, name, topic="raw", partition="0") == 5
    assert sample(metrics, name, topic="raw", partition="1") == 2
    gauge.update({A1: 0, B0: 9})  # A0 moved to another worker
    assert sample(metrics, name, topic="raw", partition="0") is None
    assert sample(metrics, name, topic="raw", partition="1") == 0
    assert sample(metrics, name, topic="valid", partition="0") == 9
    gauge.update({})
    assert "wirewatch_consumer_lag_messages{" not in generate_latest(metrics.registry).decode()


def test_changelog_partitions_are_not_lag() -> None:
    assigned = {B0, A1, A0, Partition("app-dedup-index-changelog", 0)}
    assert input_partitions(assigned, ["raw", "valid"]) == [A0, A1, B0]


class FakeConsumer:
    """The parts of a Faust consumer that measure_lag uses."""

    def __init__(self, ends: dict[Any, int], committed: dict[Any, int | None],
                 earliest: dict[Any, int]) -> None:
        self.ends, self._committed_offset, self.earliest = ends, committed, earliest
        self.asked_earliest: tuple[Any, ...] = ()
        self.seeks: list[dict[Any, int]] = []
        self.positions: dict[Any, int] = {}  # aiokafka's fetch position

    def assignment(self) -> set[Any]:
        return set(self.ends)

    async def highwaters(self, *partitions: Any) -> dict[Any, int]:
        return {tp: self.ends[tp] for tp in partitions}

    async def earliest_offsets(self, *partitions: Any) -> dict[Any, int]:
        self.asked_earliest = partitions
        return {tp: self.earliest[tp] for tp in partitions}

    async def seek_wait(self, partitions: dict[Any, int]) -> None:
        self.seeks.append(dict(partitions))

    async def position(self, tp: Any) -> int:
        if tp not in self.positions:
            raise RuntimeError(f"{tp} is not assigned")
        return self.positions[tp]


async def test_measure_lag_reads_the_consumer() -> None:
    changelog = Partition("app-story-state-changelog", 0)
    consumer = FakeConsumer({A0: 30, A1: 8, changelog: 99}, {A0: 25}, {A1: 2, changelog: 0})
    assert await measure_lag(consumer, ["raw"]) == {A0: 5, A1: 6}
    assert consumer.asked_earliest == (A1,)  # only where nothing is committed
    assert await measure_lag(FakeConsumer({}, {}, {}), ["raw"]) == {}


class FakeApp:
    """Collects the timer lag.register adds; its consumer is a FakeConsumer."""

    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer
        self.timers: list[tuple[float, Any]] = []

    def timer(self, interval: float, **_options: Any) -> Any:
        def add(fn: Any) -> Any:
            self.timers.append((interval, fn))
            return fn
        return add


class FakeTopic:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_topic_name(self) -> str:
        return self.name


async def test_registered_timer_sets_the_gauge_and_survives_consumer_errors(
        metrics: Metrics) -> None:
    consumer = FakeConsumer({A0: 12, Partition("app-dedup-index-changelog", 0): 5},
                            {A0: 10}, {})
    context = SimpleNamespace(app=FakeApp(consumer), metrics=metrics,
                              settings=Settings.from_env({}), held={},
                              topics={"raw": FakeTopic("raw"), "valid": FakeTopic("valid")})
    register(context)  # type: ignore[arg-type]
    [(interval, tick)] = context.app.timers
    assert interval == LAG_INTERVAL_SECONDS
    await tick()
    assert sample(metrics, "wirewatch_consumer_lag_messages", topic="raw", partition="0") == 2
    assert sample(metrics, "wirewatch_consumer_lag_messages",
                  topic="app-dedup-index-changelog", partition="0") is None

    async def not_started(*_partitions: Any) -> dict[Any, int]:
        raise RuntimeError("Consumer thread not yet started")

    consumer.highwaters = not_started  # type: ignore[method-assign]
    await tick()  # logged, not raised; the last value stays
    assert sample(metrics, "wirewatch_consumer_lag_messages", topic="raw", partition="0") == 2


def test_a_partition_is_stalled_each_period_its_commit_stays_put_with_lag() -> None:
    watch = StallWatch(after=60)
    assert watch.update({A0: 3, A1: 3}, {A0: 10, A1: 4}, now=0.0) == []
    assert watch.update({A0: 3, A1: 2}, {A0: 10, A1: 5}, now=30.0) == []  # A1 moved
    assert watch.update({A0: 3, A1: 2}, {A0: 10, A1: 5}, now=60.0) == [A0]
    assert watch.update({A0: 3, A1: 2}, {A0: 10, A1: 5}, now=90.0) == [A1]
    assert watch.update({A0: 3, A1: 2}, {A0: 10, A1: 5}, now=100.0) == []  # A0 reported at 60
    assert watch.update({A0: 3, A1: 2}, {A0: 10, A1: 5}, now=120.0) == [A0]  # still stalled
    assert watch.update({A0: 2, A1: 2}, {A0: 11, A1: 5}, now=130.0) == []  # A0 moves again
    assert watch.update({A0: 2}, {A0: 11}, now=190.0) == [A0]  # a new stall; A1 unassigned


def test_a_partition_without_lag_is_never_stalled() -> None:
    watch = StallWatch(after=60)
    for now in (0.0, 100.0, 200.0):
        assert watch.update({A0: 0}, {A0: 10}, now=now) == []


def stall_timer(consumer: FakeConsumer, metrics: Metrics, monkeypatch: pytest.MonkeyPatch,
                held: dict[str, HeldEvent]) -> tuple[Any, list[float]]:
    """The lag timer over ``consumer`` with agents holding ``held``, and its clock (at 1000 s)."""
    context = SimpleNamespace(app=FakeApp(consumer), metrics=metrics,
                              settings=Settings.from_env({}), topics={"raw": FakeTopic("raw")},
                              held=held)
    clock = [1000.0]
    monkeypatch.setattr("agents.lag.time.monotonic", lambda: clock[0])
    register(context)  # type: ignore[arg-type]
    [(_, tick)] = context.app.timers
    return tick, clock


async def test_the_timer_logs_a_stalled_partition_and_fetches_it_again(
        metrics: Metrics, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    consumer = FakeConsumer({A0: 12, A1: 9, A2: 7}, {A0: 10, A1: 5, A2: 3}, {})
    consumer.flow_active = True  # type: ignore[attr-defined]
    consumer._active_partitions = {A0, A1}  # type: ignore[attr-defined]
    consumer._paused_partitions = {A2}  # restoring tables  # type: ignore[attr-defined]
    consumer._read_offset = {A0: 11, A1: 5, A2: 3}  # type: ignore[attr-defined]
    release = asyncio.Event()

    async def waits_for_its_output() -> None:
        await release.wait()

    hung = asyncio.ensure_future(waits_for_its_output())
    await asyncio.sleep(0)
    tick, clock = stall_timer(consumer, metrics, monkeypatch,
                              {"ingest": HeldEvent("raw", 0, 10, 1000.0, hung)})
    await tick()
    clock[0] += 59
    await tick()
    assert "no commit" not in caplog.text
    assert consumer.seeks == []
    clock[0] += 1
    await tick()
    assert "raw[0]: 2 records waiting and no commit for 60 s" in caplog.text
    assert "raw[2]: 4 records waiting" in caplog.text
    assert "partition active False, paused True" in caplog.text
    assert "ingest holds offset 10 for 60 s" in caplog.text
    assert "raw[1]: 4 records waiting" in caplog.text
    assert "no agent holds a record of it" in caplog.text
    assert "ingest has held raw[0]@10 for 60 s, at:" in caplog.text
    assert "in waits_for_its_output" in caplog.text  # the hung agent's stack
    # Not the paused one, nor the one whose committed record an agent is still on:
    # fetching that again would only queue repeats behind the agent.
    assert consumer.seeks == [{A1: 5}]
    assert "raw[0]: not fetched again: ingest is still working on offset 10" in caplog.text
    assert "raw[1]: fetching it again from offset 5" in caplog.text
    assert sample(metrics, "wirewatch_partition_rewinds_total", topic="raw",
                  partition="1") == 1
    assert sample(metrics, "wirewatch_partition_rewinds_total", topic="raw",
                  partition="0") is None
    release.set()
    await hung


async def test_a_partition_whose_committed_record_no_agent_holds_is_fetched_again(
        metrics: Metrics, monkeypatch: pytest.MonkeyPatch) -> None:
    # The agent holds a later record (11): record 10 never reached it, so the
    # commit waits for a record nobody will finish. Nothing committed yet
    # (A1) counts from the start, offset 0, which the entities agent holds.
    consumer = FakeConsumer({A0: 12, A1: 9}, {A0: 10, A1: None}, {A1: 0})
    consumer.flow_active = True  # type: ignore[attr-defined]
    consumer._read_offset = {A0: 11, A1: 4}  # type: ignore[attr-defined]
    working = asyncio.ensure_future(asyncio.sleep(3600))
    tick, clock = stall_timer(consumer, metrics, monkeypatch,
                              {"ingest": HeldEvent("raw", 0, 11, 1000.0, working),
                               "entities": HeldEvent("raw", 1, 0, 1000.0, working)})
    await tick()
    clock[0] += 60
    await tick()
    assert consumer.seeks == [{A0: 10}]
    working.cancel()


async def test_a_partition_fetched_past_its_commit_is_fetched_again_whatever_faust_read(
) -> None:
    consumer = FakeConsumer({}, {}, {})
    consumer.flow_active = True  # type: ignore[attr-defined]
    consumer._paused_partitions = {A2}  # type: ignore[attr-defined]
    # A0 as after the scale test's takeover: Faust's read offset was set back
    # to an older commit while aiokafka fetched past the current one.
    consumer._read_offset = {A0: 4, A1: None, A2: 3}  # type: ignore[attr-defined]
    consumer.positions = {A0: 9, A1: 5, A2: 9}
    assert await fetched_past(consumer, A0, 8)
    assert not await fetched_past(consumer, A1, 5)  # nothing fetched from the commit on
    assert not await fetched_past(consumer, A2, 3)  # paused: Faust seeks it on resume
    assert not await fetched_past(consumer, Partition("raw", 7), 3)  # position unknown
    consumer.flow_active = False  # type: ignore[attr-defined]
    assert not await fetched_past(consumer, A0, 8)  # a rebalance or recovery: Faust seeks


# -- status.py ----------------------------------------------------------------


@pytest.mark.parametrize(("q", "expected"), [
    (0.5, 0.15),    # halfway through the (0.1, 0.2] bucket
    (0.25, 0.125),
    (1.0, 0.2),
])
def test_histogram_quantile_interpolates_like_promql(q: float, expected: float) -> None:
    buckets = {0.1: 0.0, 0.2: 10.0, 0.5: 10.0, math.inf: 10.0}
    assert status.histogram_quantile(q, buckets) == pytest.approx(expected)


def test_histogram_quantile_edges() -> None:
    assert math.isnan(status.histogram_quantile(0.5, {}))
    assert math.isnan(status.histogram_quantile(0.5, {1.0: 0.0, math.inf: 0.0}))
    # Beyond the last finite bound: that bound (as histogram_quantile does).
    assert status.histogram_quantile(0.99, {1.0: 1.0, math.inf: 10.0}) == 1.0
    assert status.histogram_quantile(0.5, {0.005: 4.0, math.inf: 4.0}) == pytest.approx(0.0025)


def _exposition(metrics: Metrics) -> str:
    return generate_latest(metrics.registry).decode()


def test_scrapes_of_several_workers_are_summed_and_rated() -> None:
    one, two = Metrics.create(CollectorRegistry()), Metrics.create(CollectorRegistry())
    one.articles.labels(stage="dedup", outcome="unique").inc(3)
    two.articles.labels(stage="dedup", outcome="unique").inc(4)
    two.articles.labels(stage="dedup", outcome="duplicate").inc(1)
    before = status.Scrape(taken_at=10.0)
    before.add(_exposition(one))
    before.add(_exposition(two))
    assert before.sum_by("wirewatch_articles_total", "stage") == {("dedup",): 8}
    assert before.sum_by("wirewatch_articles_total", "outcome",
                         where={"outcome": "unique"}) == {("unique",): 7}
    one.articles.labels(stage="dedup", outcome="unique").inc(20)
    now = status.Scrape(taken_at=12.0)
    now.add(_exposition(one))
    now.add(_exposition(two))
    assert status.rate(now, before, "wirewatch_articles_total", "stage") == {("dedup",): 10.0}
    assert status.rate(now, None, "wirewatch_articles_total", "stage") == {}


def test_recent_buckets_are_the_increase_between_scrapes(metrics: Metrics) -> None:
    latency = metrics.end_to_end_latency.labels(target="enriched")
    for _ in range(10):
        latency.observe(20.0)  # a slow start...
    before = status.Scrape(taken_at=0.0)
    before.add(_exposition(metrics))
    for _ in range(10):
        latency.observe(0.02)  # ...then fast
    now = status.Scrape(taken_at=5.0)
    now.add(_exposition(metrics))
    name = "wirewatch_end_to_end_latency_seconds"
    recent = status.buckets_of(now, before, name, {"target": "enriched"})
    assert status.histogram_quantile(0.95, recent) <= 0.025
    lifetime = status.buckets_of(now, None, name, {"target": "enriched"})
    assert status.histogram_quantile(0.95, lifetime) > 10
    # Nothing new between two scrapes: fall back to the lifetime buckets.
    assert status.buckets_of(now, now, name, {"target": "enriched"}) == lifetime


@pytest.fixture
def endpoint(metrics: Metrics) -> Iterator[str]:
    server, thread = start_http_server(0, "127.0.0.1", registry=metrics.registry)
    yield f"http://127.0.0.1:{server.server_address[1]}/metrics"
    server.shutdown()
    server.server_close()
    thread.join(5)


def _run_status(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    status.configure(parser)
    out = io.StringIO()
    code = status.run(parser.parse_args(list(argv)), console=Console(file=out, width=160))
    return code, out.getvalue()


def test_status_once_shows_stages_lag_latency_dead_letters_and_alerts(
        metrics: Metrics, endpoint: str) -> None:
    metrics.articles.labels(stage="casualties", outcome="enriched").inc(7)
    metrics.stage_duration.labels(stage="casualties").observe(0.0007)
    metrics.end_to_end_latency.labels(target="enriched").observe(0.4)
    metrics.consumer_lag.labels(topic="news.raw", partition="1").set(42)
    metrics.dead_letters.labels(stage="ingest", reason="InvalidRecord").inc(2)
    metrics.alerts.labels(rule="casualties.threshold.v1", severity="critical").inc(3)
    code, text = _run_status("--url", endpoint, "--url", "http://127.0.0.1:9/metrics",
                             "--once", "--interval", "0.1")
    assert code == 0
    for stage in STAGES:
        assert stage in text
    assert "enriched 7" in text
    assert "news.raw" in text and "42" in text
    assert "InvalidRecord" in text and "casualties.threshold.v1" in text
    assert "down" in text and "up" in text
    assert "ms" in text  # percentiles rendered


def test_status_fails_when_no_endpoint_answers() -> None:
    code, text = _run_status("--url", "http://127.0.0.1:9/metrics", "--once",
                             "--interval", "0.1")
    assert code == 1
    assert "127.0.0.1:9" in text
