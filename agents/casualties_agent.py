"""Casualty agent: ``articles.tagged`` -> extract casualty figures -> ``articles.enriched``.

The extractor is rules over sentences (well under a millisecond per
article), so it runs inline, one event at a time.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from agents.app import Context
from agents.stage import emit, events_acked_when_done, run_one, utcnow
from pipeline import casualties
from pipeline.codec import enriched_from_bytes, to_bytes
from pipeline.records import EnrichedArticle

STAGE = "casualties"


def enrich(payload: bytes) -> EnrichedArticle:
    record = enriched_from_bytes(payload)
    report = casualties.extract_casualties(record.article.text, record.entities)
    return replace(record, casualties=report,
                   times=replace(record.times, enriched_at=utcnow()))


def register(ctx: Context) -> Any:
    enriched_topic = ctx.topic(ctx.settings.topics.enriched)
    m = ctx.metrics
    counted = m.stage(STAGE)
    counted_enriched = counted.outcome("enriched")

    @ctx.app.agent(ctx.topic(ctx.settings.topics.tagged), name="wirewatch.casualties")
    async def casualties_agent(stream: Any) -> None:
        async for event in events_acked_when_done(ctx, STAGE, stream):
            record = await run_one(ctx, STAGE, event, enrich, event.value)
            if record is None:
                continue
            if not await emit(ctx, STAGE, enriched_topic, record.story_id.encode(),
                              to_bytes(record), event):
                continue
            counted_enriched.inc()
            for figure in record.casualties.figures:
                m.casualty_figures.labels(category=figure.category).inc()
            # Seconds since the epoch on both sides: a third of the cost of
            # subtracting two aware datetimes, and this runs for every article.
            latency = time.time() - record.article.received_at.timestamp()
            counted.latency_to_enriched.observe(max(latency, 0.0))

    return casualties_agent
