"""De-duplication across a crash: kill -9 the worker in the middle of a replay with known
duplicates, restart it, replay the rest. Every copy is still marked a duplicate of its
original (also copies of articles seen only before the crash), no original is lost or
marked a duplicate, and no alert is published twice."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import orjson

from pipeline import dedup
from pipeline.codec import alert_from_bytes, enriched_from_bytes
from pipeline.errors import InvalidRecord
from pipeline.ingest import IngestPolicy, validate_article
from tests.integration.conftest import (
    group_positions,
    poll_until,
    produce,
    read_topic,
    topic_size,
)
from tests.integration.test_reliability import RECOVER_STALLS_SOON, reuters_payloads, warnings_of


def reprint(payload: bytes) -> bytes:
    """What a portal makes of a wire story: new id and source, a byline, a footer."""
    article = orjson.loads(payload)
    return orjson.dumps(article | {
        "id": article["id"] + "-reprint", "source": "portal",
        "headline": article["headline"].title(),
        "body": "By a staff reporter\n\n" + article["body"]
                + "\n\nSubscribe to our newsletter for more news like this."})


def distinct_originals(payloads: list[bytes], count: int) -> list[bytes]:
    """The first ``count`` articles the dedup stage itself finds unique, in order.

    The test is about state across a crash, not about the similarity rules, so
    originals the stage would group as duplicates of each other are left out.
    """
    index, now, chosen = dedup.DedupIndex(), datetime.now(UTC), []
    for payload in payloads:
        try:
            article = validate_article(payload, IngestPolicy(), now)
        except InvalidRecord:
            continue  # e.g. an empty body: ingest's business, not this test's
        result = dedup.deduplicate(index, article)
        if not result.verdict.is_duplicate and len(result.article.body) > 400:
            chosen.append(payload)
            if len(chosen) == count:
                break
    return chosen


async def outcomes(settings) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Article id -> kinds seen, and duplicate id -> what it was marked a duplicate of."""
    kinds: dict[str, set[str]] = {}
    duplicate_of: dict[str, set[str]] = {}
    for topic in (settings.topics.unique, settings.topics.duplicates):
        for message in await read_topic(settings, topic, idle=1):
            record = enriched_from_bytes(message.value)
            kinds.setdefault(record.article.id, set()).add(record.dedup.kind)
            if record.dedup.duplicate_of is not None:
                duplicate_of.setdefault(record.article.id, set()).add(record.dedup.duplicate_of)
    return kinds, duplicate_of


async def where_ids(settings, ids: set[str]) -> str:
    """Each id and the topic positions whose record holds it: where a missing id stopped."""
    topics = settings.topics
    # The id as a whole word: a dead letter holds its payload as an escaped string.
    patterns = {i: re.compile(rb"(?<![\w-])" + re.escape(i.encode()) + rb"(?![\w-])") for i in ids}
    found: dict[str, list[str]] = {i: [] for i in ids}
    for topic in (topics.raw, topics.valid, topics.unique, topics.duplicates, topics.deadletter):
        for message in await read_topic(settings, topic, idle=1):
            for i, pattern in patterns.items():
                if pattern.search(message.value or b""):
                    found[i].append(f"{message.topic}[{message.partition}]@{message.offset}")
    return "\n".join(f"{i} is at {', '.join(places) or 'no position'}"
                     for i, places in sorted(found.items()))


async def wait_deduplicated(settings, expected: int, timeout: float) -> int:
    async def out_of_dedup() -> int:
        return (await topic_size(settings, settings.topics.unique)
                + await topic_size(settings, settings.topics.duplicates))

    return await poll_until(out_of_dedup, lambda done: done >= expected, timeout, interval=0.5)


async def test_duplicates_are_still_marked_after_kill_9_and_restart(settings, start_worker):
    # Reuters-21578 spans weeks of 1987 and the index keeps 72 h of article
    # time: give every article the same day, so nothing expires mid-test.
    day = datetime.now(UTC).replace(microsecond=0).isoformat()
    payloads = [orjson.dumps(orjson.loads(p) | {"published_at": day})
                for p in reuters_payloads(600)]
    originals = distinct_originals(payloads, 240)
    assert len(originals) == 240
    first_half, second_half = originals[:120], originals[120:]
    id_of = {p: orjson.loads(p)["id"] for p in originals}
    # Before the crash: 120 originals, then reprints of the first 60.
    before = first_half + [reprint(p) for p in first_half[:60]]
    # After it: reprints of originals the crashed worker saw (60..119, and 0..29
    # again as a second reprint source), then new originals and their reprints.
    after = ([reprint(p) for p in first_half[60:]]
             + [orjson.dumps(orjson.loads(reprint(p)) | {"id": id_of[p] + "-again"})
                for p in first_half[:30]]
             + second_half + [reprint(p) for p in second_half[:60]])

    # As in the other crash tests, a partition Faust holds back after the
    # restart is fetched again after 30 s, well inside the 120 s wait below.
    first = worker = start_worker(RECOVER_STALLS_SOON)
    await produce(settings, before)
    done = await wait_deduplicated(settings, len(before) // 2, timeout=180)
    assert done >= len(before) // 2, worker.log()[-3000:]
    worker.kill()
    worker = start_worker(RECOVER_STALLS_SOON)
    await produce(settings, after)
    total = len(before) + len(after)
    done = await wait_deduplicated(settings, total, timeout=300)
    assert done >= total, f"{done} of {total} came out of dedup\n" + worker.log()[-3000:]
    # Records processed again after the crash count too, so the count can be
    # reached with the last few still in flight: wait for every id.
    sent = {orjson.loads(p)["id"] for p in before + after}
    kinds, duplicate_of = await poll_until(lambda: outcomes(settings),
                                           lambda found: sent <= found[0].keys(), 120,
                                           interval=2.0)
    assert sent <= kinds.keys(), (
        f"never came out of dedup: {sorted(sent - kinds.keys())}\n"
        + await where_ids(settings, sent - kinds.keys()) + "\n"
        + await group_positions(settings) + "\n" + warnings_of(first) + warnings_of(worker)
        + worker.log()[-3000:]
    )
    copies = {orjson.loads(p)["id"]: orjson.loads(p)["id"].rsplit("-", 1)[0]
              for p in before + after if orjson.loads(p)["id"] not in id_of.values()}
    assert len(copies) == 60 + 60 + 30 + 60
    # No original lost, none marked a duplicate (a re-processed original keeps its verdict).
    wrong = {i: (kinds.get(i), duplicate_of.get(i)) for i in id_of.values()
             if kinds.get(i) != {"unique"}}
    assert not wrong, wrong
    # Every copy marked a duplicate of its own original, whichever side of the crash.
    unmarked = {c: (kinds.get(c), duplicate_of.get(c)) for c, original in copies.items()
                if kinds.get(c) is None or "unique" in kinds[c]
                or duplicate_of.get(c) != {original}}
    assert not unmarked, unmarked
    alert_ids = [alert_from_bytes(m.value).id
                 for m in await read_topic(settings, settings.topics.alerts, idle=1)]
    assert len(alert_ids) == len(set(alert_ids))
    assert worker.alive(), worker.log()[-3000:]
