"""Two workers in one consumer group: they share the partitions, one stops, the other takes over.

Real ``wirewatch worker`` processes on the session's broker (embedded Tansu
unless WIREWATCH_BROKER is set). Which worker holds which partitions is read
from each worker's own log (Faust prints its assignment after every
rebalance); what each worker did is read from its /metrics endpoint.

The worker that is stopped is the one holding ``articles.valid`` (the single
de-duplication partition), so the survivor must rebuild the de-duplication
index from its changelog topic: copies of articles the stopped worker indexed
must still come out as duplicates.
"""

from __future__ import annotations

import json
import random
import re
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agents import kafka
from agents.embedded import free_port
from agents.settings import Settings
from pipeline.codec import dead_letter_from_bytes, enriched_from_bytes
from tests.integration.conftest import WorkerProcess, produce, read_topic, wait_for

PARTITIONS = 4
_ASSIGNMENT = re.compile(r"Setting newly assigned partitions\s*\n(.*?)for group", re.DOTALL)
_ROW = re.compile(r"^\|\s*(\S+)\s*\|\s*\{([^}]*)\}\s*\|", re.MULTILINE)
#: Words for article bodies: random 60-word texts share no 5-word shingle.
_WORDS = ("river flood village bridge council police market school harbour storm road rain "
          "farmers hospital minister election court trial border army talks fuel prices "
          "strike workers union factory port airport train crash fire forest drought crops "
          "water power grid outage protest crowd square capital rebels ceasefire aid convoy "
          "refugees camp doctors vaccine clinic survey budget tax bank currency exports "
          "mine miners rescue tunnel quake aftershock coast ferry fishermen navy patrol "
          "summit leaders treaty oil gas pipeline dam reservoir levee canal embankment").split()


def assignment(worker: WorkerProcess) -> dict[str, set[int]]:
    """The partitions a worker was assigned last, by topic ({} before its first assignment)."""
    tables = _ASSIGNMENT.findall(worker.log())
    if not tables:
        return {}
    result: dict[str, set[int]] = {}
    for topic, spec in _ROW.findall(tables[-1]):
        partitions: set[int] = set()
        for part in filter(None, (p.strip() for p in spec.split(","))):
            low, _, high = part.partition("-")
            partitions.update(range(int(low), int(high or low) + 1))
        result[topic] = partitions
    return result


def ready(worker: WorkerProcess) -> bool:
    """Whether a worker finished recovering after its last assignment (Faust says so)."""
    log = worker.log()
    return log.rfind("Worker ready") > log.rfind("Setting newly assigned partitions")


def articles_total(port: int) -> Counter[tuple[str, str]]:
    """A worker's wirewatch_articles_total by (stage, outcome)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:  # noqa: S310
        text = response.read().decode()
    counts: Counter[tuple[str, str]] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "wirewatch_articles_total":
                counts[sample.labels["stage"], sample.labels["outcome"]] += int(sample.value)
    return counts


def article(article_id: str, text: str) -> bytes:
    return json.dumps({"id": article_id, "source": "scale-test", "headline": f"Report {article_id}",
                       "body": text, "published_at": datetime.now(UTC).isoformat()}
                      ).encode()


def body(rng: random.Random) -> str:
    return "\n".join(" ".join(rng.choices(_WORDS, k=30)).capitalize() + "." for _ in range(2))


def bad(article_id: str) -> bytes:
    return json.dumps({"id": article_id, "source": "scale-test", "body": ""}).encode()


def id_of(topics: Any, message: Any) -> str:
    """The article id of an output message: enriched, duplicate or dead letter."""
    if message.topic == topics.deadletter:
        return json.loads(dead_letter_from_bytes(message.value).payload)["id"]
    return enriched_from_bytes(message.value).article.id


def has_ids(topics: Any, wanted: set[str]) -> Callable[[list[Any]], bool]:
    """A ``read_topic`` stop condition: every id of ``wanted`` has come out."""
    return lambda messages: wanted <= {id_of(topics, m) for m in messages}


@pytest.mark.timeout(420)
async def test_two_workers_share_partitions_and_one_takes_over_when_the_other_stops(
        settings: Settings, start_worker) -> None:
    # The fixture created its topics with 2 partitions: this test's own, with more.
    settings = settings.replace(partitions=PARTITIONS, topic_prefix=f"{settings.topic_prefix}s.",
                                app_id=f"{settings.app_id}-s")
    await kafka.create_topics(settings)
    topics = settings.topics
    ports = [free_port(), free_port()]
    # A record fetched during the takeover and never handed on stalls its
    # partition until the stall watch fetches it again (agents/lag.py): seen
    # in 2 of 10 runs before the consumer sought with its flow stopped
    # (agents/app.py), in none of 20 since; 20 s instead of 60 keeps such a
    # run inside the timeouts should it happen again.
    workers = [start_worker(settings_=settings, extra_env={"WIREWATCH_METRICS_PORT": str(port),
                                                           "WIREWATCH_STALL_SECONDS": "20"})
               for port in ports]
    everything = set(range(PARTITIONS))

    def shared() -> bool:
        raw = [assignment(w).get(topics.raw, set()) for w in workers]
        return (raw[0] | raw[1] == everything and not raw[0] & raw[1] and all(raw)
                and all(map(ready, workers)))

    assert wait_for(shared, timeout=120), [w.log()[-2000:] for w in workers]
    owners = [w for w in workers if topics.valid in assignment(w)]
    assert len(owners) == 1, [assignment(w) for w in workers]
    stopped, survivor = owners[0], next(w for w in workers if w is not owners[0])
    survivor_port = ports[workers.index(survivor)]

    # Phase 1: both workers running.
    rng = random.Random(9)
    originals = {f"a{i:03d}": body(rng) for i in range(24)}
    first = [article(i, b) for i, b in originals.items()] + [bad("bad-1"), bad("bad-2")]
    await produce(settings, first)
    enriched = await read_topic(settings, topics.enriched, expect=24, timeout=180)
    assert len(enriched) == 24, [w.log()[-3000:] for w in workers]
    counts = [articles_total(port) for port in ports]
    # Both consumed articles.raw partitions; only the owner of articles.valid de-duplicated.
    assert all(c["ingest", "valid"] > 0 for c in counts), counts
    assert sum(c["ingest", "valid"] for c in counts) == 24
    assert articles_total(survivor_port)["dedup", "unique"] == 0

    # Stop the de-duplicating worker cleanly; the survivor takes every partition.
    assert stopped.terminate(timeout=90) == 0, stopped.log()[-3000:]

    def took_over() -> bool:
        now = assignment(survivor)
        return now.get(topics.raw) == everything and now.get(topics.valid) == {0}

    assert wait_for(took_over, timeout=120), survivor.log()[-3000:]

    # Phase 2: new articles, and copies (new ids) of articles the stopped worker indexed.
    fresh = {f"b{i:03d}": body(rng) for i in range(12)}
    copies = {f"copy-{i}": originals[i] for i in list(originals)[:8]}
    second = ([article(i, b) for i, b in fresh.items()] + [article(i, b) for i, b in copies.items()]
              + [bad("bad-3"), bad("bad-4")])
    await produce(settings, second)

    sent = set(originals) | set(fresh) | set(copies) | {"bad-1", "bad-2", "bad-3", "bad-4"}
    enriched = await read_topic(settings, topics.enriched, idle=1, timeout=180,
                                until=has_ids(topics, set(originals) | set(fresh)))
    duplicates = await read_topic(settings, topics.duplicates, idle=1, timeout=90,
                                  until=has_ids(topics, set(copies)))
    dead = await read_topic(settings, topics.deadletter, idle=1, timeout=30,
                            until=has_ids(topics, {f"bad-{i}" for i in range(1, 5)}))
    out = [id_of(topics, m) for m in enriched + duplicates + dead]
    # Accounting by id: every article sent comes out, and in one place only.
    # Phase 2 is sent while the survivor is still recovering, and records of
    # it may come out twice (at-least-once, README): Faust may hand on a
    # record before it seeks the partition back to its commit and then hand it
    # on again (one article, once in 12 runs), and a partition the stall watch
    # fetches again repeats every record after the hole (17 of phase 2's 22,
    # once in 3 runs). Phase 1 was committed before the clean stop: no repeats.
    assert set(out) == sent, (set(sent) - set(out), set(out) - sent)
    places = [{id_of(topics, m) for m in messages} for messages in (enriched, duplicates, dead)]
    assert sum(map(len, places)) == len(sent), places
    repeats = Counter(out) - Counter(sent)
    phase_2 = set(fresh) | set(copies) | {"bad-3", "bad-4"}
    assert set(repeats) <= phase_2 and max(repeats.values(), default=0) <= 1, repeats
    assert {id_of(topics, m) for m in duplicates} == set(copies)
    # The survivor recognised the copies: it recovered the index from the changelog.
    verdicts = {enriched_from_bytes(m.value).article.id: enriched_from_bytes(m.value).dedup
                for m in duplicates}
    assert {c: verdicts[c].duplicate_of for c in copies} == {
        c: c.removeprefix("copy-") for c in copies}
    survivor_counts = articles_total(survivor_port)
    repeated = sum(repeats.values())
    assert len(copies) <= survivor_counts["dedup", "duplicate"] <= len(copies) + repeated
    assert len(fresh) <= survivor_counts["dedup", "unique"] <= len(fresh) + repeated
    assert survivor.alive(), survivor.log()[-3000:]
