"""De-duplication agent: ``articles.valid`` -> ``articles.unique`` or ``articles.duplicates``.

State: every indexed article's :class:`~pipeline.dedup.IndexEntry` lives in
the Faust table ``dedup-index`` (changelog-backed, so a restarted or
replacement worker recovers it); the in-memory index the pure stage searches
is rebuilt from that table before the first article is processed. The input
topic has one partition, so there is one index and global look-up is exact.

The table also keeps the newest article time seen (key ``LATEST_KEY``): the
index drops entries as that time advances, so a restarted worker drops them
at the same points as the worker it replaces would have.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from agents.app import Context
from agents.settings import Settings
from agents.stage import emit, events_acked_when_done, raw_position, run_one, utcnow
from pipeline import dedup
from pipeline.codec import article_from_bytes, record_from_bytes, to_bytes
from pipeline.records import EnrichedArticle, StageTimes

STAGE = "dedup"
#: Refresh the index-size gauge every this many articles (it walks the arrays).
GAUGE_EVERY = 256
#: Table key of the newest article time (not an article id: ids are non-empty text).
LATEST_KEY = b"\x00latest"


def dedup_config(settings: Settings) -> dedup.DedupConfig:
    """The stage's configuration from the ``WIREWATCH_DEDUP_*`` settings."""
    return dedup.DedupConfig(
        window=timedelta(hours=settings.dedup_window_hours),
        story_threshold=settings.dedup_story_threshold,
    )


def register(ctx: Context) -> Any:
    settings = ctx.settings
    topics = settings.topics
    unique, duplicates = ctx.topic(topics.unique), ctx.topic(topics.duplicates)
    table = ctx.app.Table("dedup-index", partitions=1, key_type=bytes, value_type=bytes)
    config = dedup_config(settings)
    state: dict[str, Any] = {"index": None, "seen": 0}
    m = ctx.metrics
    counted = m.stage(STAGE)

    def index() -> dedup.DedupIndex:
        # Built lazily: the table is only complete once recovery has finished,
        # which Faust guarantees before it delivers the first event.
        if state["index"] is None:
            rebuilt = dedup.DedupIndex(config)
            for key, raw in table.items():
                if raw is None:
                    continue
                if key == LATEST_KEY:
                    rebuilt.advance(datetime.fromisoformat(raw.decode()))
                else:
                    rebuilt.restore(record_from_bytes(dedup.IndexEntry, raw))
            state["index"] = rebuilt
        return state["index"]

    def check(payload: bytes, origin: int) -> dedup.DedupResult:
        return dedup.deduplicate(index(), article_from_bytes(payload), origin)

    @ctx.app.agent(ctx.topic(topics.valid), name="wirewatch.dedup")
    async def dedup_agent(stream: Any) -> None:
        async for event in events_acked_when_done(ctx, STAGE, stream):
            latest = index().latest
            # Where ingest read it on articles.raw: ingest re-processes raw
            # records after a crash, writing them to articles.valid again, and
            # such a copy must be recognised as the same delivery.
            origin = dedup.origin_of(*raw_position(event))
            result = await run_one(ctx, STAGE, event, check, event.value, origin)
            if result is None:
                continue
            if result.entry is not None:
                table[result.entry.article_id.encode()] = to_bytes(result.entry)
            record = EnrichedArticle(article=result.article, dedup=result.verdict,
                                     times=StageTimes(deduplicated_at=utcnow()))
            key = result.verdict.story_id.encode()
            outcome = "duplicate" if result.verdict.is_duplicate else "unique"
            target = duplicates if result.verdict.is_duplicate else unique
            newest = index().latest
            if newest is not None and newest != latest:
                table[LATEST_KEY] = newest.isoformat().encode()
            if await emit(ctx, STAGE, target, key, to_bytes(record), event):
                counted.outcome(outcome).inc()
            _expire()

    def _expire() -> None:
        # The index has already dropped these; the table follows.
        for article_id in index().expire():
            table.pop(article_id.encode(), None)
        state["seen"] += 1
        m.dedup_index_entries.set(len(index()))
        if state["seen"] % GAUGE_EVERY == 1:
            m.dedup_index_bytes.set(index().memory_bytes())

    return dedup_agent

