"""Every Prometheus metric of a worker, in one place, with the registry injected.

Names carry their unit (``_seconds``, ``_bytes``) and counters end in
``_total``. Durations are observed in SECONDS (faust's own sensor records
milliseconds into second buckets, faust-streaming/faust#260). ``pipeline/``
never counts anything: stages return outcomes and agents count them here.

Example:
    >>> metrics = Metrics.create(CollectorRegistry())
    >>> metrics.articles.labels(stage="dedup", outcome="duplicate").inc()
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

#: End-to-end latency buckets, 5 ms to 60 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: Per-call stage time buckets: a regex stage takes ~1 ms, a model batch ~1 s.
STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

STAGES = ("ingest", "dedup", "entities", "casualties", "alerts")
#: What each stage counts an article as when it leaves.
STAGE_OUTCOMES = {
    "ingest": ("valid", "dead_lettered"),
    "dedup": ("unique", "duplicate", "dead_lettered"),
    "entities": ("tagged", "dead_lettered"),
    "casualties": ("enriched", "dead_lettered"),
    "alerts": ("evaluated", "dead_lettered"),
}


class _CachedLabels:
    """``labels()`` remembered per label values.

    prometheus_client validates the names, converts every value to str and
    takes a lock on every ``labels()`` call; the agents call it for every
    article, and bench/metrics_overhead.py showed it was a large part of the
    metrics cost. A child stays valid until its label set is removed, so
    ``remove``/``clear`` forget the cache.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._children: dict[Any, Any] = {}
        super().__init__(*args, **kwargs)

    def labels(self, *values: Any, **named: Any) -> Any:
        key = (values, tuple(named.items()))
        try:
            return self._children[key]
        except KeyError:
            child = self._children[key] = super().labels(*values, **named)  # type: ignore[misc]
            return child

    def remove(self, *values: Any) -> None:
        self._children.clear()
        super().remove(*values)  # type: ignore[misc]

    def remove_by_labels(self, labels: dict[str, str]) -> None:
        self._children.clear()
        super().remove_by_labels(labels)  # type: ignore[misc]

    def clear(self) -> None:
        self._children.clear()
        super().clear()  # type: ignore[misc]


# Only labels() is cached: inc() and observe() stay prometheus_client's own,
# whose internals are not ours to depend on.
class _Counter(_CachedLabels, Counter):
    pass


class _Gauge(_CachedLabels, Gauge):
    pass


class _Histogram(_CachedLabels, Histogram):
    pass


@dataclass(frozen=True, slots=True)
class StageMetrics:
    """One stage's label children, looked up once.

    An agent counts every article; even cached, ``labels()`` costs about
    0.7 us a call against 0.7 us for the ``inc()`` itself, so the children a
    stage uses on every article are bound when the agent is registered.
    """

    duration: Any
    outcomes: dict[str, Any]
    latency_to_enriched: Any
    latency_to_alert: Any

    def outcome(self, name: str) -> Any:
        return self.outcomes[name]


@dataclass(frozen=True, slots=True)
class Metrics:
    """The worker's metrics; create one per registry."""

    registry: CollectorRegistry
    articles: Counter
    stage_duration: Histogram
    end_to_end_latency: Histogram
    consumer_lag: Gauge
    dead_letters: Counter
    retries: Counter
    rewinds: Counter
    alerts: Counter
    entities: Counter
    casualty_figures: Counter
    dedup_index_entries: Gauge
    webhook_deliveries: Counter
    dedup_index_bytes: Gauge
    build: Info
    _stages: dict[str, StageMetrics] = field(default_factory=dict)

    def stage(self, name: str) -> StageMetrics:
        """The label children of stage ``name`` (bound on first use)."""
        try:
            return self._stages[name]
        except KeyError:
            outcomes = {outcome: self.articles.labels(stage=name, outcome=outcome)
                        for outcome in STAGE_OUTCOMES[name]}
            bound = self._stages[name] = StageMetrics(
                duration=self.stage_duration.labels(stage=name), outcomes=outcomes,
                latency_to_enriched=self.end_to_end_latency.labels(target="enriched"),
                latency_to_alert=self.end_to_end_latency.labels(target="alert"))
            return bound

    @classmethod
    def create(cls, registry: CollectorRegistry) -> Metrics:
        """Register every metric in ``registry`` (a fresh one in tests)."""
        metrics = cls(
            registry=registry,
            articles=_Counter(
                "wirewatch_articles", "Articles leaving each stage, by outcome "
                "(ingest: valid|dead_lettered; dedup: unique|duplicate|dead_lettered; "
                "entities: tagged|dead_lettered; casualties: enriched|dead_lettered; "
                "alerts: evaluated|dead_lettered).",
                ["stage", "outcome"], registry=registry),
            stage_duration=_Histogram(
                "wirewatch_stage_duration_seconds",
                "Time a stage spends on one call of its function (one article or one batch).",
                ["stage"], buckets=STAGE_BUCKETS, registry=registry),
            end_to_end_latency=_Histogram(
                "wirewatch_end_to_end_latency_seconds",
                "From an article's received_at to its enriched record or its alert.",
                ["target"], buckets=LATENCY_BUCKETS, registry=registry),
            consumer_lag=_Gauge(
                "wirewatch_consumer_lag_messages",
                "End offset minus committed offset, per input topic-partition of this worker.",
                ["topic", "partition"], registry=registry),
            dead_letters=_Counter(
                "wirewatch_dead_letters", "Records sent to the dead-letter topic.",
                ["stage", "reason"], registry=registry),
            retries=_Counter(
                "wirewatch_stage_retries", "Retries of retriable stage errors.",
                ["stage"], registry=registry),
            rewinds=_Counter(
                "wirewatch_partition_rewinds", "Stalled input partitions fetched again from "
                "their committed offset (WIREWATCH_STALL_SECONDS).",
                ["topic", "partition"], registry=registry),
            alerts=_Counter(
                "wirewatch_alerts", "Alerts published.", ["rule", "severity"],
                registry=registry),
            entities=_Counter(
                "wirewatch_entities_extracted", "Canonical entities extracted, by type.",
                ["label"], registry=registry),
            casualty_figures=_Counter(
                "wirewatch_casualty_figures_extracted", "Casualty figures extracted.",
                ["category"], registry=registry),
            webhook_deliveries=_Counter(
                "wirewatch_webhook_deliveries", "Alerts sent to the webhook, by outcome "
                "(delivered, failed after retries, dropped from a full queue).",
                ["outcome"], registry=registry),
            dedup_index_entries=_Gauge(
                "wirewatch_dedup_index_entries", "Articles held in the de-duplication index.",
                registry=registry),
            dedup_index_bytes=_Gauge(
                "wirewatch_dedup_index_bytes", "Approximate memory of the de-duplication index.",
                registry=registry),
            build=Info("wirewatch_build", "Version of wirewatch and its runtime.",
                       registry=registry),
        )
        metrics.build.info(_build_info())
        return metrics


def _build_info() -> dict[str, str]:
    try:
        version = metadata.version("wirewatch")
    except metadata.PackageNotFoundError:  # running from a source tree
        version = "source"
    return {
        "version": version,
        "python": platform.python_version(),
        "faust": _version("faust-streaming"),
        "aiokafka": _version("aiokafka"),
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"
