"""Ingest agent: ``articles.raw`` -> validate and clean -> ``articles.valid``.

Keyed by article id on the way out. ``articles.valid`` has one partition, so
the de-duplication stage sees every article in arrival order.
"""

from __future__ import annotations

from typing import Any

from agents.app import Context
from agents.stage import emit, events_acked_when_done, origin_header, run_one, utcnow
from pipeline import ingest
from pipeline.codec import to_bytes
from pipeline.errors import InvalidRecord
from pipeline.records import Article

STAGE = "ingest"


def register(ctx: Context) -> Any:
    topics = ctx.settings.topics
    policy = ingest.IngestPolicy(max_body_bytes=ctx.settings.max_body_bytes)
    valid = ctx.topic(topics.valid)
    counted_valid = ctx.metrics.stage(STAGE).outcome("valid")

    def validate(payload: bytes | None) -> Article:
        if payload is None:
            raise InvalidRecord("ingest: record has no value (null)")
        return ingest.validate_article(payload, policy, utcnow())

    @ctx.app.agent(ctx.topic(topics.raw), name="wirewatch.ingest")
    async def ingest_agent(stream: Any) -> None:
        async for event in events_acked_when_done(ctx, STAGE, stream):
            article = await run_one(ctx, STAGE, event, validate, event.value)
            if article is None:
                continue
            if await emit(ctx, STAGE, valid, article.id.encode(), to_bytes(article), event,
                          headers=origin_header(event)):
                counted_valid.inc()

    return ingest_agent
