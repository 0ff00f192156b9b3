"""The baseline: one aiokafka process that runs every stage inline.

What a user might write instead of a staged Faust pipeline: consume
``articles.raw``, validate, de-duplicate, tag, extract and evaluate alerts in
one loop, write ``articles.enriched``, ``articles.duplicates``, ``alerts`` and
``deadletter``. No state survives a restart and nothing scales past one
process: it is the floor the pipeline is measured against, not a product.

Run by ``bench/run.py`` as ``python -m bench.plain_loop`` with WIREWATCH_*
variables; stops after ``--idle`` seconds without input.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import replace
from datetime import datetime, timezone

from agents import kafka
from agents.settings import Settings
from pipeline import alerts, casualties, dedup, entities, ingest
from pipeline.codec import record_from_bytes, to_bytes
from pipeline.errors import PipelineError
from pipeline.records import DeadLetter, EnrichedArticle, StageTimes


async def run(settings: Settings, idle: float, batch: int) -> int:
    topics = settings.topics
    consumer = kafka.consumer(settings, topics.raw, group_id=f"{settings.app_id}-plain",
                              enable_auto_commit=True, fetch_max_wait_ms=settings.fetch_wait_ms,
                              max_poll_records=batch)
    producer = kafka.producer(settings, embedded=settings.broker_kind == "tansu")
    await consumer.start()
    await producer.start()
    index = dedup.DedupIndex()
    rules = alerts.load_rules(settings.rules_file.read_text(encoding="utf-8"))
    states: dict[str, bytes] = {}
    policy = ingest.IngestPolicy(max_body_bytes=settings.max_body_bytes)
    entities.warm_up()
    processed = 0
    loop = asyncio.get_running_loop()
    last = loop.time()
    try:
        while loop.time() - last < idle:
            batches = await consumer.getmany(timeout_ms=100, max_records=batch)
            messages = [m for records in batches.values() for m in records]
            if not messages:
                continue
            last = loop.time()
            unique: list[EnrichedArticle] = []
            for message in messages:
                now = datetime.now(timezone.utc)
                try:
                    article = ingest.validate_article(message.value or b"", policy, now)
                    result = dedup.deduplicate(index, article)
                except PipelineError as exc:
                    letter = DeadLetter("plain", str(exc), (message.value or b"")[:65536], now)
                    await producer.send(topics.deadletter, to_bytes(letter))
                    continue
                record = EnrichedArticle(article=result.article, dedup=result.verdict,
                                         times=StageTimes(deduplicated_at=now))
                if result.verdict.is_duplicate:
                    await producer.send(topics.duplicates, to_bytes(record))
                else:
                    unique.append(record)
            tags = entities.tag_entities_batch([r.article for r in unique]) if unique else []
            for record, tagged in zip(unique, tags, strict=True):
                report = casualties.extract_casualties(record.article.text, tagged)
                record = replace(record, entities=tagged, casualties=report,
                                 times=replace(record.times,
                                               enriched_at=datetime.now(timezone.utc)))
                key = record.story_id.encode()
                await producer.send(topics.enriched, to_bytes(record), key=key)
                raw_state = states.get(record.story_id)
                state = None if raw_state is None else record_from_bytes(alerts.StoryState,
                                                                         raw_state)
                state, fired = alerts.evaluate_alerts(rules, record, state)
                states[record.story_id] = to_bytes(state)
                for alert in fired:
                    await producer.send(topics.alerts, to_bytes(alert), key=key)
            processed += len(messages)
        await producer.flush()
    finally:
        await consumer.stop()
        await producer.stop()
    return processed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=float, default=20.0,
                        help="stop after this many seconds without input")
    parser.add_argument("--batch", type=int, default=32, help="records per poll and NER batch")
    args = parser.parse_args()
    settings = Settings.from_env({k: v for k, v in os.environ.items()
                                  if k.startswith("WIREWATCH_")})
    count = asyncio.run(run(settings, args.idle, args.batch))
    print(f"plain loop processed {count} records")


if __name__ == "__main__":
    main()
