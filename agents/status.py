"""``wirewatch status``: a terminal view of a running deployment, from its /metrics endpoints.

Each refresh scrapes every ``--url`` twice, ``--interval`` seconds apart,
sums the samples over the workers, and shows per-stage rates, consumer lag,
latency percentiles (estimated from the histogram buckets the way
Prometheus' ``histogram_quantile`` does), dead letters and alerts by rule.
No Prometheus server is needed: this reads the workers directly.

Example:
    $ wirewatch status --url http://worker-1:9108/metrics --url http://worker-2:9108/metrics
    $ wirewatch status --once --interval 2        # two scrapes, one table, exit
"""

from __future__ import annotations

import argparse
import math
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from agents.metrics import STAGES

DEFAULT_URL = "http://127.0.0.1:9108/metrics"
QUANTILES = (0.5, 0.95, 0.99)
#: A label set, as a sorted tuple of (name, value) so it can key a dict.
Labels = tuple[tuple[str, str], ...]


@dataclass
class Scrape:
    """Samples of one moment, summed over every endpoint that answered."""

    taken_at: float
    samples: dict[str, dict[Labels, float]] = field(default_factory=lambda: defaultdict(dict))
    up: dict[str, bool] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def add(self, text: str) -> None:
        """Add one endpoint's exposition text (values of equal series are summed)."""
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                series = self.samples[sample.name]
                key = tuple(sorted(sample.labels.items()))
                series[key] = series.get(key, 0.0) + sample.value

    def sum_by(self, name: str, *by: str, where: Mapping[str, str] | None = None
               ) -> dict[tuple[str, ...], float]:
        """``sum by (by...) (name{where})``."""
        out: dict[tuple[str, ...], float] = defaultdict(float)
        for labels, value in self.samples.get(name, {}).items():
            found = dict(labels)
            if where and any(found.get(k) != v for k, v in where.items()):
                continue
            out[tuple(found.get(label, "") for label in by)] += value
        return dict(out)


def scrape(urls: Sequence[str], timeout: float = 5.0) -> Scrape:
    """Fetch and sum every endpoint; one that does not answer is marked down."""
    result = Scrape(taken_at=time.monotonic())
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                text = response.read().decode("utf-8")
            result.add(text)
            result.up[url] = True
        except (OSError, ValueError) as exc:
            result.up[url] = False
            result.errors[url] = str(exc)
    return result


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float:
    """Estimate the ``q`` quantile of cumulative ``{upper bound: count}`` buckets, like PromQL's.

    Returns NaN with no observations; the highest finite bound when the
    quantile falls in the ``+Inf`` bucket.

    Example:
        >>> histogram_quantile(0.5, {0.1: 0, 0.2: 10, math.inf: 10})
        0.15
    """
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return math.nan
    rank = q * buckets[bounds[-1]]
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower  # pragma: no cover - the +Inf bucket always holds the total


def buckets_of(now: Scrape, before: Scrape | None, name: str, where: Mapping[str, str]
               ) -> dict[float, float]:
    """Cumulative buckets of ``name`` (a histogram) for ``where``, summed over other labels.

    With ``before``, the increase between the two scrapes (recent latency);
    if nothing was observed in between, the whole lifetime is used instead.
    """
    def collect(snapshot: Scrape) -> dict[float, float]:
        found = snapshot.sum_by(f"{name}_bucket", "le", where=where)
        return {float(le): value for (le,), value in found.items()}

    current = collect(now)
    if before is None:
        return current
    previous = collect(before)
    recent = {le: count - previous.get(le, 0.0) for le, count in current.items()}
    return recent if recent and max(recent.values()) > 0 else current


def rate(now: Scrape, before: Scrape | None, name: str, *by: str) -> dict[tuple[str, ...], float]:
    """Per-second increase of counter ``name`` between two scrapes (0 on a counter reset)."""
    if before is None or now.taken_at <= before.taken_at:
        return {}
    seconds = now.taken_at - before.taken_at
    previous = before.sum_by(name, *by)
    return {key: max(value - previous.get(key, 0.0), 0.0) / seconds
            for key, value in now.sum_by(name, *by).items()}


def _seconds(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _percentiles(buckets: Mapping[float, float]) -> list[str]:
    return [_seconds(histogram_quantile(q, buckets)) for q in QUANTILES]


def stage_table(now: Scrape, before: Scrape | None) -> Table:
    """Per stage: articles/s, totals by outcome, stage-time percentiles."""
    table = Table(title="stages (articles/s; percentiles of the time per call)",
                  title_justify="left")
    for column in ("stage", "rate/s", "total", "outcomes", "dead",
                   *(f"p{int(q * 100)}" for q in QUANTILES)):
        table.add_column(column, justify="left" if column in ("stage", "outcomes") else "right")
    totals = now.sum_by("wirewatch_articles_total", "stage", "outcome")
    rates = rate(now, before, "wirewatch_articles_total", "stage")
    dead = now.sum_by("wirewatch_dead_letters_total", "stage")
    seen = {stage for stage, _ in totals} | {stage for (stage,) in dead}
    for stage in [*STAGES, *sorted(seen - set(STAGES))]:
        outcomes = {o: v for (s, o), v in totals.items() if s == stage}
        buckets = buckets_of(now, before, "wirewatch_stage_duration_seconds", {"stage": stage})
        per_second = rates.get((stage,))
        table.add_row(
            stage, "-" if per_second is None else f"{per_second:.2f}",
            f"{sum(outcomes.values()):.0f}",
            ", ".join(f"{o} {v:.0f}" for o, v in sorted(outcomes.items())) or "-",
            f"{dead.get((stage,), 0.0):.0f}", *_percentiles(buckets))
    return table


def latency_table(now: Scrape, before: Scrape | None) -> Table:
    """End-to-end latency percentiles, from received_at to enriched and to alert."""
    table = Table(title="end-to-end latency (recent window, else lifetime)", title_justify="left")
    for column in ("target", "count", *(f"p{int(q * 100)}" for q in QUANTILES)):
        table.add_column(column, justify="left" if column == "target" else "right")
    counts = now.sum_by("wirewatch_end_to_end_latency_seconds_count", "target")
    for target in sorted({"enriched", "alert"} | {t for (t,) in counts}):
        buckets = buckets_of(now, before, "wirewatch_end_to_end_latency_seconds",
                             {"target": target})
        table.add_row(target, f"{counts.get((target,), 0.0):.0f}", *_percentiles(buckets))
    return table


def lag_table(now: Scrape) -> Table:
    """Consumer lag per topic-partition, and the total."""
    table = Table(title="consumer lag (messages)", title_justify="left")
    table.add_column("topic")
    table.add_column("partition", justify="right")
    table.add_column("lag", justify="right")
    lags = now.sum_by("wirewatch_consumer_lag_messages", "topic", "partition")
    for (topic, partition), lag in sorted(lags.items(), key=lambda kv: (kv[0][0], int(kv[0][1]))):
        table.add_row(topic, partition, f"{lag:.0f}")
    table.add_row("[b]total[/b]", "", f"[b]{sum(lags.values()):.0f}[/b]")
    return table


def counts_table(title: str, now: Scrape, before: Scrape | None, name: str,
                 *by: str) -> Table:
    """Totals (and rates) of counter ``name`` by ``by`` labels."""
    table = Table(title=title, title_justify="left")
    for label in by:
        table.add_column(label)
    table.add_column("total", justify="right")
    table.add_column("per minute", justify="right")
    rates = rate(now, before, name, *by)
    for key, value in sorted(now.sum_by(name, *by).items()):
        per_minute = rates.get(key)
        table.add_row(*key, f"{value:.0f}", "-" if per_minute is None else f"{per_minute * 60:.1f}")
    if not table.row_count:
        table.add_row(*(["none"] + [""] * len(by)))
    return table


def endpoints_table(now: Scrape) -> Table:
    """Which endpoints answered."""
    table = Table(title="workers", title_justify="left")
    table.add_column("endpoint")
    table.add_column("state")
    for url, up in now.up.items():
        table.add_row(url, "[green]up[/green]" if up else f"[red]down[/red] {now.errors[url]}")
    return table


def render(now: Scrape, before: Scrape | None) -> Group:
    """Every table of the view, for one pair of scrapes."""
    return Group(
        endpoints_table(now), stage_table(now, before), latency_table(now, before),
        lag_table(now),
        counts_table("dead letters", now, before, "wirewatch_dead_letters_total",
                     "stage", "reason"),
        counts_table("alerts", now, before, "wirewatch_alerts_total", "rule", "severity"),
    )


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``wirewatch status`` to ``parser``."""
    parser.add_argument("--url", action="append", metavar="URL", dest="urls",
                        help=f"a worker's metrics endpoint; repeat for each worker "
                             f"(default: {DEFAULT_URL})")
    parser.add_argument("--interval", type=float, default=5.0, metavar="SECONDS",
                        help="seconds between the two scrapes a rate is taken over, and "
                             "between refreshes (default: 5)")
    parser.add_argument("--once", action="store_true",
                        help="scrape twice, print one view and exit (for scripts)")


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    """Show the view; 0 when at least one endpoint answered, else 1."""
    urls: Iterable[str] = args.urls or [DEFAULT_URL]
    urls = list(dict.fromkeys(urls))
    interval = max(float(args.interval), 0.1)
    console = console or Console()
    before = scrape(urls)
    if not any(before.up.values()):
        for url, error in before.errors.items():
            console.print(f"[red]wirewatch status: {url}: {error}[/red]")
        return 1
    if args.once:
        time.sleep(interval)
        now = scrape(urls)
        console.print(render(now, before))
        return 0 if any(now.up.values()) else 1
    try:
        with Live(render(before, None), console=console, refresh_per_second=1) as live:
            while True:
                time.sleep(interval)
                now = scrape(urls)
                live.update(render(now, before))
                before = now
    except KeyboardInterrupt:
        return 0
