"""Watching alerts: tail the alerts topic and print each alert, pretty or as JSON.

Used by ``wirewatch alerts`` and by ``wirewatch run``. Alert ids are
deterministic, so an alert that reaches the topic twice (a worker re-processing
after a crash, at-least-once) is printed once.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from agents import kafka
from agents.recent import RecentIds
from agents.settings import Settings
from pipeline.codec import alert_from_bytes, to_bytes
from pipeline.errors import InvalidRecord
from pipeline.records import Alert

log = logging.getLogger(__name__)
SEVERITIES = ("info", "warning", "critical")
COLOURS = {"info": "cyan", "warning": "yellow", "critical": "bold red"}


def format_alert(alert: Alert) -> str:
    """One alert as rich markup: severity, rule, summary, headline, facts."""
    colour = COLOURS.get(alert.severity, "white")
    when = alert.created_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    lines = [
        f"[{colour}]{alert.severity.upper():8}[/] [bold]{escape(alert.rule)}[/]  {when}Z  "
        f"story {escape(alert.story_id)}  ({alert.sources} source{'s' * (alert.sources != 1)})",
        f"  {escape(alert.summary or alert.headline)}",
    ]
    if alert.headline and alert.summary:
        lines.append(f"  [dim]{escape(alert.headline)}[/]")
    for fact in alert.facts:
        lines.append(f"  - {escape(fact.detail)}")
        if fact.sentence:
            lines.append(f"    [dim]\u201c{escape(fact.sentence.strip())}\u201d[/]")
    return "\n".join(lines)


async def tail_alerts(settings: Settings, *, as_json: bool = False,
                      since: datetime | None = None, min_severity: str = "info",
                      from_beginning: bool = True, idle_exit: float | None = None,
                      out: TextIO = sys.stdout,
                      on_alert: Callable[[Alert], None] | None = None) -> int:
    """Print alerts as they arrive; return how many were printed.

    ``idle_exit`` stops after that many seconds without a new alert (None:
    run until cancelled).
    """
    await kafka.create_topics(settings)  # or the consumer auto-creates alerts with 1 partition
    consumer = kafka.consumer(settings, settings.topics.alerts,
                              auto_offset_reset="earliest" if from_beginning else "latest")
    console = Console(file=out, highlight=False, soft_wrap=True)
    threshold = SEVERITIES.index(min_severity)
    repeats = RecentIds()
    printed = 0
    await consumer.start()
    try:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for message in records:
                    last = loop.time()
                    try:
                        alert = alert_from_bytes(message.value)
                    except InvalidRecord as exc:
                        log.warning("alerts: skipped an unreadable record at offset %d: %s",
                                    message.offset, exc)
                        continue
                    if (not repeats.add(alert.id)
                            or SEVERITIES.index(alert.severity) < threshold
                            or (since is not None and alert.created_at < since)):
                        continue
                    printed += 1
                    if on_alert is not None:
                        on_alert(alert)
                    if as_json:
                        out.write(to_bytes(alert).decode() + "\n")
                        out.flush()
                    else:
                        console.print(format_alert(alert))
            if idle_exit is not None and loop.time() - last > idle_exit:
                return printed
    finally:
        await consumer.stop()
