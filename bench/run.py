"""``wirewatch bench``: throughput, latency and cost per stage, in one run.

On the embedded broker, replaying real Reuters-21578 articles (or any JSONL in
that format), side by side on the same machine:

1. the raw broker ceiling: aiokafka produce + consume, no processing;
2. each stage function alone, in-process on one core (and the entity stage
   in a process pool, as deployed);
3. a plain single-process aiokafka loop running every stage inline;
4. the wirewatch pipeline as deployed (``wirewatch worker``: stages as agents);
5. the same pipeline with its metric updates made no-ops
   (``bench.no_metrics_worker``), to measure what the metrics cost.

For 3 to 5: throughput at maximum rate, end-to-end latency p50/p95/p99 from
``received_at`` to the enriched record and to the alert (at fixed offered
rates and at maximum rate), CPU seconds per article and peak RSS. Medians of
``--repeat`` runs; 4 and 5 alternate run by run, so a busy machine slows both
alike. Prints markdown tables; ``--json`` also writes the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from agents import kafka
from agents.embedded import EmbeddedBroker, orphan_safe
from agents.settings import Settings
from pipeline import alerts, casualties, dedup, entities, ingest
from pipeline.codec import record_from_bytes, to_bytes
from pipeline.records import Article, EnrichedArticle
from pipeline.wire import WireItem, parse_jsonl

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("WIREWATCH_EVAL_DIR", REPO.parent / "shared" / "eval")) \
    / "reuters21578" / "reuters21578.jsonl"
WARM_UP_TIMEOUT = 180.0


# ---------------------------------------------------------------- data and stats

def load_items(path: Path, count: int) -> list[WireItem]:
    """The first ``count`` articles with a body."""
    items: list[WireItem] = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            for item in parse_jsonl(line, f"{path}:{line_number}"):
                if isinstance(item, WireItem) and item.body.strip():
                    items.append(item)
            if len(items) >= count:
                break
    return items


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


# ---------------------------------------------------------------- process accounting

def _tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            pids.extend(_tree(int(child)))
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live children."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for each in _tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    """Sum of a /proc memory field over a process and its children, in MiB.

    ``VmHWM`` is the peak resident set, ``VmRSS`` the current one.
    """
    return sum(status_kib(each, field) for each in _tree(pid)) / 1024


def status_kib(pid: int, field: str) -> int:
    """One process's /proc status field in KiB (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---------------------------------------------------------------- 2. stages alone

def _time(fn: Any, items: list[Any]) -> float:
    started = time.perf_counter()
    fn(items)
    return len(items) / (time.perf_counter() - started)


def bench_stages(items: list[WireItem], repeat: int, pool_size: int) -> dict[str, dict[str, float]]:
    now = datetime.now(timezone.utc)
    payloads = [orjson.dumps(item.payload(now)) for item in items]
    policy = ingest.IngestPolicy()
    articles = [ingest.validate_article(p, policy, now) for p in payloads]
    entities.warm_up()
    tagged = entities.tag_entities_batch(articles[:32])  # warm caches
    index = dedup.DedupIndex()
    records = []
    for article in articles:
        result = dedup.deduplicate(index, article)
        records.append(EnrichedArticle(article=result.article, dedup=result.verdict))
    tagged = entities.tag_entities_batch([r.article for r in records])
    enriched = [EnrichedArticle(article=r.article, dedup=r.dedup, entities=t,
                                casualties=casualties.extract_casualties(r.article.text, t))
                for r, t in zip(records, tagged, strict=True)]
    rules = alerts.load_rules((REPO / "deploy" / "alert-rules.yaml").read_text())

    def run_ingest(batch: list[bytes]) -> None:
        for payload in batch:
            ingest.validate_article(payload, policy, now)

    def run_dedup(batch: list[Article]) -> None:
        fresh = dedup.DedupIndex()
        for article in batch:
            dedup.deduplicate(fresh, article)

    def run_entities(batch: list[Article]) -> None:
        for start in range(0, len(batch), 32):
            entities.tag_entities_batch(batch[start:start + 32])

    def run_casualties(batch: list[EnrichedArticle]) -> None:
        for record in batch:
            casualties.extract_casualties(record.article.text, record.entities)

    def run_alerts(batch: list[EnrichedArticle]) -> None:
        states: dict[str, bytes] = {}
        for record in batch:
            raw = states.get(record.story_id)
            state = None if raw is None else record_from_bytes(alerts.StoryState, raw)
            state, _ = alerts.evaluate_alerts(rules, record, state)
            states[record.story_id] = to_bytes(state)

    results: dict[str, dict[str, float]] = {}
    cases = [("ingest", run_ingest, payloads), ("dedup", run_dedup, articles),
             ("entities", run_entities, articles), ("casualties", run_casualties, enriched),
             ("alerts", run_alerts, enriched)]
    for name, fn, data in cases:
        rates = [_time(fn, data) for _ in range(repeat)]
        results[name] = {"articles_per_s_one_core": median(rates)}
        _progress(f"stage {name}: {median(rates):,.0f} articles/s on one core")
    batches = [articles[i:i + 32] for i in range(0, len(articles), 32)]
    with ProcessPoolExecutor(pool_size, initializer=entities.warm_up) as pool:
        list(pool.map(entities.tag_entities_batch, batches[:pool_size]))  # load the model
        rates = []
        for _ in range(repeat):
            started = time.perf_counter()
            list(pool.map(entities.tag_entities_batch, batches))
            rates.append(len(articles) / (time.perf_counter() - started))
    results["entities"]["articles_per_s_pool"] = median(rates)
    _progress(f"stage entities: {median(rates):,.0f} articles/s in {pool_size} processes")
    return results


# ---------------------------------------------------------------- 1. raw broker ceiling

async def bench_raw(settings: Settings, items: list[WireItem]) -> float:
    topic = f"{settings.topic_prefix}raw-ceiling"
    now = datetime.now(timezone.utc)
    payloads = [orjson.dumps(item.payload(now)) for item in items]
    producer = kafka.producer(settings, linger_ms=5, max_batch_size=256 * 1024)
    # The broker's best: with data always waiting a short fetch wait costs
    # nothing here (a 100 ms wait measured 24,900 records/s against 51,100).
    consumer = kafka.consumer(settings, topic, fetch_max_wait_ms=10)
    await producer.start()
    await consumer.start()
    try:
        started = time.perf_counter()
        for payload in payloads:
            await producer.send(topic, payload)
        await producer.flush()
        received = 0
        while received < len(payloads):
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            if not batches:
                break
            received += sum(len(records) for records in batches.values())
        return received / (time.perf_counter() - started)
    finally:
        await producer.stop()
        await consumer.stop()


# ---------------------------------------------------------------- 3 and 4. whole systems

@dataclass
class Observed:
    """What the bench saw on the output topics."""

    enriched_latency: list[float] = field(default_factory=list)
    alert_latency: list[float] = field(default_factory=list)
    outcomes: int = 0
    last_output: float = 0.0


class Watcher:
    """Reads the output topics and measures latency against the send times."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.received_at: dict[str, float] = {}
        self.observed = Observed()
        self.task: asyncio.Task[None] | None = None

    def reset(self) -> Observed:
        observed, self.observed = self.observed, Observed()
        return observed

    async def start(self) -> None:
        topics = self.settings.topics
        self.consumer = kafka.consumer(self.settings, topics.enriched, topics.duplicates,
                                       topics.deadletter, topics.alerts,
                                       fetch_max_wait_ms=self.settings.fetch_wait_ms,
                                       auto_offset_reset="latest")
        await self.consumer.start()
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        await self.consumer.stop()

    async def _run(self) -> None:
        topics = self.settings.topics
        while True:
            batches = await self.consumer.getmany(timeout_ms=100)
            for tp, records in batches.items():
                for message in records:
                    self._observe(tp.topic, message, topics)

    def _observe(self, topic: str, message: Any, topics: Any) -> None:
        sent_at = message.timestamp / 1000
        data = orjson.loads(message.value)
        if topic == topics.alerts:
            received = self.received_at.get(data["article_id"])
            if received is not None:
                self.observed.alert_latency.append(sent_at - received)
            return
        self.observed.outcomes += 1
        self.observed.last_output = time.time()
        if topic == topics.enriched:
            received = self.received_at.get(data["article"]["id"])
            if received is not None:
                self.observed.enriched_latency.append(sent_at - received)


async def _send(settings: Settings, watcher: Watcher, items: list[WireItem], suffix: str,
                rate: float | None) -> float:
    producer = kafka.producer(settings, embedded=settings.broker_kind == "tansu")
    await producer.start()
    started = time.time()
    try:
        for number, item in enumerate(items):
            if rate:
                delay = started + number / rate - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            now = datetime.now(timezone.utc)
            item_id = f"{item.id}{suffix}"
            watcher.received_at[item_id] = now.timestamp()
            payload = item.payload(now) | {"id": item_id}
            await producer.send(settings.topics.raw, orjson.dumps(payload), key=item_id.encode())
        await producer.flush()
    finally:
        await producer.stop()
    return started


async def _wait_outcomes(watcher: Watcher, count: int, timeout: float) -> bool:
    deadline = time.time() + timeout
    while watcher.observed.outcomes < count and time.time() < deadline:
        await asyncio.sleep(0.2)
    return watcher.observed.outcomes >= count


def _start(kind: str, settings: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    env = settings.replace(
        metrics_port=0, data_dir=log_path.parent / "state", log_level="warning",
        entity_workers=int(os.environ.get("WIREWATCH_ENTITY_WORKERS", "1")),
    ).child_environment(os.environ)
    command = {
        "plain": [sys.executable, "-m", "bench.plain_loop", "--idle", "3600"],
        "pipeline": [sys.executable, "-m", "agents.cli", "worker"],
        "no-metrics": [sys.executable, "-m", "bench.no_metrics_worker"],
    }[kind]
    with log_path.open("wb") as log:
        return subprocess.Popen(orphan_safe(command), env=env, cwd=REPO,  # noqa: S603
                                stdout=log, stderr=subprocess.STDOUT)


async def bench_system(kind: str, broker_url: str, pools: dict[str, list[WireItem]],
                       rates: list[float], rate_seconds: float, workdir: Path) -> dict[str, Any]:
    """One repetition of the plain loop or the pipeline."""
    run = uuid.uuid4().hex[:6]
    settings = Settings.from_env({
        "WIREWATCH_BROKER": broker_url, "WIREWATCH_BROKER_KIND": "tansu",
        "WIREWATCH_APP_ID": f"bench-{kind}-{run}", "WIREWATCH_TOPIC_PREFIX": f"b{run}.",
    })
    await kafka.create_topics(settings)
    process = _start(kind, settings, workdir / f"{kind}-{run}.log")
    watcher = Watcher(settings)
    await watcher.start()
    result: dict[str, Any] = {}
    try:
        # Warm up: the worker has joined its group and loaded its model when
        # the first article comes out.
        await _send(settings, watcher, pools["warmup"][:1], f"~w{run}", None)
        if not await _wait_outcomes(watcher, 1, WARM_UP_TIMEOUT):
            raise RuntimeError(f"{kind} produced nothing in {WARM_UP_TIMEOUT:.0f}s; "
                               f"see {workdir}/{kind}-{run}.log")
        await asyncio.sleep(2)
        for rate in rates:
            items = pools[f"rate{rate:g}"][: int(rate * rate_seconds)]
            watcher.reset()
            await _send(settings, watcher, items, f"~r{run}", rate)
            await _wait_outcomes(watcher, len(items), 120)
            observed = watcher.reset()
            result[f"at_{rate:g}"] = _latencies(observed)
        items = pools["max"]
        watcher.reset()
        cpu_before = cpu_seconds(process.pid)
        started = await _send(settings, watcher, items, f"~m{run}", None)
        complete = await _wait_outcomes(watcher, len(items), 600)
        observed = watcher.observed
        elapsed = observed.last_output - started
        result["max"] = _latencies(observed) | {
            "throughput": observed.outcomes / elapsed if elapsed > 0 else float("nan"),
            "complete": complete,
            "cpu_s_per_article": (cpu_seconds(process.pid) - cpu_before) / max(1, len(items)),
        }
        result["peak_rss_mb"] = memory_mb(process.pid)
    finally:
        await watcher.stop()
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
    return result


def _latencies(observed: Observed) -> dict[str, float]:
    return {
        "enriched_p50": percentile(observed.enriched_latency, 50),
        "enriched_p95": percentile(observed.enriched_latency, 95),
        "enriched_p99": percentile(observed.enriched_latency, 99),
        "alert_p50": percentile(observed.alert_latency, 50),
        "alert_p99": percentile(observed.alert_latency, 99),
        "alerts": float(len(observed.alert_latency)),
    }


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every number across repetitions (max for peak RSS)."""
    merged: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, dict):
            merged[key] = _merge([run[key] for run in runs])
        elif isinstance(value, bool):
            merged[key] = all(run[key] for run in runs)
        elif key == "peak_rss_mb":
            merged[key] = max(run[key] for run in runs)
        else:
            merged[key] = median([run[key] for run in runs])
    return merged


# ---------------------------------------------------------------- output

def _progress(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return "n/a" if seconds != seconds else f"{seconds * 1000:,.0f} ms"


def report(results: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}; {args.articles} articles at "
        f"maximum rate, medians of {args.repeat} runs; offered rates "
        f"{', '.join(f'{r:g}/s' for r in args.rates)} for {args.rate_seconds:g} s each.",
        "",
        "| what | articles/s | CPU s/article | peak RSS | to enriched p50 / p95 / p99 | to alert p50 / p99 |",
        "|---|---:|---:|---:|---:|---:|",
        f"| 1. raw broker ceiling (aiokafka produce + consume) | {results['raw']:,.0f} | | | | |",
    ]
    for name, stage in results["stages"].items():
        pool = stage.get("articles_per_s_pool")
        extra = f" ({pool:,.0f} in {args.pool} processes)" if pool else ""
        lines.append(f"| 2. stage `{name}` alone, one core{extra} | "
                     f"{stage['articles_per_s_one_core']:,.0f} | | | | |")
    for label, key in (("3. plain single-process loop", "plain"),
                       ("4. wirewatch pipeline (agents)", "pipeline"),
                       ("5. pipeline, metric updates disabled", "no-metrics")):
        system = results.get(key)
        if not system:
            continue
        top = system["max"]
        lines.append(
            f"| {label}, max rate | {top['throughput']:,.1f} | {top['cpu_s_per_article']:.4f} | "
            f"{system['peak_rss_mb']:,.0f} MB | {_ms(top['enriched_p50'])} / "
            f"{_ms(top['enriched_p95'])} / {_ms(top['enriched_p99'])} | "
            f"{_ms(top['alert_p50'])} / {_ms(top['alert_p99'])} |")
        for rate in args.rates:
            at = system[f"at_{rate:g}"]
            lines.append(
                f"| {label}, offered {rate:g}/s | | | | {_ms(at['enriched_p50'])} / "
                f"{_ms(at['enriched_p95'])} / {_ms(at['enriched_p99'])} | "
                f"{_ms(at['alert_p50'])} / {_ms(at['alert_p99'])} |")
    if results.get("plain") and results.get("pipeline") and results["stages"]:
        pipe = results["pipeline"]["max"]["throughput"]
        plain = results["plain"]["max"]["throughput"]
        slowest = min(s["articles_per_s_one_core"] for s in results["stages"].values())
        slowest_pool = min(s.get("articles_per_s_pool", s["articles_per_s_one_core"])
                           for s in results["stages"].values())
        lines += ["", f"Ratios: pipeline / plain loop = {pipe / plain:.2f}; pipeline / slowest "
                      f"stage alone = {pipe / slowest:.2f} (one core), "
                      f"{pipe / slowest_pool:.2f} (slowest stage in {args.pool} processes; "
                      f"the pipeline ran its model in "
                      f"{os.environ.get('WIREWATCH_ENTITY_WORKERS', '1')})."]
        results["ratios"] = {"pipeline_over_plain": pipe / plain,
                             "pipeline_over_slowest_stage": pipe / slowest,
                             "pipeline_over_slowest_stage_pool": pipe / slowest_pool}
    if results.get("pipeline") and results.get("no-metrics"):
        on, off = results["pipeline"]["max"], results["no-metrics"]["max"]
        throughput = 1 - on["throughput"] / off["throughput"]
        cpu = on["cpu_s_per_article"] / off["cpu_s_per_article"] - 1
        # Runs alternate, so run i of 4 and run i of 5 met the same machine.
        paired = median([1 - a / b for a, b in zip(results["runs"]["pipeline"],
                                                   results["runs"]["no-metrics"], strict=True)])
        lines += ["", (f"Metrics cost (4 against 5; target under 5%): {cpu:+.1%} CPU per "
                       f"article and {throughput:.1%} of throughput (medians); {paired:.1%} of "
                       "throughput as the median of the run-by-run pairs.")]
        results["metrics_cost"] = {"throughput_share": throughput, "cpu_share": cpu,
                                   "paired_throughput_share": paired}
    return "\n".join(lines)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", type=Path, default=DEFAULT_DATA,
                        help=f"Reuters-21578-format JSONL (default: {DEFAULT_DATA})")
    parser.add_argument("--articles", type=int, default=1500,
                        help="articles for the maximum-rate runs (default 1500)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--rates", type=float, nargs="*", default=[20.0, 100.0],
                        help="offered rates for the latency runs (default 20 100)")
    parser.add_argument("--rate-seconds", type=float, default=20.0,
                        help="seconds of each fixed-rate run (default 20)")
    parser.add_argument("--pool", type=int, default=2, help="processes for the pooled stage run")
    parser.add_argument("--only", choices=["stages", "raw", "plain", "pipeline", "no-metrics"],
                        nargs="*",
                        help="run only these parts")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")


def run(args: argparse.Namespace) -> int:
    if not args.file.exists():
        print(f"bench: skipped: no article file at {args.file} (pass --file PATH, a JSONL in "
              "the Reuters-21578 format)", file=sys.stderr)
        return 0
    parts = set(args.only or ["stages", "raw", "plain", "pipeline", "no-metrics"])
    need = args.articles + int(sum(args.rates) * args.rate_seconds) + 10
    items = load_items(args.file, need)
    results: dict[str, Any] = {"stages": {}, "raw": float("nan")}
    if "stages" in parts:
        results["stages"] = bench_stages(items[: args.articles], args.repeat, args.pool)
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"wirewatch-bench-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    with EmbeddedBroker.start(log_path=workdir / "broker.log") as broker:
        base = Settings.from_env({"WIREWATCH_BROKER": broker.url,
                                  "WIREWATCH_BROKER_KIND": "tansu",
                                  "WIREWATCH_TOPIC_PREFIX": "bench-raw."})
        if "raw" in parts:
            results["raw"] = median([asyncio.run(bench_raw(base.replace(
                topic_prefix=f"raw{i}."), items[: args.articles])) for i in range(args.repeat)])
            _progress(f"raw broker ceiling: {results['raw']:,.0f} records/s")
        # The pipeline with and without metric updates alternate, run by run.
        for group in (["plain"], ["pipeline", "no-metrics"]):
            kinds = [kind for kind in group if kind in parts]
            runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
            for repetition in range(args.repeat if kinds else 0):
                for kind in kinds:
                    # Every run has fresh topics and consumer group: no state is shared.
                    pools = _pools(items, args)
                    runs[kind].append(asyncio.run(bench_system(
                        kind, broker.url, pools, args.rates, args.rate_seconds, workdir)))
                    _progress(f"{kind} run {repetition + 1}: "
                              f"{runs[kind][-1]['max']['throughput']:,.1f} articles/s")
            results |= {kind: _merge(done) for kind, done in runs.items()}
            results["runs"] = results.get("runs", {}) | {
                kind: [run["max"]["throughput"] for run in done] for kind, done in runs.items()}
    table = report(results, args)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps({"task": "bench", **{k: v for k, v in results.items() if k != "stages"},
                      "stages": results["stages"]}, default=str))
    return 0


def _pools(items: list[WireItem], args: argparse.Namespace) -> dict[str, list[Any]]:
    pools: dict[str, list[Any]] = {"max": items[: args.articles]}
    cursor = args.articles
    for rate in args.rates:
        size = int(rate * args.rate_seconds)
        pools[f"rate{rate:g}"] = items[cursor: cursor + size]
        cursor += size
    pools["warmup"] = items[cursor: cursor + 1] or items[:1]
    return pools


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wirewatch bench", description=__doc__.split("\n\n")[0])
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
