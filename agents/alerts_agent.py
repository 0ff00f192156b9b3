"""Alerts agent: ``articles.enriched`` -> evaluate rules -> ``alerts``.

Per-story state (best tolls, sources seen, last alerts) lives in the Faust
table ``story-state`` keyed by ``story_id``; the enriched topic is keyed by
``story_id`` too, so the table is co-partitioned with the stream and every
worker owns the stories of its partitions. Rules come from
``WIREWATCH_RULES_FILE``; an invalid file stops the worker at start-up, and
a changed file (or SIGHUP) is reloaded without a restart, keeping the old
rules if the new ones are invalid.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agents import kafka
from agents.app import Context
from agents.recent import RecentIds
from agents.stage import events_acked_when_done, run_one
from agents.webhook import WebhookSink
from pipeline import alerts
from pipeline.codec import alert_from_bytes, enriched_from_bytes, record_from_bytes, to_bytes
from pipeline.errors import RuleError
from pipeline.records import Alert, EnrichedArticle

log = logging.getLogger(__name__)
STAGE = "alerts"
RELOAD_CHECK_SECONDS = 5.0
EXPIRE_CHECK_SECONDS = 600.0


class RuleBook:
    """The current rule set, and the file it came from."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise RuleError(f"alert rules file not found: {path} (set WIREWATCH_RULES_FILE)")
        self.mtime = path.stat().st_mtime
        self.rules = alerts.load_rules(path.read_text(encoding="utf-8"), str(path))

    def reload(self, force: bool = False) -> bool:
        """Reload if the file changed (or ``force``); keep the old rules on error."""
        try:
            mtime = self.path.stat().st_mtime
            if not force and mtime == self.mtime:
                return False
            rules = alerts.load_rules(self.path.read_text(encoding="utf-8"), str(self.path))
        except (OSError, RuleError) as exc:
            log.error("alert rules not reloaded, keeping the previous set: %s", exc)
            return False
        self.rules, self.mtime = rules, mtime
        log.info("alert rules reloaded from %s", self.path)
        return True


def register(ctx: Context) -> Any:
    settings = ctx.settings
    alerts_topic = ctx.topic(settings.topics.alerts)
    book = RuleBook(settings.rules_file)
    # use_partitioner: the expiry timer deletes keys outside stream iteration,
    # so Faust must place them by hashing the key, as the producer placed the
    # story's records on articles.enriched (keyed by story_id): same partition.
    table = ctx.app.Table("story-state", partitions=settings.partitions,
                          key_type=bytes, value_type=bytes, use_partitioner=True)
    m = ctx.metrics
    counted = m.stage(STAGE)
    counted_evaluated = counted.outcome("evaluated")
    webhook = None
    if settings.webhook_url:
        webhook = WebhookSink(settings.webhook_url, timeout=settings.webhook_timeout,
                              on_outcome=lambda outcome: m.webhook_deliveries.labels(
                                  outcome=outcome).inc())

        @ctx.app.task
        async def deliver_webhooks() -> None:
            await webhook.run()

    published: RecentIds | None = None

    async def already_published() -> RecentIds:
        # At-least-once: after a crash the records since the last commit are
        # processed again. Alert ids are deterministic, so reading the ids
        # already on the alerts topic (alerts are few) makes publishing
        # idempotent: a re-processed article cannot put an alert there twice.
        nonlocal published
        if published is None:
            values = await kafka.recent_values(settings, settings.topics.alerts)
            published = RecentIds()
            for value in values:
                published.add(alert_from_bytes(value).id)
            log.info("alerts: %d alerts already published", len(published))
        return published

    def evaluate(payload: bytes) -> tuple[EnrichedArticle, Any, tuple[Alert, ...]]:
        record = enriched_from_bytes(payload)
        raw_state = table.get(record.story_id.encode())
        state = None if raw_state is None else record_from_bytes(alerts.StoryState, raw_state)
        new_state, fired = alerts.evaluate_alerts(book.rules, record, state)
        return record, new_state, fired

    @ctx.app.agent(ctx.topic(settings.topics.enriched), name="wirewatch.alerts")
    async def alerts_agent(stream: Any) -> None:
        async for event in events_acked_when_done(ctx, STAGE, stream):
            result = await run_one(ctx, STAGE, event, evaluate, event.value)
            if result is None:
                continue
            record, new_state, fired = result
            for alert in fired:
                if not (await already_published()).add(alert.id):
                    continue
                # Wait for the broker's ack before the state records that the
                # alert went out: a crash in between then repeats the alert
                # (dropped above by its id) instead of losing it.
                delivery = await alerts_topic.send(key=alert.story_id.encode(),
                                                   value=to_bytes(alert))
                await delivery
                m.alerts.labels(rule=alert.rule, severity=alert.severity).inc()
                if webhook is not None:
                    webhook.offer(alert)
                latency = time.time() - record.article.received_at.timestamp()
                counted.latency_to_alert.observe(max(latency, 0.0))
            table[record.story_id.encode()] = to_bytes(new_state)
            counted_evaluated.inc()

    # Story state would otherwise grow forever on an endless stream: a story
    # not seen for WIREWATCH_STORY_TTL_HOURS (of article time, relative to the
    # newest story of this worker's partitions) is dropped. Only the active
    # partitions' keys are visited, so a rebalance cannot make us touch
    # another worker's stories.
    @ctx.app.timer(EXPIRE_CHECK_SECONDS)
    async def expire_old_stories() -> None:
        try:
            await _expire_old_stories()
        except Exception:  # noqa: BLE001 - housekeeping must never stop the worker
            log.exception("alerts: expiring old stories failed; will try again")

    async def _expire_old_stories() -> None:
        seen: list[tuple[bytes, datetime]] = []
        for number, (key, raw) in enumerate(list(table.items())):
            if raw is not None:
                seen.append((key, record_from_bytes(alerts.StoryState, raw).last_seen))
            if number % 500 == 499:
                await asyncio.sleep(0)  # keep the loop responsive
        if not seen:
            return
        cutoff = max(moment for _, moment in seen) - timedelta(hours=settings.story_ttl_hours)
        for key, moment in seen:
            if moment < cutoff:
                table.pop(key, None)

    @ctx.app.timer(RELOAD_CHECK_SECONDS)
    async def reload_rules_if_changed() -> None:
        book.reload()

    @ctx.app.task
    async def reload_rules_on_sighup() -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGHUP, lambda: book.reload(force=True))

    return alerts_agent

