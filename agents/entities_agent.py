"""Entity agent: ``articles.unique`` -> tag people, organisations, places -> ``articles.tagged``.

The model is CPU-heavy, so articles are taken in batches (``take_events``,
bounded by ``WIREWATCH_BATCH_SIZE`` and ``WIREWATCH_BATCH_TIMEOUT``) and
tagged in a process pool (``WIREWATCH_ENTITY_WORKERS`` processes, each
loading the model once): the event loop stays free for Kafka while the
model runs on another core. One batch more than there are processes is in
flight, so the model does not wait for the event loop; outputs still leave
in input order and a batch is acked only once its records are sent.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import time
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any

from agents.app import Context, HeldEvent
from agents.embedded import die_with_parent
from agents.stage import attempt, dead_letter, emit, utcnow
from pipeline import entities
from pipeline.codec import enriched_from_bytes, to_bytes
from pipeline.errors import TransientError
from pipeline.records import EnrichedArticle, TaggedEntities

STAGE = "entities"


def _start_model_process() -> None:
    # A model process must not outlive its worker, even one killed with -9.
    die_with_parent()
    # Ctrl-C reaches the whole process group; the worker shuts the pool down
    # itself, so a model process that also stopped on it would only print a
    # KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    entities.warm_up()


def _pool(ctx: Context) -> Executor:
    if ctx.executor is None:
        # spawn, not fork: the worker already runs threads (Faust's consumer).
        ctx.executor = ProcessPoolExecutor(
            max_workers=ctx.settings.entity_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_model_process,
        )
    return ctx.executor


def register(ctx: Context) -> Any:
    settings = ctx.settings
    tagged_topic = ctx.topic(settings.topics.tagged)
    m = ctx.metrics
    counted = m.stage(STAGE)
    counted_tagged = counted.outcome("tagged")
    # Each source's usual country, learnt from the articles this worker tags
    # (see pipeline/_entities_sources.py): kept in memory, learnt again after
    # a restart within a few articles per source.
    sources = entities.SourceCountries()

    async def tag(records: list[EnrichedArticle]) -> list[TaggedEntities]:
        loop = asyncio.get_running_loop()
        articles = [r.article for r in records]
        homes = sources.homes(articles)

        async def call() -> list[TaggedEntities]:
            try:
                return await loop.run_in_executor(_pool(ctx), entities.tag_entities_batch,
                                                  articles, homes)
            except BrokenProcessPool as exc:
                # A model process died (out of memory, killed): not the
                # articles' fault. Start a new pool and retry the batch.
                ctx.executor = None
                raise TransientError(f"entities: model process died: {exc}") from exc

        results = await attempt(ctx, STAGE, call)
        sources.learn_batch(articles, results)
        return results

    @ctx.app.task
    async def start_model_processes() -> None:
        # Load the model before the first article arrives, so the first
        # batch does not wait for it and a broken model shows at start-up.
        await asyncio.get_running_loop().run_in_executor(_pool(ctx), entities.warm_up)

    async def tag_batch(events: list[Any]) -> list[tuple[Any, EnrichedArticle | None]]:
        decoded: list[tuple[Any, EnrichedArticle]] = []
        for event in events:
            try:
                decoded.append((event, enriched_from_bytes(event.value)))
            except Exception as exc:  # noqa: BLE001 - dead-letter and go on
                await dead_letter(ctx, STAGE, exc, event.value, event)
        started = time.perf_counter()
        try:
            results = await tag([record for _, record in decoded])
        except Exception:  # noqa: BLE001 - find the bad record(s) one by one
            results = []
            for event, record in decoded:
                try:
                    results.extend(await tag([record]))
                except Exception as exc:  # noqa: BLE001
                    await dead_letter(ctx, STAGE, exc, event.value, event)
                    results.append(None)
        counted.duration.observe(time.perf_counter() - started)
        now = utcnow()
        return [
            (event, None if result is None else replace(
                record, entities=result, times=replace(record.times, tagged_at=now)))
            for (event, record), result in zip(decoded, results, strict=True)
        ]

    async def finish(stream: Any, batch: list[Any], earlier: asyncio.Task[None] | None) -> None:
        """Tag a batch, then (after the batch before it) send its records and ack them."""
        tagged = await tag_batch(batch)
        if earlier is not None:
            await earlier  # outputs leave in input order
        for event, record in tagged:
            if record is None or not await emit(ctx, STAGE, tagged_topic,
                                                record.story_id.encode(),
                                                to_bytes(record), event):
                continue
            counted_tagged.inc()
            for entity in record.entities.entities:
                m.entities.labels(label=entity.label).inc()
        for event in batch:
            await stream.ack(event)

    @ctx.app.agent(ctx.topic(settings.topics.unique), name="wirewatch.entities")
    async def entities_agent(stream: Any) -> None:
        # Up to one batch more than there are model processes is in flight:
        # while a process tags one batch the next waits in the pool's queue,
        # so the model never idles while the event loop sends the previous
        # batch's records and collects the next batch. Measured with one model
        # process: awaiting each batch before taking the next kept the model
        # busy only part of the time (pipeline 105 articles/s against 154 for
        # the model alone).
        # Each batch in flight, as its first record and the task finishing it.
        in_flight: deque[HeldEvent] = deque()
        try:
            async for events in stream.take_events(settings.batch_size,
                                                   settings.batch_timeout):
                batch = list(events)
                # take_events acks a batch when the next one is asked for, and
                # also when the agent is stopped in the middle of it (SIGTERM):
                # the batch would then be committed without being processed,
                # and lost (the SIGTERM test lost 32 articles). An extra
                # reference per message, released only once its output is
                # sent, keeps an unfinished batch uncommitted, to be processed
                # again on restart.
                for event in batch:
                    event.message.incref()
                earlier = in_flight[-1].task if in_flight else None
                first = batch[0].message
                in_flight.append(HeldEvent(
                    first.topic, first.partition, first.offset, time.monotonic(),
                    asyncio.ensure_future(finish(stream, batch, earlier))))
                while in_flight and (len(in_flight) > settings.entity_workers
                                     or in_flight[0].task.done()):
                    await in_flight.popleft().task  # re-raises what went wrong
                # The oldest unfinished batch, for the stall watch (agents/lag.py).
                if in_flight:
                    ctx.held[STAGE] = in_flight[0]
                else:
                    ctx.held.pop(STAGE, None)
        finally:
            # Stopped (or failed): unfinished batches stay unacked, so they
            # are not committed and the next worker tags them again.
            for held in in_flight:
                held.task.cancel()
            ctx.held.pop(STAGE, None)

    return entities_agent
