"""``wirewatch run``: the whole service on one machine.

Starts the embedded broker when none is configured, then the stage agents,
a replay of the seed articles and an alert printer, all in one worker
process; Ctrl-C (or ``--exit-after``) stops them in order, broker last.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from agents.alerts_tail import tail_alerts
from agents.app import Context
from agents.embedded import EmbeddedBroker
from agents.replay import replay
from agents.settings import Settings
from agents.worker import run_worker


#: The demo's replay rate. articles.raw has several partitions, so articles
#: sent at once may be ingested in any order; the seed story's updates (a toll
#: rising 5 -> 12 -> 40) only read as a story when they arrive in order, as on
#: the wire, where they are hours apart.
DEMO_RATE = 2.0


def run_service(settings: Settings, args: argparse.Namespace) -> int:
    console = Console(stderr=True, highlight=False)
    seeds = args.seeds or [Path(__file__).resolve().parent.parent / "seeds"]
    broker = None
    workdir = None
    if settings.embedded:
        broker = EmbeddedBroker.start()
        workdir = tempfile.TemporaryDirectory(prefix="wirewatch-")
        # The embedded broker keeps data in memory only, so local table
        # state from an earlier run would not match it: use a fresh folder.
        settings = settings.replace(broker=broker.url, broker_kind="tansu",
                                    data_dir=Path(workdir.name))
        console.print(f"[bold]wirewatch[/]: embedded Kafka-compatible broker (Tansu) on "
                      f"{broker.bootstrap}; it stops when this command stops.")
    else:
        console.print(f"[bold]wirewatch[/]: using broker {settings.broker}")

    contexts: list[Context] = []

    async def replay_seeds() -> None:
        if args.no_replay:
            return
        # Wait until the worker has joined its group and been given its
        # partitions: articles queued before that are all taken at once, in
        # any order, and the seed story's updates would arrive scrambled.
        while not contexts or not contexts[0].app.tables.recovery.completed.is_set():
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)
        stats = await replay(settings, seeds, rate=args.rate or DEMO_RATE)
        console.print(f"[bold]wirewatch[/]: replayed {stats.sent} articles to "
                      f"{settings.topics.raw} ({len(stats.errors)} errors); alerts follow as "
                      "the stages process them. Ctrl-C to stop.")

    async def print_alerts() -> None:
        await tail_alerts(settings, as_json=args.json, from_beginning=broker is not None)

    async def stop_later() -> None:
        if args.exit_after:
            await asyncio.sleep(args.exit_after)
            os.kill(os.getpid(), signal.SIGTERM)  # the worker's own clean shutdown

    def ready(context: Context, metrics_port: int) -> None:
        contexts.append(context)
        console.print(f"[bold]wirewatch[/]: metrics on http://{settings.metrics_host}:"
                      f"{metrics_port}/metrics; starting the stage agents (takes ~10 s; "
                      "the first start after an install also compiles the de-duplication "
                      "kernels, ~18 s more)...")

    try:
        run_worker(settings, jobs=[("alert printer", print_alerts), ("replay", replay_seeds),
                                   ("exit timer", stop_later)],
                   loglevel=args.log_level, on_ready=ready)
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        if broker is not None:
            broker.stop()
        if workdir is not None:
            workdir.cleanup()
        sys.stderr.flush()
    return 0
